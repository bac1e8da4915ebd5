// The three stores of an index and the protocol that moves them together (docs/architecture.md, "Commit protocol"):
//   1. each space's vectors: a record of what changed appended to its change log (fsync), or, when the log has grown
//      large beside the file or the graph was compacted, the new generation's whole file (temp file, fsync, rename;
//      then the directory entry)
//   2. the Lucene commit labelled with the generation (Lucene fsyncs its files)
//   3. the decision point: the LiteDB transaction that records the generation
//   4. publication: the manifest naming the generation, renamed atomically (readers switch here)
//   5. vector files and logs the manifest no longer names are deleted (one generation stays on disk)
// Abort is the other way out of a batch: LiteDB and Lucene roll back, the in-memory vectors are reloaded from the
// committed file, so nothing of the batch survives anywhere (I6).
using SemanticSearch.Core;
using SemanticSearch.Core.Chunking;
using SemanticSearch.Engine.Indexing;
using SemanticSearch.Engine.Search;
using SemanticSearch.Lexical;
using SemanticSearch.Metadata;
using SemanticSearch.VectorIndex;

namespace SemanticSearch.Engine.Storage;

/// <summary>Points inside a commit where tests inject a failure.</summary>
internal enum CommitStep
{
    /// <summary>The vector file and the Lucene commit of the new generation are written; LiteDB is not.</summary>
    BeforeMetadata,

    /// <summary>LiteDB has committed the new generation (the decision point); the manifest is not renamed yet.</summary>
    BeforeManifest,
}

/// <summary>The opened stores of one index: metadata (the source of truth), BM25 and the vectors.</summary>
internal sealed class IndexStores : IDisposable
{
    public const string MetadataFile = "metadata.db";
    public const string LexicalDirectory = "lexical";

    private readonly string _directory;
    private readonly bool _writable;
    private readonly List<SpaceStore> _spaces;

    public IndexStores(string directory, MetadataStore metadata, LexicalIndex lexical, IReadOnlyList<SpaceStore> spaces, bool writable)
    {
        _directory = directory;
        _spaces = [.. spaces];
        _writable = writable;
        Metadata = metadata;
        Lexical = lexical;
        ChunkDocuments = new ChunkDocumentMap(lexical);
    }

    public MetadataStore Metadata { get; }

    public LexicalIndex Lexical { get; }

    /// <summary>The vector spaces, in the manifest's order (the first one's tokenizer cut the chunks).</summary>
    public IReadOnlyList<SpaceStore> Spaces => _spaces;

    /// <summary>The first space's vectors (null on a lexical-only index).</summary>
    public IVectorIndex? Vectors => _spaces.Count > 0 ? _spaces[0].Vectors : null;

    public ChunkDocumentMap ChunkDocuments { get; }

    public void BeginBatch() => Metadata.BeginTransaction();

    /// <summary>
    /// Replaces each document's earlier version in metadata and BM25, giving its chunks consecutive ids from
    /// <paramref name="firstChunkId"/>; marks the vectors of replaced chunks deleted.
    /// </summary>
    public void Write(IReadOnlyList<(SourceDocument Document, IReadOnlyList<TextChunk> Chunks)> documents, long firstChunkId)
    {
        var nextId = firstChunkId;
        var records = new List<(DocumentRecord, IReadOnlyList<ChunkRecord>)>(documents.Count);
        var idsByDocument = new List<long[]>(documents.Count);
        foreach (var (document, chunks) in documents)
        {
            var ids = new long[chunks.Count];
            var chunkRecords = new ChunkRecord[chunks.Count];
            var lexical = new LexicalChunk[chunks.Count];
            var textHash = TextHashOf(document.Text);
            for (var i = 0; i < chunks.Count; i++)
            {
                var c = chunks[i];
                ids[i] = nextId++;
                chunkRecords[i] = new ChunkRecord(ids[i], document.Id, c.Ordinal, c.Start, c.Length, c.Text);
                lexical[i] = new LexicalChunk(ids[i], document.Id, document.Title, PassagePolicy.LexicalText(c.Length, c.Text), document.Path, document.FileType, document.ModifiedUtc, document.Metadata)
                {
                    TextHash = textHash,
                };
            }
            Lexical.DeleteDocument(document.Id);
            Lexical.AddDocument(document.Text, lexical);
            records.Add((new DocumentRecord(document.Id, document.Source, document.Path, document.Title, document.FileType, document.SizeBytes,
                document.ModifiedUtc, document.ContentHash, DateTime.UtcNow, ids, document.Metadata) {
                    TextHash = textHash,
                    Outline = document.Outline.IsEmpty ? null : document.Outline,
                }, chunkRecords));
            idsByDocument.Add(ids);
        }
        // one metadata call for the batch (its running totals are written once); then, document by document, what a
        // replaced version leaves behind is removed before the new chunks are staged, as one upsert at a time would
        var removed = Metadata.UpsertMany(records);
        Metadata.NextChunkId = nextId;
        for (var d = 0; d < documents.Count; d++)
        {
            DeleteVectors(removed[d]);
            foreach (var id in idsByDocument[d])
            {
                ChunkDocuments.StageAdded(id, documents[d].Document.Id);
            }
        }
    }

