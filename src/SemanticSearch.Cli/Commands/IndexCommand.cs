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
        var include = new Option<string[]>("--include")
        {
            Description = "Index only files matching this glob (gitignore syntax, relative to the folder, e.g. '*.md' or 'docs/**'); repeatable.",
        };
        var exclude = new Option<string[]>("--exclude")
        {
            Description = "Leave out entries matching this glob (gitignore syntax, over the defaults and .semsearchignore files); repeatable.",
        };
        var sourceName = new Option<string?>("--source")
        {
            Description = "Name of the source this folder is in the index (default: the folder's name; a folder keeps the name it was first indexed under). " +
                          "The first folder of an index keeps ids relative to it; a later folder's ids start with '<source>/'.",
        };
        var strict = new Option<bool>("--strict")
        {
            Description = "Exit 2 whenever a file is skipped, not only when a skip is new since the last run.",
        };

        var cmd = new Command("index", "Index the supported files of a folder (txt, rst, md, html, pdf, docx, json, csv). Re-running it only processes what changed. " +
            "Hidden entries, version-control folders, node_modules and common build outputs are left out by default; a .semsearchignore file (gitignore syntax) in any folder adds or lifts exclusions.")
        {
            folder, index, json, wait, model, maxFileMb, chunkTokens, overlap, commitEvery, commitInterval, compactAt, include, exclude, sourceName, strict,
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
            var filter = new FolderFilter(parse.GetValue(include) ?? [], parse.GetValue(exclude) ?? []);
            filter.Validate();
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
            var indexer = new FolderIndexer(semanticIndex, settings) { Filter = filter, SourceName = parse.GetValue(sourceName) };
            var report = new ProgressDisplay().RunIndexing("indexing", report =>
                indexer.Run(parse.GetValue(folder)!, new Progress(report), ct));

            if (parse.GetValue(json))
            {
                CommonOptions.PrintJson(new
                {
                    index = directory,
                    report.Folder,
                    source = report.Source,
                    idPrefix = report.IdPrefix,
                    report.FilesSeen,
                    report.Added,
                    report.Updated,
                    report.Unchanged,
                    report.Removed,
                    report.ChunksWritten,
                    report.TokensEmbedded,
                    skipped = report.Skipped,
                    report.NewlySkipped,
                    skippedCounts = CountBy(report.Skipped, s => s.Kind),
                    ignored = report.Ignored,
                    ignoredCounts = CountBy(report.Ignored, i => i.Reason),
                    fallbackDecoded = report.FallbackDecoded,
                    elapsedSeconds = Math.Round(report.Elapsed.TotalSeconds, 3),
                });
            }
            else
            {
                foreach (var s in report.Skipped)
                {
                    Console.Error.WriteLine($"skipped {s.Path}: {s.Reason}{(s.Known ? " (as on the last run)" : string.Empty)}");
                }
                Console.WriteLine($"indexed {report.Folder} (source {report.Source}{(report.IdPrefix.Length > 0 ? $", ids {report.IdPrefix}…" : string.Empty)}) into {directory}: {report.FilesSeen} files, {report.Added} added, {report.Updated} updated, " +
                    $"{report.Unchanged} unchanged, {report.Removed} removed, {report.Skipped.Count} skipped, {report.ChunksWritten} chunks written in {report.Elapsed.TotalSeconds:F1} s");
                if (report.Skipped.Count > 0)
                {
                    Console.WriteLine($"  skipped: {Counts(report.Skipped, s => s.Kind)} ({report.NewlySkipped} new since the last run)");
                }
                if (report.Ignored.Count > 0)
                {
                    Console.WriteLine($"  ignored: {Counts(report.Ignored, i => i.Reason)} (--json lists each)");
                }
                if (report.FallbackDecoded.Count > 0)
                {
                    Console.WriteLine($"  not valid UTF-8, read as {report.FallbackDecoded[0].Encoding}: {string.Join(", ", report.FallbackDecoded.Take(10).Select(f => f.Path))}" +
                        (report.FallbackDecoded.Count > 10 ? $" and {report.FallbackDecoded.Count - 10} more" : string.Empty));
                }
            }
            return ExitCode(report, parse.GetValue(strict));
        }));
        return cmd;
    }

    /// <summary>
    /// 2 when a file was skipped that the previous run of this folder did not skip (new, changed since, or failing for
    /// another reason), or with <c>--strict</c> when any file was skipped; else 0. Ignored entries never count.
    /// </summary>
    internal static int ExitCode(IndexingReport report, bool strict) =>
        (strict ? report.Skipped.Count : report.NewlySkipped) > 0 ? ExitCodes.Partial : ExitCodes.Ok;

    private static SortedDictionary<string, int> CountBy<T>(IEnumerable<T> items, Func<T, string> key)
    {
        var counts = new SortedDictionary<string, int>(StringComparer.Ordinal);
        foreach (var item in items)
        {
            counts[key(item)] = counts.GetValueOrDefault(key(item)) + 1;
        }
        return counts;
    }

    private static string Counts<T>(IEnumerable<T> items, Func<T, string> key) =>
        string.Join(", ", CountBy(items, key).Select(kv => $"{kv.Value} {kv.Key}"));

    // Synchronous IProgress: System.Progress<T> posts to the thread pool, which would reorder and lag updates.
    private sealed class Progress(Action<IndexingProgress> report) : IProgress<IndexingProgress>
    {
        public void Report(IndexingProgress value) => report(value);
    }
}
