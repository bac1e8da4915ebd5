// Repair: the derived stores (BM25, vectors) rebuilt from the metadata, the source of truth, and published as a new
// generation through the ordinary commit. The metadata is checked from a private read first: a store that cannot be
// read, fails its content checksum, or lost documents the manifest published stops the repair before any file is
// touched. A damaged lexical store is set aside (".before-repair") and put back if the repair fails, so a failed
// repair leaves the files as they were.
using SemanticSearch.Core;
using SemanticSearch.Core.Encoding;
using SemanticSearch.Engine.Indexing;
using SemanticSearch.Lexical;
using SemanticSearch.Metadata;
using SemanticSearch.VectorIndex;

namespace SemanticSearch.Engine.Storage;

/// <summary>Rebuilds an index's derived stores from its metadata.</summary>
internal static class IndexRepair
{
    /// <summary>Where a damaged lexical store waits while the repair rebuilds it.</summary>
    public const string AsideSuffix = ".before-repair";

    /// <summary>Runs a repair of the index at <paramref name="directory"/>; returns the stores rebuilt.</summary>
    public static IReadOnlyList<string> Run(string directory, IReadOnlyList<ITextEncoder> encoders, WriterOptions? writer)
    {
        if (!Directory.Exists(directory))
        {
            throw new NotFoundException($"index not found: {directory}");
        }
        var writeLock = IndexWriteLock.Acquire(directory, writer);
        var lexicalPath = Path.Combine(directory, IndexStores.LexicalDirectory);
        var aside = lexicalPath + AsideSuffix;
        SemanticIndex? index = null;
        try
        {
            var manifest = IndexManifest.Read(directory);
            var matched = StoreRecovery.MatchEncoders(directory, manifest, encoders, everySpace: true);
            CheckMetadata(directory, manifest);
            if (Directory.Exists(aside))
            {
                Directory.Delete(aside, recursive: true); // left by a repair that was killed
            }
            index = SemanticIndex.OpenForRepair(directory, manifest, matched, writeLock);
            var rebuilt = Rebuild(index);
            index.Dispose();
            index = null;
            if (Directory.Exists(aside))
            {
                Directory.Delete(aside, recursive: true); // the rebuilt store is published
            }
            return rebuilt;
        }
        catch
        {
            if (index is not null)
            {
                index.Dispose(); // rolls back the uncommitted rebuild (I6)
            }
            else
            {
                writeLock.Dispose();
            }
            if (Directory.Exists(aside))
            {
                if (Directory.Exists(lexicalPath))
                {
                    Directory.Delete(lexicalPath, recursive: true);
                }
                Directory.Move(aside, lexicalPath);
            }
            throw;
        }
    }

    // A private read of the whole metadata store before anything is opened for writing.
    private static void CheckMetadata(string directory, IndexManifest manifest)
    {
        StoreRecovery.RequireMetadataFile(directory, manifest);
        var path = Path.Combine(directory, IndexStores.MetadataFile);
        if (!File.Exists(path))
        {
            return;
        }
        const string cannotRun = "repair rebuilds the other stores from it, so it cannot run: restore metadata.db from a backup, or index the sources again into a new index.";
        MetadataCounts counts;
        long generation;
        string? damage;
        try
        {
            using var metadata = MetadataStore.Open(path, readOnly: true);
            counts = metadata.Counts();
            generation = metadata.Generation;
            damage = metadata.VerifyContent();
        }
        catch (Exception e) when (e is CorruptDataException or NotFoundException or IOException or UnauthorizedAccessException)
        {
            throw new CorruptDataException(path, $"the metadata store cannot be read ({e.Message}); {cannotRun}", e);
        }
        if (damage is not null)
        {
            throw new CorruptDataException(path, $"the metadata store is damaged ({damage}); {cannotRun}");
        }
        if (generation <= manifest.Generation && counts.Documents < manifest.Counts.Documents)
        {
            throw StoreRecovery.MetadataLost(directory, manifest, $"holds {counts.Documents} documents");
        }
    }

