using System.CommandLine;
using SemanticSearch.Engine;
using SemanticSearch.Engine.Models;
using SemanticSearch.Engine.Storage;

namespace SemanticSearch.Cli.Commands;

/// <summary><c>semsearch repair --index &lt;name&gt;</c>: rebuilds damaged derived stores (lexical, vectors) from the metadata.</summary>
internal static class RepairCommand
{
    public static Command Create()
    {
        var index = CommonOptions.Index();
        var json = CommonOptions.Json();
        var wait = CommonOptions.Wait();
        var model = new Option<string?>("--model") { Description = "Where to find the index's models when they are not in the model cache (model directories, comma-separated)." };
        var cmd = new Command("repair", "Rebuild an index's lexical store and vectors from its metadata (the source of truth) when they are damaged or disagree with it; vectors are re-embedded with the index's model.")
        {
            index, json, wait, model,
        };
        cmd.SetAction(parse => CommonOptions.Run(parse, ct =>
        {
            var directory = IndexLocation.Resolve(parse.GetValue(index)!);
            var manifest = IndexManifest.Read(directory);
            using var encoders = ModelLoading.OpenRecordedSpaces(new ModelResolver(), manifest, ct, parse.GetValue(model));
            IReadOnlyList<string> rebuilt;
            try
            {
                rebuilt = SemanticIndex.Repair(directory, encoders.Encoders, CommonOptions.Writer(parse, wait, "semsearch repair", ct));
            }
            catch (IndexLockedException e)
            {
                throw CommonOptions.ExplainLock(e, directory, null);
            }
            var after = IndexVerifier.Verify(directory);
            if (parse.GetValue(json))
            {
                CommonOptions.PrintJson(new { index = directory, rebuilt, clean = after.Clean, after.Problems });
            }
            else
            {
                Console.WriteLine(rebuilt.Count == 0
                    ? $"nothing to rebuild in {directory}"
                    : $"rebuilt {string.Join(" and ", rebuilt)} of {directory}");
                foreach (var p in after.Problems)
                {
                    Console.WriteLine($"still wrong: {p.Store}: {p.Path}: {p.Message}");
                }
            }
            return after.Clean ? ExitCodes.Ok : ExitCodes.Fatal;
        }));
        return cmd;
    }
}
