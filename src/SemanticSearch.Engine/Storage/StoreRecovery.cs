// Opening an index's stores at the manifest's generation, and recovery of a writer's open (docs/architecture.md,
// "Commit protocol"): metadata one generation ahead of the manifest means the last commit reached its decision point
// (the LiteDB commit) and only the manifest rename was lost, so the manifest is rolled forward; anything else newer
// than the manifest (a Lucene commit, a vector file) belongs to an interrupted commit and is discarded. The metadata
// store is the source of truth: it is never recreated empty under a manifest that records documents.
using SemanticSearch.Core;
using SemanticSearch.Core.Chunking;
using SemanticSearch.Core.Encoding;
using SemanticSearch.Engine.Indexing;
using SemanticSearch.Lexical;
using SemanticSearch.Metadata;
using SemanticSearch.VectorIndex;

namespace SemanticSearch.Engine.Storage;

/// <summary>The stores as opened, and the manifest they are at (rolled forward when recovery published a lost commit).</summary>
internal sealed record OpenedStores(IndexManifest Manifest, IndexStores Stores, CorruptDataException? VectorDamage);

/// <summary>Opens and reconciles the stores of an index directory.</summary>
internal static class StoreRecovery
{
    /// <summary>
    /// Opens the stores at <paramref name="manifest"/>'s generation. A writer reconciles them first; a repairing
    /// writer also starts a damaged lexical store empty (the damaged one set aside) and a damaged vector file empty.
    /// </summary>
    public static OpenedStores Open(string directory, IndexManifest manifest, IReadOnlyList<ITextEncoder?> encoders, bool writable, bool repairing)
    {
        RequireMetadataFile(directory, manifest);
        var metadata = MetadataStore.Open(Path.Combine(directory, IndexStores.MetadataFile), readOnly: !writable);
        LexicalIndex? lexical = null;
        try
        {
            if (metadata.Generation == 0 && manifest.Counts.Documents > 0 && metadata.Counts().Documents == 0)
            {
                throw MetadataLost(directory, manifest, "holds no documents");
            }
            var generation = manifest.Generation;
            var rollForward = false;
            if (writable)
            {
                var stored = metadata.Generation;
                if (stored == generation + 1)
                {
                    generation = stored;
                    rollForward = true;
                }
                else if (stored > generation + 1 || (stored != 0 && stored < generation))
                {
                    throw new CorruptDataException(Path.Combine(directory, IndexStores.MetadataFile),
                        $"metadata is at generation {stored} but the manifest at {manifest.Generation}; run 'semsearch repair --index {directory}'");
                }
            }
            var lexicalPath = Path.Combine(directory, IndexStores.LexicalDirectory);
            if (repairing && Directory.Exists(lexicalPath) && (LexicalIndex.Check(lexicalPath) is not null || !HasLexicalCommit(lexicalPath, generation)))
            {
                Directory.Move(lexicalPath, lexicalPath + IndexRepair.AsideSuffix); // rebuilt from the metadata by the repair
            }
            lexical = writable
                ? LexicalIndex.OpenWritable(lexicalPath, manifest.Lexical, generation)
                : LexicalIndex.OpenReadOnly(lexicalPath, manifest.Lexical, generation);
            var lost = new (string File, long LogLength)?[manifest.Spaces.Count];
            if (rollForward)
            {
                // What the lost commit wrote of each space: the whole file of its generation, or a record of it appended
                // to the log. A space with neither is one that commit removed: it is not in what it published.
                for (var i = 0; i < lost.Length; i++)
                {
                    lost[i] = LostCommitOf(directory, manifest.Spaces[i], generation);
                }
                var kept = Enumerable.Range(0, lost.Length).Where(i => lost[i] is not null).ToList();
                if (kept.Count < manifest.Spaces.Count)
                {
                    encoders = [.. kept.Select(i => encoders[i])];
                    lost = [.. kept.Select(i => lost[i])];
                    manifest = manifest with { Spaces = [.. kept.Select(i => manifest.Spaces[i])] };
                }
            }
            var spaces = new List<SpaceStore>(manifest.Spaces.Count);
            for (var i = 0; i < manifest.Spaces.Count; i++)
            {
                var space = manifest.Spaces[i];
                var encoder = encoders[i];
                var file = rollForward ? lost[i]!.Value.File : space.VectorFile;
                var logLength = rollForward ? lost[i]!.Value.LogLength : space.VectorLogLength;
                if (writable && file is not null)
                {
                    // an interrupted commit's record after the committed ones is cut off before anything appends
                    ChangeLog.Truncate(Path.Combine(directory, VectorFiles.LogOf(file)), logLength);
                }
                var (vectors, damage) = OpenVectors(directory, space, file, logLength, writable, repairing);
                var policy = new PassagePolicy(manifest, space, encoder?.TokenCounter ?? WhitespaceTokenCounter.Instance);
                spaces.Add(new SpaceStore(space, policy, vectors, encoder, damage));
            }
            var stores = new IndexStores(directory, metadata, lexical, spaces, writable);
            if (rollForward)
            {
                manifest = stores.Published(manifest, generation, lost);
                manifest.Write(directory);
                for (var i = 0; i < spaces.Count; i++)
                {
                    spaces[i].Manifest = manifest.Spaces[i];
                }
            }
            if (writable)
            {
                VectorFiles.DeleteUnused(directory, stores.LiveVectorFiles);
            }
            return new OpenedStores(manifest, stores, spaces.Select(s => s.Damage).FirstOrDefault(d => d is not null));
        }
        catch
        {
            lexical?.Dispose();
            metadata.Dispose();
            throw;
        }
    }

