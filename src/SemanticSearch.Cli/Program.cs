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
        root.Subcommands.Add(SearchCommand.Create());
        root.Subcommands.Add(StatsCommand.Create());
        root.Subcommands.Add(SpacesCommand.Create());
        root.Subcommands.Add(EvalCommand.Create());
        root.Subcommands.Add(ModelsCommand.Create());
        root.Subcommands.Add(EmbedCommand.Create());
        root.Subcommands.Add(ServeCommand.Create());
        root.Subcommands.Add(VerifyCommand.Create());
        root.Subcommands.Add(RepairCommand.Create());
        return root.Parse(args).Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
    }
}
