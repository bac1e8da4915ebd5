using System.CommandLine;
using SemanticSearch.Engine.Storage;

namespace SemanticSearch.Cli.Commands;

/// <summary><c>semsearch verify --index &lt;name&gt;</c>: checksums and cross-store agreement; exit 0 clean, 1 problems.</summary>
internal static class VerifyCommand
{
    public static Command Create()
    {
        var index = CommonOptions.Index();
        var json = CommonOptions.Json();
        var cmd = new Command("verify", "Check an index: every checksum (manifest, vector file, Lucene segments, metadata records) and that its three stores hold the same chunks. Exit 0 when clean, 1 when problems are found.")
        {
            index, json,
        };
        cmd.SetAction(parse => CommonOptions.Run(parse, _ =>
        {
            var report = IndexVerifier.Verify(IndexLocation.Resolve(parse.GetValue(index)!));
            if (parse.GetValue(json))
            {
                CommonOptions.PrintJson(new
                {
                    index = report.Directory,
                    report.Generation,
                    report.Documents,
                    report.Chunks,
                    report.Clean,
                    report.Problems,
                });
            }
            else
            {
                foreach (var p in report.Problems)
                {
                    Console.WriteLine($"{p.Store}: {p.Path}: {p.Message}");
                }
                Console.WriteLine(report.Clean
                    ? $"ok: {report.Directory} (generation {report.Generation}, {report.Documents} documents, {report.Chunks} chunks)"
                    : $"{report.Problems.Count} problem(s) in {report.Directory}; " + Advice(report, parse.GetValue(index)!));
            }
            return report.Clean ? ExitCodes.Ok : ExitCodes.Fatal;
        }));
        return cmd;
    }

    // Repair rebuilds the lexical and vector stores from the metadata; it cannot rebuild the metadata (the source of
    // truth) or the manifest (which records the settings and model the index was built with).
    private static string Advice(VerificationReport report, string index) =>
        report.Problems.Any(p => p.Store is "manifest" or "metadata")
            ? $"the {string.Join(" and ", report.Problems.Select(p => p.Store).Where(s => s is "manifest" or "metadata").Distinct())} cannot be rebuilt by 'repair': restore the index from a backup, or index the sources again into a new index"
            : $"'semsearch repair --index {index}' rebuilds damaged lexical or vector stores from the metadata";
}