    // The file and log length a commit of generation that did not publish its manifest left for a space, or null.
    private static (string File, long LogLength)? LostCommitOf(string directory, SpaceManifest space, long generation)
    {
        var whole = VectorFiles.NameOf(space.FileStem, generation);
        if (File.Exists(Path.Combine(directory, whole)))
        {
            return (whole, 0);
        }
        if (space.VectorFile is { } file
            && ChangeLog.LengthThrough(Path.Combine(directory, VectorFiles.LogOf(file)), space.VectorLogLength == 0 ? ChangeLog.HeaderSize : space.VectorLogLength, generation) is { } length)
        {
            return (file, length);
        }
        return null;
    }

    private static (IVectorIndex? Vectors, CorruptDataException? Damage) OpenVectors(string directory, SpaceManifest space, string? vectorFile, long logLength, bool writable, bool repairing)
    {
        var model = space.Model;
        var path = Path.Combine(directory, vectorFile ?? VectorFiles.Legacy);
        var log = logLength > 0 ? Path.Combine(directory, VectorFiles.LogOf(vectorFile ?? VectorFiles.Legacy)) : null;
        IVectorIndex? vectors = null;
        CorruptDataException? damage = null;
        if (repairing)
        {
            try
            {
                vectors = HnswIndex.Open(path, log, logLength, space.Vectors.Codec);
            }
            catch (SemanticSearchException)
            {
                vectors = new HnswIndex(model.Dimensions, space.Vectors); // rebuilt by the repair
            }
        }
        else if (vectorFile is not null || File.Exists(path))
        {
            try
            {
                // a searcher reads the full-precision vectors in place (mapped), a writer loads them to build with
                vectors = HnswIndex.Open(path, log, logLength, space.Vectors.Codec, mapVectors: !writable); // NotFoundException when a writer has dropped it: a reader retries
            }
            catch (CorruptDataException e) when (!writable)
            {
                // A reader keeps lexical search: dense and hybrid queries report the damage.
                damage = new CorruptDataException(e.Path,
                    $"the vector file of space '{space.Name}' is damaged ({WithoutPath(e.Message, e.Path)}); lexical search still works (--mode lexical); run 'semsearch repair --index {directory}' to rebuild the vectors from the metadata", e);
            }
        }
        else
        {
            vectors = new HnswIndex(model.Dimensions, space.Vectors);
        }
        if (vectors is not null && vectors.Dimensions != model.Dimensions)
        {
            throw new CorruptDataException(path, $"vector index has {vectors.Dimensions} dimensions, the model of space '{space.Name}' {model.Dimensions}");
        }
        return (vectors, damage);
    }

    private static string WithoutPath(string message, string path) =>
        message.StartsWith(path + ": ", StringComparison.Ordinal) ? message[(path.Length + 2)..] : message;

    /// <summary>Refuses an encoder that is not the model the index records (or any encoder for a lexical-only index).</summary>
    public static void CheckModel(string directory, IndexManifest manifest, ITextEncoder? encoder) =>
        MatchEncoders(directory, manifest, encoder is null ? [] : [encoder], everySpace: true);

