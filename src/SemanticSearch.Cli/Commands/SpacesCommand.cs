using System.CommandLine;
using SemanticSearch.Core;
using SemanticSearch.Engine;
using SemanticSearch.Engine.Indexing;
using SemanticSearch.Engine.Models;
using SemanticSearch.Engine.Storage;

namespace SemanticSearch.Cli.Commands;

/// <summary>
/// <c>semsearch spaces list|add|remove --index &lt;name&gt;</c>: the named vector spaces of an index, each a model's
/// embeddings of the same chunks, all fused with BM25 at query time.
/// </summary>
internal static class SpacesCommand
{
    public static Command Create()
    {
        var cmd = new Command("spaces", "List, add or remove the vector spaces of an index (one model each; a query fuses BM25 with every space).");
        cmd.Subcommands.Add(List());
        cmd.Subcommands.Add(Add());
        cmd.Subcommands.Add(Remove());
        return cmd;
    }

    private static Command List()
    {
        var index = CommonOptions.Index();
        var json = CommonOptions.Json();
        var cmd = new Command("list", "Show each vector space: name, model, windows, vectors, file size.") { index, json };
        cmd.SetAction(parse => CommonOptions.Run(parse, _ =>
        {
            using var semanticIndex = SemanticIndex.OpenReadOnly(IndexLocation.Resolve(parse.GetValue(index)!));
            var stats = semanticIndex.Stats();
            if (parse.GetValue(json))
            {
                CommonOptions.PrintJson(new { index = stats.Directory, spaces = stats.Spaces, fusion = semanticIndex.Manifest.Fusion });
                return ExitCodes.Ok;
            }
            if (stats.Spaces.Count == 0)
            {
                Console.WriteLine($"{stats.Directory} is lexical only (no vector spaces)");
                return ExitCodes.Ok;
            }
            foreach (var sp in stats.Spaces)
            {
                var windows = sp.WindowTokens is { } w ? $"windows of {w} tokens" : "one vector per chunk";
                var weight = semanticIndex.Manifest.Fusion?.WeightOf(sp.Name);
                Console.WriteLine($"{sp.Name}: {sp.Model} ({sp.Revision}), {sp.Dimensions} dims, {windows}, {sp.Vectors:N0} vectors, {sp.FileBytes / 1048576.0:F1} MiB, fusion weight {weight}");
            }
            return ExitCodes.Ok;
        }));
        return cmd;
    }

    private static Command Add()
    {
        var model = new Argument<string>("model") { Description = "The model of the new space: a profile id (see 'semsearch models list') or a model directory." };
        var index = CommonOptions.Index();
        var json = CommonOptions.Json();
        var wait = CommonOptions.Wait();
        var name = new Option<string?>("--name") { Description = "The space's name (default: the model id)." };
        var where = ModelsOption();
        var cmd = new Command("add", "Add a vector space: embed every chunk of the index with another model, touching nothing else; readers see it from its commit on.")
        {
            model, index, json, wait, name, where,
        };
        cmd.SetAction(parse => CommonOptions.Run(parse, ct =>
        {
            var directory = IndexLocation.Resolve(parse.GetValue(index)!);
            var manifest = IndexManifest.Read(directory);
            var resolver = new ModelResolver();
            using var existing = ModelLoading.OpenRecordedSpaces(resolver, manifest, ct, parse.GetValue(where));
            using var added = ModelLoading.OpenEncoders(resolver, parse.GetValue(model), quiet: true, ct);
            if (added.First is not { } encoder || added.Encoders.Count != 1)
            {
                throw new InvalidSettingException("model", "name one embedding model for the new space (not 'none', not a list).");
            }
            using var semanticIndex = OpenWriter(directory, existing, CommonOptions.Writer(parse, wait, "semsearch spaces add", ct));
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var space = new ProgressDisplay().Run($"space {encoder.Info.ModelId}", report =>
                semanticIndex.AddSpace(encoder, parse.GetValue(name), new Progress(p => report("chunks", p.Done, p.Total)), ct));
            var bytes = space.VectorFile is { } f ? new FileInfo(Path.Combine(directory, f)).Length : 0;
            if (parse.GetValue(json))
            {
                CommonOptions.PrintJson(new { index = directory, space, fileBytes = bytes, elapsedSeconds = Math.Round(clock.Elapsed.TotalSeconds, 3), fusion = semanticIndex.Manifest.Fusion });
            }
            else
            {
                Console.WriteLine($"added space {space.Name} ({space.Model.ModelId}) to {directory}: {space.VectorCount:N0} vectors, {bytes / 1048576.0:F1} MiB, in {clock.Elapsed.TotalSeconds:F1} s");
            }
            return ExitCodes.Ok;
        }));
        return cmd;
    }

    private static Command Remove()
    {
        var space = new Argument<string>("space") { Description = "The name of the space to remove (see 'semsearch spaces list')." };
        var index = CommonOptions.Index();
        var json = CommonOptions.Json();
        var wait = CommonOptions.Wait();
        var where = ModelsOption();
        var cmd = new Command("remove", "Remove a vector space and delete its files (the first space, whose tokenizer cut the chunks, stays).") { space, index, json, wait, where };
        cmd.SetAction(parse => CommonOptions.Run(parse, ct =>
        {
            var directory = IndexLocation.Resolve(parse.GetValue(index)!);
            var manifest = IndexManifest.Read(directory);
            var name = parse.GetValue(space)!;
            if (manifest.Space(name) is null)
            {
                throw new NotFoundException($"index {directory} has no vector space '{name}' (its spaces: {string.Join(", ", manifest.Spaces.Select(s => s.Name))})");
            }
            var resolver = new ModelResolver();
            using var existing = ModelLoading.OpenRecordedSpaces(resolver, manifest, ct, parse.GetValue(where));
            using var semanticIndex = OpenWriter(directory, existing, CommonOptions.Writer(parse, wait, "semsearch spaces remove", ct));
            semanticIndex.RemoveSpace(name);
            if (parse.GetValue(json))
            {
                CommonOptions.PrintJson(new { index = directory, removed = name, spaces = semanticIndex.Manifest.Spaces.Select(s => s.Name), fusion = semanticIndex.Manifest.Fusion });
            }
            else
            {
                Console.WriteLine($"removed space {name} from {directory}; its spaces: {string.Join(", ", semanticIndex.Manifest.Spaces.Select(s => s.Name))}");
            }
            return ExitCodes.Ok;
        }));
        return cmd;
    }

    // The index's writer with the model of every space it has; another writer's lock is explained on one line.
    private static SemanticIndex OpenWriter(string directory, ModelLoading.EncoderSet models, WriterOptions writer)
    {
        try
        {
            return SemanticIndex.OpenOrCreate(directory, new IndexSettings(), models.Encoders, writer);
        }
        catch (IndexLockedException e)
        {
            throw CommonOptions.ExplainLock(e, directory, null);
        }
    }

    private static Option<string?> ModelsOption() =>
        new("--model") { Description = "Where to find the index's models when they are not in the model cache (model directories, comma-separated)." };

    // Synchronous IProgress: System.Progress<T> posts to the thread pool, which would reorder and lag updates.
    private sealed class Progress(Action<SpaceProgress> report) : IProgress<SpaceProgress>
    {
        public void Report(SpaceProgress value) => report(value);
    }
}
