using System.CommandLine;
using SemanticSearch.Core;
using SemanticSearch.Core.Chunking;
using SemanticSearch.Engine;
using SemanticSearch.Engine.Indexing;
using SemanticSearch.Engine.Models;
using SemanticSearch.Engine.Storage;

namespace SemanticSearch.Cli.Commands;

/// <summary><c>semsearch index &lt;folder&gt; --index &lt;name&gt;</c></summary>
internal static class IndexCommand
{
    public static Command Create()
    {
        var folder = new Argument<string>("folder") { Description = "Folder to index (recursively)." };
        var index = CommonOptions.Index();
        var json = CommonOptions.Json();
        var wait = CommonOptions.Wait();
        var maxFileMb = new Option<double>("--max-file-mb") { Description = "Skip files larger than this many megabytes.", DefaultValueFactory = _ => 50 };
        var chunkTokens = new Option<int>("--chunk-tokens") { Description = "Most tokens per chunk (for a new index).", DefaultValueFactory = _ => 512 };
        var overlap = new Option<int>("--chunk-overlap") { Description = "Tokens repeated between consecutive chunks (for a new index).", DefaultValueFactory = _ => 64 };
        var model = new Option<string?>("--model")
        {
            Description = "Embedding model for a new index: a profile id (see 'semsearch models list'), a model directory, or 'none' for BM25 only; several, comma-separated " +
                          "(e.g. arctic-embed-xs,all-MiniLM-L6-v2), give it one vector space each, all fused with BM25. Default: the strongest model available. " +
                          "An existing index keeps its spaces (add or remove one with 'semsearch spaces').",
        };
        var compactAt = new Option<double>("--compact-threshold") { Description = "Rebuild the vector index when more than this share of it is deleted.", DefaultValueFactory = _ => 0.2 };
        var commitEvery = new Option<int>("--commit-every") { Description = "Commit after this many documents (a killed job loses at most the uncommitted tail).", DefaultValueFactory = _ => 1000 };
        var commitInterval = new Option<double>("--commit-interval") { Description = "...or after this many seconds, whichever comes first.", DefaultValueFactory = _ => 10 };

        var cmd = new Command("index", "Index the supported files of a folder (txt, md, html, pdf, docx, json, csv). Re-running it only processes what changed.")
        {
            folder, index, json, wait, model, maxFileMb, chunkTokens, overlap, commitEvery, commitInterval, compactAt,
        };
        cmd.SetAction(parse => CommonOptions.Run(parse, ct =>
        {
            var settings = new IndexSettings
            {
                Chunking = new ChunkingOptions(parse.GetValue(chunkTokens), parse.GetValue(overlap)),
                MaxFileBytes = (long)(parse.GetValue(maxFileMb) * 1024 * 1024),
                CommitEveryDocuments = parse.GetValue(commitEvery),
                CommitInterval = parse.GetValue(commitInterval) is > 0 and < 1e7 and var seconds
                    ? TimeSpan.FromSeconds(seconds)
                    : throw new UsageException("--commit-interval", $"must be a positive number of seconds (got {parse.GetValue(commitInterval)})."),
                CompactDeletedFraction = parse.GetValue(compactAt),
            };
            var source = parse.GetValue(folder)!;
            if (!Directory.Exists(source))
            {
                throw new NotFoundException(File.Exists(source) ? $"not a folder: {source}" : $"folder not found: {source}");
            }
            var directory = IndexLocation.Resolve(parse.GetValue(index)!);
            var resolver = new ModelResolver();
            var requested = parse.GetValue(model);
            var existing = File.Exists(Path.Combine(directory, IndexManifest.FileName)) ? IndexManifest.Read(directory) : null;
            // An existing index keeps its spaces, each model in the variant it was built with.
            using var encoders = existing is not null && requested is null
                ? ModelLoading.OpenRecordedSpaces(resolver, existing, ct)
                : ModelLoading.OpenEncoders(resolver, requested, quiet: false, ct);
            SemanticIndex semanticIndex;
            try
            {
                semanticIndex = SemanticIndex.OpenOrCreate(directory, settings, encoders.Encoders, CommonOptions.Writer(parse, wait, "semsearch index", ct));
            }
            catch (IndexLockedException e)
            {
                throw CommonOptions.ExplainLock(e, directory, source);
            }
            using var _ = semanticIndex;
            var indexer = new FolderIndexer(semanticIndex, settings);
            var report = new ProgressDisplay().Run("indexing", report =>
                indexer.Run(parse.GetValue(folder)!, new Progress(p => report("files", p.Processed, p.Total)), ct));

            if (parse.GetValue(json))
            {
                CommonOptions.PrintJson(new
                {
                    index = directory,
                    report.Folder,
                    report.FilesSeen,
                    report.Added,
                    report.Updated,
                    report.Unchanged,
                    report.Removed,
                    report.ChunksWritten,
                    skipped = report.Skipped,
                    elapsedSeconds = Math.Round(report.Elapsed.TotalSeconds, 3),
                });
            }
            else
            {
                foreach (var s in report.Skipped)
                {
                    Console.Error.WriteLine($"skipped {s.Path}: {s.Reason}");
                }
                Console.WriteLine($"indexed {report.Folder} into {directory}: {report.FilesSeen} files, {report.Added} added, {report.Updated} updated, " +
                    $"{report.Unchanged} unchanged, {report.Removed} removed, {report.Skipped.Count} skipped, {report.ChunksWritten} chunks written in {report.Elapsed.TotalSeconds:F1} s");
            }
            return report.Skipped.Count > 0 ? ExitCodes.Partial : ExitCodes.Ok;
        }));
        return cmd;
    }

    // Synchronous IProgress: System.Progress<T> posts to the thread pool, which would reorder and lag updates.
    private sealed class Progress(Action<IndexingProgress> report) : IProgress<IndexingProgress>
    {
        public void Report(IndexingProgress value) => report(value);
    }
}