    /// <summary>
    /// The encoder of each space of <paramref name="manifest"/>, in its order: every encoder given must be the model of
    /// one space (same id, revision and dimensions); with <paramref name="everySpace"/> (a writer) every space must have
    /// one. A space without one is null (a reader that did not load that model).
    /// </summary>
    public static ITextEncoder?[] MatchEncoders(string directory, IndexManifest manifest, IReadOnlyList<ITextEncoder> encoders, bool everySpace)
    {
        var spaces = manifest.Spaces;
        if (spaces.Count == 0 && encoders.Count > 0)
        {
            throw new ModelMismatchException($"index {directory} was built without an embedding model (lexical only); index into a new index to use {encoders[0].Info.ModelId}.");
        }
        var matched = new ITextEncoder?[spaces.Count];
        foreach (var encoder in encoders)
        {
            var info = encoder.Info;
            var i = -1;
            for (var j = 0; j < spaces.Count && i < 0; j++)
            {
                i = matched[j] is null && spaces[j].Model.ModelId == info.ModelId ? j : -1;
            }
            if (i < 0)
            {
                if (spaces.Count == 1)
                {
                    var need = spaces[0].Model;
                    throw new ModelMismatchException(
                        $"index {directory} was built with {need.ModelId} (revision {need.Revision}, {need.Dimensions} dimensions), not {info.ModelId} (revision {info.Revision}, {info.Dimensions}); use --model {need.ModelId}, a new index, or add a vector space for it with 'semsearch spaces add {info.ModelId} --index {directory}'.");
                }
                throw new ModelMismatchException(
                    $"index {directory} has no vector space of {info.ModelId} (its spaces: {string.Join(", ", spaces.Select(s => $"{s.Name} = {s.Model.ModelId}"))}); add one with 'semsearch spaces add {info.ModelId} --index {directory}'.");
            }
            var need2 = spaces[i].Model;
            if (need2.Dimensions != info.Dimensions || need2.Revision != info.Revision)
            {
                throw new ModelMismatchException(
                    $"index {directory} was built with {need2.ModelId} (revision {need2.Revision}, {need2.Dimensions} dimensions), not {info.ModelId} (revision {info.Revision}, {info.Dimensions}); use --model {need2.ModelId} or a new index.");
            }
            matched[i] = encoder;
        }
        if (everySpace)
        {
            for (var i = 0; i < spaces.Count; i++)
            {
                if (matched[i] is null)
                {
                    var need = spaces[i].Model;
                    var all = string.Join(",", spaces.Select(s => s.Model.ModelId));
                    throw new ModelMismatchException(spaces.Count == 1
                        ? $"index {directory} needs the model {need.ModelId} (revision {need.Revision}); open it with --model {need.ModelId}."
                        : $"index {directory} needs the model {need.ModelId} (revision {need.Revision}) of its space '{spaces[i].Name}'; open it with --model {all}.");
                }
            }
        }
        return matched;
    }

    /// <summary>Whether a failed read-only open means a writer moved the index on (retry with the new manifest).</summary>
    public static bool IsStale(Exception e) => e is StaleGenerationException || e is NotFoundException || e is FileNotFoundException;

    /// <summary>The error for files of the manifest's generation that are missing although no writer moved on.</summary>
    public static CorruptDataException MissingFiles(string directory, IndexManifest manifest, Exception e)
    {
        var repair = $"run 'semsearch repair --index {directory}' to rebuild it from the metadata";
        if (e is StaleGenerationException)
        {
            var lexical = Path.Combine(directory, IndexStores.LexicalDirectory);
            return new CorruptDataException(lexical, $"the lexical store is damaged: files of its commit of generation {manifest.Generation} are missing; {repair}", e);
        }
        var file = e is FileNotFoundException f && f.FileName is { } name ? name : Path.Combine(directory, manifest.VectorFile ?? VectorFiles.Legacy);
        var store = Path.GetFileName(file).StartsWith("vectors", StringComparison.Ordinal) ? "vector" : "index";
        return new CorruptDataException(file, $"the {store} file of generation {manifest.Generation} is missing; {repair}", e);
    }

    /// <summary>Refuses to go on when the metadata file is gone but the manifest records documents.</summary>
    public static void RequireMetadataFile(string directory, IndexManifest manifest)
    {
        if ((manifest.Counts.Documents > 0 || manifest.Counts.Chunks > 0) && !File.Exists(Path.Combine(directory, IndexStores.MetadataFile)))
        {
            throw MetadataLost(directory, manifest, "is missing");
        }
    }

    /// <summary>The error for a metadata store that lost what the manifest published.</summary>
    public static CorruptDataException MetadataLost(string directory, IndexManifest manifest, string what) =>
        new(Path.Combine(directory, IndexStores.MetadataFile),
            $"the metadata store {what}, but the manifest (generation {manifest.Generation}) records {manifest.Counts.Documents} documents. It is the index's source of truth and cannot be rebuilt from the other stores: restore it from a backup, or index the sources again into a new index.");

    private static bool HasLexicalCommit(string path, long generation)
    {
        var gens = Directory.Exists(path) ? LexicalIndex.CommitGenerations(path) : [];
        return gens.Count > 0 && (gens.Contains(generation) || gens[^1] is null);
    }
}
