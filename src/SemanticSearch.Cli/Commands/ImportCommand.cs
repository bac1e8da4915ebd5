using System.CommandLine;
using SemanticSearch.Core;
using SemanticSearch.Engine;
using SemanticSearch.Engine.Indexing;
using SemanticSearch.Engine.Models;
using SemanticSearch.Engine.Storage;

namespace SemanticSearch.Cli.Commands;

/// <summary><c>semsearch import &lt;file.jsonl&gt; --index &lt;name&gt; [--model &lt;id&gt;]</c></summary>
internal static class ImportCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("file") { Description = "JSON Lines file, one document per line: {\"id\", \"title\"?, \"text\", \"metadata\"?, \"vector\"?}; '-' reads standard input." };
        var index = CommonOptions.Index();
        var json = CommonOptions.Json();
        var wait = CommonOptions.Wait();
        var model = new Option<string?>("--model")
        {
            Description = "Embedding model: for a new index, a profile id (see 'semsearch models list'), a model directory, or 'none' for BM25 only (default: the strongest model available); " +
                          "for an existing index, the model it must have been built with (refused, naming both, when it was built with another).",
        };
        var commitEvery = new Option<int>("--commit-every") { Description = "Commit after this many written documents (a killed import loses at most the uncommitted tail; running it again goes on).", DefaultValueFactory = _ => 1000 };
        var commitInterval = new Option<double>("--commit-interval") { Description = "...or after this many seconds, whichever comes first.", DefaultValueFactory = _ => 10 };

        var cmd = new Command("import", "Import documents from a JSON Lines file. A line's vector is stored as given (the index's one vector space, L2-normalised); a line without one is embedded with the index's model. " +
            "Bad lines are reported with their line number and skipped. Running it again skips documents already there with the same content and re-writes changed ones.")
        {
            file, index, json, wait, model, commitEvery, commitInterval,
        };
        cmd.SetAction(parse => CommonOptions.Run(parse, ct =>
        {
            var settings = new IndexSettings
            {
                CommitEveryDocuments = parse.GetValue(commitEvery) is > 0 and var every
                    ? every
                    : throw new UsageException("--commit-every", $"must be a positive number of documents (got {parse.GetValue(commitEvery)})."),
                CommitInterval = parse.GetValue(commitInterval) is > 0 and < 1e7 and var seconds
                    ? TimeSpan.FromSeconds(seconds)
                    : throw new UsageException("--commit-interval", $"must be a positive number of seconds (got {parse.GetValue(commitInterval)})."),
            };
            var path = parse.GetValue(file)!;
            var stdin = path == "-";
            if (!stdin && !File.Exists(path))
            {
                throw new NotFoundException(Directory.Exists(path) ? $"not a file: {path}" : $"file not found: {path}");
            }
            var directory = IndexLocation.Resolve(parse.GetValue(index)!);
            var resolver = new ModelResolver();
            var requested = parse.GetValue(model);
            var existing = File.Exists(Path.Combine(directory, IndexManifest.FileName)) ? IndexManifest.Read(directory) : null;
            // an existing index keeps its spaces; a model named for it must be the one it was built with
            using var encoders = existing is not null && requested is null
                ? ModelLoading.OpenRecordedSpaces(resolver, existing, ct)
                : ModelLoading.OpenEncoders(resolver, requested, quiet: false, ct);
            if (existing is not null && requested is not null)
            {
                CheckModel(directory, existing, encoders.Encoders);
            }
            SemanticIndex semanticIndex;
            try
            {
                semanticIndex = SemanticIndex.OpenOrCreate(directory, settings, encoders.Encoders, CommonOptions.Writer(parse, wait, "semsearch import", ct));
            }
            catch (IndexLockedException e)
            {
                throw CommonOptions.ExplainLock(e, directory, null);
            }
            using var _ = semanticIndex;
            using var input = stdin ? Console.OpenStandardInput() : new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
            long? length = stdin ? null : input.Length;
            var import = new JsonLinesImport(semanticIndex, settings);
            var report = new ProgressDisplay().RunImport("importing", length, p => import.Run(input, length, new Progress(p), ct));

            if (parse.GetValue(json))
            {
                CommonOptions.PrintJson(new
                {
                    index = directory,
                    file = stdin ? "-" : Path.GetFullPath(path),
                    report.Lines,
                    accepted = report.Added + report.Updated,
                    report.Added,
                    report.Updated,
                    report.Unchanged,
                    skipped = report.Unchanged,
                    rejectedCount = report.RejectedCount,
                    rejected = report.Rejected,
                    report.ChunksWritten,
                    report.BytesRead,
                    elapsedSeconds = Math.Round(report.Elapsed.TotalSeconds, 3),
                    commits = report.Commits,
                    commitSeconds = Math.Round(report.CommitTime.TotalSeconds, 3),
                    longestCommitSeconds = Math.Round(report.LongestCommit.TotalSeconds, 3),
                });
            }
            else
            {
                foreach (var r in report.Rejected)
                {
                    Console.Error.WriteLine($"rejected line {r.Line}: {r.Message}");
                }
                if (report.RejectedCount > report.Rejected.Count)
                {
                    Console.Error.WriteLine($"… and {report.RejectedCount - report.Rejected.Count} more rejected lines");
                }
                Console.WriteLine($"imported {(stdin ? "standard input" : path)} into {directory}: {report.Lines} lines, {report.Added} added, {report.Updated} updated, " +
                    $"{report.Unchanged} unchanged, {report.RejectedCount} rejected, {report.ChunksWritten} chunks written in {report.Elapsed.TotalSeconds:F1} s");
            }
            return report.RejectedCount > 0 ? ExitCodes.Partial : ExitCodes.Ok;
        }));
        return cmd;
    }

    // `--model X` on an existing index: the engine matches encoders to spaces; this says plainly when they differ.
    private static void CheckModel(string directory, IndexManifest manifest, IReadOnlyList<Core.Encoding.ITextEncoder> encoders)
    {
        var have = manifest.Spaces.Select(s => s.Model.ModelId).ToList();
        var want = encoders.Select(e => e.Info.ModelId).ToList();
        if (!have.Order(StringComparer.Ordinal).SequenceEqual(want.Order(StringComparer.Ordinal), StringComparer.Ordinal))
        {
            static string Name(List<string> ids) => ids.Count == 0 ? "none (BM25 only)" : string.Join(", ", ids);
            throw new ModelMismatchException($"index {directory} was built with model {Name(have)}, not {Name(want)} (--model); leave --model out to use the index's, or import into a new index.");
        }
    }

    // Synchronous IProgress: System.Progress<T> posts to the thread pool, which would reorder and lag updates.
    private sealed class Progress(Action<ImportProgress> report) : IProgress<ImportProgress>
    {
        public void Report(ImportProgress value) => report(value);
    }
}