    /// <summary>Adds the vectors of a batch to one space (one parallel graph insertion).</summary>
    public static void AddVectors(SpaceStore space, IReadOnlyList<long> vectorIds, float[] embeddings)
    {
        space.Vectors?.AddMany([.. vectorIds], embeddings, Environment.ProcessorCount);
    }

    /// <summary>Adds a space that no committed manifest lists yet; the next commit publishes it, an abort drops it.</summary>
    public void AddSpace(SpaceStore space) => _spaces.Add(space);

    /// <summary>Removes a space; the next commit publishes the index without it and deletes its files.</summary>
    public void RemoveSpace(SpaceStore space) => _spaces.Remove(space);

    /// <summary>Removes a document from every store; false when it was not there.</summary>
    public bool Delete(string documentId)
    {
        if (Metadata.GetDocument(documentId) is null)
        {
            return false;
        }
        Lexical.DeleteDocument(documentId);
        DeleteVectors(Metadata.Delete(documentId));
        return true;
    }

    private void DeleteVectors(IReadOnlyCollection<long> chunkIds)
    {
        ChunkDocuments.StageRemoved(chunkIds);
        if (chunkIds.Count == 0)
        {
            return;
        }
        foreach (var space in _spaces)
        {
            if (space.Vectors is not { } vectors)
            {
                continue;
            }
            foreach (var chunkId in chunkIds)
            {
                foreach (var v in space.Policy.VectorsOfChunk(chunkId))
                {
                    vectors.MarkDeleted(v);
                }
            }
        }
    }

    /// <summary>
    /// Runs the commit protocol for generation <paramref name="manifest"/>.Generation + 1 and returns the manifest
    /// that publishes it. <paramref name="hook"/> is the tests' failure seam.
    /// </summary>
    public IndexManifest Commit(IndexManifest manifest, double compactFraction, Action<CommitStep>? hook)
    {
        var next = manifest.Generation + 1;
        var files = new (string File, long LogLength)?[_spaces.Count];
        for (var i = 0; i < _spaces.Count; i++)
        {
            var space = _spaces[i];
            if (space.Vectors is not { } vectors)
            {
                continue;
            }
            var stored = vectors.Count + vectors.DeletedCount;
            if (stored > 0 && (double)vectors.DeletedCount / stored > compactFraction)
            {
                space.Vectors = vectors = vectors.Compact();
            }
            files[i] = SaveVectors(space, vectors, next);
        }
        if (_spaces.Count > 0)
        {
            DurableDirectory.Flush(_directory);
        }
        Lexical.Commit(next);
        DurableDirectory.Flush(Path.Combine(_directory, LexicalDirectory));
        hook?.Invoke(CommitStep.BeforeMetadata);
        Metadata.Generation = next;
        Metadata.Commit();
        ChunkDocuments.Publish();
        var published = Published(manifest, next, files);
        hook?.Invoke(CommitStep.BeforeManifest);
        published.Write(_directory);
        for (var i = 0; i < _spaces.Count; i++)
        {
            _spaces[i].Manifest = published.Spaces[i];
        }
        VectorFiles.DeleteUnused(_directory, LiveVectorFiles);
        return published;
    }

    /// <summary>
    /// The log may grow to this share of its vector file before a commit writes the whole file again: each vector is
    /// then written about 1 + 1/share times over the index's life, and a reader replays at most this much.
    /// </summary>
    internal const double MaxLogShare = 0.5;

