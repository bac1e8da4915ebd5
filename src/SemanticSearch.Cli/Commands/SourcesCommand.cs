using System.CommandLine;
using SemanticSearch.Core;
using SemanticSearch.Engine;
using SemanticSearch.Engine.Indexing;
using SemanticSearch.Engine.Models;
using SemanticSearch.Engine.Storage;

namespace SemanticSearch.Cli.Commands;

/// <summary>
/// <c>semsearch sources list|remove --index &lt;name&gt;</c>: the named sources of an index's documents (folders, API
/// uploads), each with its own documents.
/// </summary>
internal static class SourcesCommand
{
    public static Command Create()
    {
        var cmd = new Command("sources", "List the sources of an index's documents (folders, API uploads) or remove one with its documents.");
        cmd.Subcommands.Add(List());
        cmd.Subcommands.Add(Remove());
        return cmd;
    }

    /// <summary>A source as <c>--json</c> shows it (in <c>sources list</c> and <c>stats</c>).</summary>
    internal static object ToJson(SourceInfo s) => new
    {
        name = s.Name,
        kind = s.Kind,
        path = s.Path,
        idPrefix = s.IdPrefix,
        documents = s.Documents,
        chunks = s.Chunks,
        bytes = s.Bytes,
        lastIndexedUtc = s.LastIndexedUtc,
    };

    /// <summary>A source on one line.</summary>
    internal static string Describe(SourceInfo s) =>
        $"{s.Name} ({s.Kind}{(s.Path is { } p ? " " + p : string.Empty)}): {s.Documents:N0} documents, {s.Chunks:N0} chunks" +
        (s.IdPrefix.Length > 0 ? $", ids {s.IdPrefix}…" : string.Empty) +
        (s.LastIndexedUtc is { } t ? $", last indexed {t:u}" : ", never indexed");

    private static Command List()
    {
        var index = CommonOptions.Index();
        var json = CommonOptions.Json();
        var cmd = new Command("list", "Show each source: name, kind (folder, api, beir), path, documents, chunks, last indexed.") { index, json };
        cmd.SetAction(parse => CommonOptions.Run(parse, _ =>
        {
            using var semanticIndex = SemanticIndex.OpenReadOnly(IndexLocation.Resolve(parse.GetValue(index)!));
            var sources = semanticIndex.Sources();
            if (parse.GetValue(json))
            {
                CommonOptions.PrintJson(new { index = semanticIndex.Directory, sources = sources.Select(ToJson) });
                return ExitCodes.Ok;
            }
            if (sources.Count == 0)
            {
                Console.WriteLine($"{semanticIndex.Directory} has no sources (no documents)");
            }
            foreach (var s in sources)
            {
                Console.WriteLine(Describe(s));
            }
            return ExitCodes.Ok;
        }));
        return cmd;
    }

    private static Command Remove()
    {
        var name = new Argument<string>("source") { Description = "The name of the source to remove (see 'semsearch sources list')." };
        var index = CommonOptions.Index();
        var json = CommonOptions.Json();
        var wait = CommonOptions.Wait();
        var where = new Option<string?>("--model") { Description = "Where to find the index's models when they are not in the model cache (model directories, comma-separated)." };
        var cmd = new Command("remove", "Remove a source and every document of it, in one commit; the other sources' documents are not touched.") { name, index, json, wait, where };
        cmd.SetAction(parse => CommonOptions.Run(parse, ct =>
        {
            var directory = IndexLocation.Resolve(parse.GetValue(index)!);
            var manifest = IndexManifest.Read(directory);
            var sourceName = parse.GetValue(name)!;
            using (var reader = SemanticIndex.OpenReadOnly(directory))
            {
                // before any model is loaded: a misspelled name costs nothing
                var sources = reader.Sources();
                if (!sources.Any(s => string.Equals(s.Name, sourceName, StringComparison.OrdinalIgnoreCase)))
                {
                    throw new NotFoundException($"index {directory} has no source '{sourceName}' (its sources: {(sources.Count == 0 ? "none" : string.Join(", ", sources.Select(s => s.Name)))})");
                }
            }
            using var models = ModelLoading.OpenRecordedSpaces(new ModelResolver(), manifest, ct, parse.GetValue(where));
            SemanticIndex semanticIndex;
            try
            {
                semanticIndex = SemanticIndex.OpenOrCreate(directory, new IndexSettings(), models.Encoders, CommonOptions.Writer(parse, wait, "semsearch sources remove", ct));
            }
            catch (IndexLockedException e)
            {
                throw CommonOptions.ExplainLock(e, directory, null);
            }
            using var _ = semanticIndex;
            var removed = semanticIndex.RemoveSource(sourceName);
            if (parse.GetValue(json))
            {
                CommonOptions.PrintJson(new { index = directory, removed = ToJson(removed), sources = semanticIndex.Sources().Select(ToJson) });
            }
            else
            {
                Console.WriteLine($"removed source {removed.Name} from {directory}: {removed.Documents:N0} documents, {removed.Chunks:N0} chunks");
            }
            return ExitCodes.Ok;
        }));
        return cmd;
    }
}