    private static List<string> Rebuild(SemanticIndex index)
    {
        var stores = index.Stores;
        var rebuilt = new List<string>();
        var chunkIds = new HashSet<long>();
        foreach (var c in stores.Metadata.AllChunks())
        {
            chunkIds.Add(c.Id);
        }
        var lexicalIds = stores.Lexical.AllChunkIds();
        var lexicalOk = lexicalIds.Count == chunkIds.Count && chunkIds.SetEquals(lexicalIds)
            && stores.Lexical.Format == LexicalIndex.CurrentFormat && DocumentEntriesAgree(stores);
        // each space whose graph does not hold exactly the metadata's chunks is rebuilt whole, the others are kept
        var damaged = stores.Spaces.Where(space => space.Vectors is not HnswIndex hnsw || !Agrees(hnsw, space.Policy, chunkIds)).ToList();
        if (lexicalOk && damaged.Count == 0)
        {
            return rebuilt;
        }
        index.BeginBatch();
        if (!lexicalOk)
        {
            stores.Lexical.Clear(); // rebuilt whole, in the current lexical format
            foreach (var doc in stores.Metadata.AllDocuments())
            {
                var chunks = stores.Metadata.GetChunks(doc.ChunkIds);
                var lexicalChunks = new List<LexicalChunk>();
                var records = new List<ChunkRecord>();
                foreach (var id in doc.ChunkIds)
                {
                    if (chunks.TryGetValue(id, out var chunk))
                    {
                        lexicalChunks.Add(new LexicalChunk(chunk.Id, doc.Id, doc.Title, PassagePolicy.LexicalText(chunk.Length, chunk.Text), doc.Path, doc.FileType, doc.ModifiedUtc, doc.Metadata)
                        {
                            TextHash = doc.TextHash,
                        });
                        records.Add(chunk);
                    }
                }
                stores.Lexical.AddDocument(TextOfChunks(records), lexicalChunks);
            }
        }
        foreach (var space in damaged)
        {
            space.Vectors = space.NewGraph();
            SpaceFill.Run(stores, space, null, CancellationToken.None);
            // the first space keeps the name "vectors" it always had; a later one is named with it
            rebuilt.Add(ReferenceEquals(space, stores.Spaces[0]) ? "vectors" : $"vectors ({space.Name})");
        }
        if (!lexicalOk)
        {
            rebuilt.Add("lexical");
        }
        stores.ChunkDocuments.Reset();
        index.Commit();
        return rebuilt;
    }

    private static bool Agrees(HnswIndex graph, PassagePolicy policy, HashSet<long> chunkIds)
    {
        var live = graph.LiveIds();
        var liveChunks = live.Select(policy.ChunkOfVector).ToHashSet();
        return (policy.Windowed || live.Count == chunkIds.Count) && chunkIds.SetEquals(liveChunks);
    }

    // Whether the lexical store holds one document entry for each document with chunks, and no other (format 2).
    private static bool DocumentEntriesAgree(IndexStores stores)
    {
        var expected = new HashSet<string>(StringComparer.Ordinal);
        foreach (var doc in stores.Metadata.AllDocuments())
        {
            if (doc.ChunkIds.Count > 0)
            {
                expected.Add(doc.Id);
            }
        }
        var entries = stores.Lexical.AllDocumentEntryIds();
        return entries.Count == expected.Count && expected.SetEquals(entries);
    }

    // A document's text rebuilt from its chunks (the metadata keeps chunks, not the text): the chunks are spans of the
    // text in order, overlapping, and cover all of it but whitespace, so taking each span once and a space for each gap
    // gives the text's words exactly as the analyzer sees them (the same terms and length as the original entry).
    private static string TextOfChunks(List<ChunkRecord> chunks)
    {
        var sb = new System.Text.StringBuilder();
        var end = 0;
        foreach (var c in chunks.Where(c => !PassagePolicy.IsTitleChunk(c.Length)).OrderBy(c => c.Start))
        {
            var stop = c.Start + c.Length;
            if (stop <= end)
            {
                continue;
            }
            if (c.Start >= end)
            {
                if (sb.Length > 0 && c.Start > end)
                {
                    sb.Append(' ');
                }
                sb.Append(c.Text);
            }
            else
            {
                sb.Append(c.Text, end - c.Start, stop - end);
            }
            end = stop;
        }
        return sb.ToString();
    }
}