    // Appends the space's changes to its log when the graph continues the file the manifest names and the log stays
    // small beside it; otherwise writes the whole graph as the new generation's file.
    private (string File, long LogLength) SaveVectors(SpaceStore space, IVectorIndex vectors, long next)
    {
        var recorded = space.Manifest;
        if (vectors is HnswIndex graph && recorded.VectorFile is { } file && graph.BaseChecksum is not null)
        {
            var path = Path.Combine(_directory, file);
            var fileLength = new FileInfo(path).Length;
            if (recorded.VectorLogLength + graph.PendingChangeBytes <= MaxLogShare * fileLength)
            {
                var length = graph.AppendChanges(Path.Combine(_directory, VectorFiles.LogOf(file)), recorded.VectorLogLength, next);
                return (file, length);
            }
        }
        var name = VectorFiles.NameOf(recorded.FileStem, next);
        vectors.Save(Path.Combine(_directory, name));
        return (name, 0);
    }

    /// <summary>Each space's current vector file (its log goes with it), for <see cref="VectorFiles.DeleteUnused"/>.</summary>
    public IReadOnlyCollection<string> LiveVectorFiles => _spaces.Select(s => s.Manifest.VectorFile).OfType<string>().ToList();

    /// <summary>
    /// The manifest that publishes a generation: its spaces (each with the file and committed log length
    /// <paramref name="files"/> names for it, or its last ones where that is null) and the counts committed with it.
    /// </summary>
    public IndexManifest Published(IndexManifest manifest, long generation, IReadOnlyList<(string File, long LogLength)?> files)
    {
        var counts = Metadata.Counts();
        var spaces = new SpaceManifest[_spaces.Count];
        long vectorCount = 0;
        for (var i = 0; i < spaces.Length; i++)
        {
            var space = _spaces[i];
            var vectors = space.Vectors;
            var stored = vectors is null ? 0 : vectors.Count + vectors.DeletedCount;
            spaces[i] = space.Manifest with
            {
                VectorFile = files[i]?.File ?? space.Manifest.VectorFile,
                VectorLogLength = files[i]?.LogLength ?? space.Manifest.VectorLogLength,
                VectorCount = vectors?.Count ?? space.Manifest.VectorCount,
                DeletedFraction = stored == 0 ? 0 : Math.Round((double)vectors!.DeletedCount / stored, 4),
            };
            vectorCount += spaces[i].VectorCount;
        }
        return manifest with
        {
            FormatVersion = IndexManifest.CurrentFormatVersion,
            UpdatedUtc = DateTime.UtcNow,
            Generation = generation,
            Spaces = spaces,
            LexicalCommit = Lexical.CommitNumber,
            Counts = new ManifestCounts(counts.Documents, counts.Chunks, counts.Bytes, vectorCount),
        };
    }

    /// <summary>
    /// Discards everything since the last commit in every store: LiteDB and Lucene roll back (Lucene's writer closes,
    /// so these stores take no more writes), and the vectors are reloaded from <paramref name="committed"/>'s file.
    /// Never throws: the error that led here is what the caller reports.
    /// </summary>
    public void Abort(IndexManifest committed)
    {
        ChunkDocuments.Discard();
        try
        {
            Metadata.Rollback();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // the store is closed with the process; its uncommitted pages are never confirmed
        }
        Lexical.Rollback();
        // a space added since the commit is dropped; one removed since is not put back (this instance takes no more writes)
        _spaces.RemoveAll(s => committed.Space(s.Name) is null);
        foreach (var space in _spaces)
        {
            var recorded = committed.Space(space.Name)!;
            space.Manifest = recorded;
            try
            {
                space.Vectors = recorded.VectorFile is not null ? VectorFiles.OpenGraph(_directory, recorded) : space.NewGraph();
            }
            catch (Exception e) when (e is SemanticSearchException or IOException)
            {
                space.Vectors = null; // the committed file is on disk; a later open reads it
            }
        }
    }

    public void Dispose()
    {
        if (_writable)
        {
            // Lucene's IndexWriter would commit pending changes on close, under the last commit's generation label;
            // uncommitted writes must vanish instead, as they do from LiteDB.
            Lexical.Rollback();
        }
        Lexical.Dispose();
        Metadata.Dispose();
    }

    // Duplicates are documents whose extracted text is the same, byte for byte; empty text is nobody's duplicate.
    internal static string? TextHashOf(string text) =>
        string.IsNullOrWhiteSpace(text) ? null : Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text)));
}
