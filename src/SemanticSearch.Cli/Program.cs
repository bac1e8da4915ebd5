using System.CommandLine;
using SemanticSearch.Cli.Commands;

namespace SemanticSearch.Cli;

/// <summary>Entry point of <c>semsearch</c>.</summary>
internal static class Program
{
    private static int Main(string[] args)
    {
        var root = new RootCommand("semsearch — index folders and search them by meaning and by keywords.");
        root.Options.Add(CommonOptions.Verbose);
        root.Subcommands.Add(IndexCommand.Create());
        root.Subcommands.Add(ImportCommand.Create());
        root.Subcommands.Add(SearchCommand.Create());
        root.Subcommands.Add(StatsCommand.Create());
        root.Subcommands.Add(SpacesCommand.Create());
        root.Subcommands.Add(SourcesCommand.Create());
        root.Subcommands.Add(EvalCommand.Create());
        root.Subcommands.Add(ModelsCommand.Create());
        root.Subcommands.Add(EmbedCommand.Create());
        root.Subcommands.Add(ServeCommand.Create());
        root.Subcommands.Add(VerifyCommand.Create());
        root.Subcommands.Add(RepairCommand.Create());
        var parse = root.Parse(args);
        // The parser's own error answer prints the whole help; ours prints the problem and that command's usage.
        if (parse.Errors.Count > 0)
        {
            return Usage.ReportParseErrors(parse);
        }
        return parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
    }
}
