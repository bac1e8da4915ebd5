using System.CommandLine;
using SemanticSearch.Engine;
using SemanticSearch.Engine.Storage;

namespace SemanticSearch.Cli.Commands;

/// <summary><c>semsearch stats --index &lt;name&gt;</c></summary>
internal static class StatsCommand
{
    public static Command Create()
    {
        var index = CommonOptions.Index();
        var json = CommonOptions.Json();
        var cmd = new Command("stats", "Show what an index holds: documents, chunks, bytes, sources (documents and chunks of each), vector spaces (model, vectors, file size), creation time.") { index, json };
        cmd.SetAction(parse => CommonOptions.Run(parse, _ =>
        {
            using var semanticIndex = SemanticIndex.OpenReadOnly(IndexLocation.Resolve(parse.GetValue(index)!));
            var s = semanticIndex.Stats();
            if (parse.GetValue(json))
            {
                CommonOptions.PrintJson(new
                {
                    s.Directory,
                    s.Documents,
                    s.Chunks,
                    s.Bytes,
                    model = s.Model,
                    spaces = s.Spaces,
                    sources = s.Sources.Select(SourcesCommand.ToJson),
                    s.CreatedUtc,
                    s.UpdatedUtc,
                    s.FormatVersion,
                    manifest = semanticIndex.Manifest,
                });
                return ExitCodes.Ok;
            }
            Console.WriteLine($"index      {s.Directory}");
            Console.WriteLine($"documents  {s.Documents:N0}");
            Console.WriteLine($"chunks     {s.Chunks:N0}");
            Console.WriteLine($"bytes      {s.Bytes:N0}");
            Console.WriteLine($"model      {s.Model ?? "none (lexical only)"}");
            foreach (var src in s.Sources)
            {
                Console.WriteLine($"source     {SourcesCommand.Describe(src)}");
            }
            foreach (var sp in s.Spaces)
            {
                var windows = sp.WindowTokens is { } w ? $", windows of {w} tokens" : "";
                Console.WriteLine($"space      {sp.Name}: {sp.Model} ({sp.Revision}), {sp.Dimensions} dims{windows}, {sp.Vectors:N0} vectors, {sp.FileBytes / 1048576.0:F1} MiB, {sp.DeletedFraction:P1} deleted");
            }
            Console.WriteLine($"created    {s.CreatedUtc:u}");
            Console.WriteLine($"updated    {s.UpdatedUtc:u}");
            Console.WriteLine($"format     v{s.FormatVersion}");
            return ExitCodes.Ok;
        }));
        return cmd;
    }
}
