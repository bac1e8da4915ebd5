using SemanticSearch.Core;
using SemanticSearch.Core.Chunking;
using SemanticSearch.Engine.Indexing;
using SemanticSearch.Engine.Storage;
using SemanticSearch.Lexical;
using SemanticSearch.Metadata;

namespace SemanticSearch.Engine;

/// <summary>
/// One index directory, opened: its manifest and its stores (<c>metadata.db</c> in LiteDB, <c>lexical/</c> in
/// Lucene). Writes go through <c>Write</c> and <see cref="Delete"/> and become visible together at
/// <see cref="Commit"/>. One instance may serve any number of concurrent searches.
/// </summary>
public sealed class SemanticIndex : IDisposable
{
    private const string MetadataFile = "metadata.db";
    private const string LexicalDirectory = "lexical";

    private readonly bool _writable;
    private IndexManifest _manifest;

    private SemanticIndex(string directory, IndexManifest manifest, MetadataStore metadata, LexicalIndex lexical, bool writable)
    {
        Directory = directory;
        _manifest = manifest;
        Metadata = metadata;
        Lexical = lexical;
        _writable = writable;
        Chunker = new TextChunker(WhitespaceTokenCounter.Instance, manifest.Chunking);
    }

    /// <summary>The index directory.</summary>
    public string Directory { get; }

    /// <summary>The manifest as of the last commit (or open).</summary>
    public IndexManifest Manifest => _manifest;

    /// <summary>Document and chunk metadata.</summary>
    public MetadataStore Metadata { get; }

    /// <summary>The BM25 store.</summary>
    public LexicalIndex Lexical { get; }

    /// <summary>Cuts documents into chunks as the manifest says.</summary>
    public IChunker Chunker { get; }

    /// <summary>Opens the index at <paramref name="directory"/> for writing, creating it with <paramref name="settings"/> when absent.</summary>
    public static SemanticIndex OpenOrCreate(string directory, IndexSettings settings)
    {
        settings.Validate();
        System.IO.Directory.CreateDirectory(directory);
        IndexManifest manifest;
        if (File.Exists(Path.Combine(directory, IndexManifest.FileName)))
        {
            manifest = IndexManifest.Read(directory);
        }
        else
        {
            var now = DateTime.UtcNow;
            manifest = new IndexManifest
            {
                CreatedUtc = now,
                UpdatedUtc = now,
                Chunking = settings.Chunking,
                TokenCounter = "whitespace",
                Lexical = settings.Lexical,
                MaxFileBytes = settings.MaxFileBytes,
            };
            manifest.Write(directory);
        }
        return Open(directory, manifest, writable: true);
    }

    /// <summary>Opens an existing index for searching.</summary>
    public static SemanticIndex OpenReadOnly(string directory)
    {
        if (!System.IO.Directory.Exists(directory))
        {
            throw new NotFoundException($"index not found: {directory}");
        }
        return Open(directory, IndexManifest.Read(directory), writable: false);
    }

    private static SemanticIndex Open(string directory, IndexManifest manifest, bool writable)
    {
        var metadata = MetadataStore.Open(Path.Combine(directory, MetadataFile), readOnly: !writable);
        try
        {
            var lexicalPath = Path.Combine(directory, LexicalDirectory);
            var lexical = writable
                ? LexicalIndex.OpenWritable(lexicalPath, manifest.Lexical)
                : LexicalIndex.OpenReadOnly(lexicalPath, manifest.Lexical);
            return new SemanticIndex(directory, manifest, metadata, lexical, writable);
        }
        catch
        {
            metadata.Dispose();
            throw;
        }
    }

    /// <summary>The stored version of a document, or null.</summary>
    public DocumentRecord? GetDocument(string id) => Metadata.GetDocument(id);

    /// <summary>Chunks <paramref name="document"/> and replaces any earlier version of it in every store.</summary>
    /// <returns>The number of chunks written (0 when the text holds no tokens).</returns>
    public int Write(SourceDocument document) => Write(document, Chunker.Chunk(document.Text));

    /// <summary>Replaces any earlier version of <paramref name="document"/> with the given chunks.</summary>
    public int Write(SourceDocument document, IReadOnlyList<TextChunk> chunks)
    {
        EnsureWritable();
        var nextId = Metadata.NextChunkId;
        var ids = new long[chunks.Count];
        var records = new ChunkRecord[chunks.Count];
        var lexical = new LexicalChunk[chunks.Count];
        for (var i = 0; i < chunks.Count; i++)
        {
            var c = chunks[i];
            ids[i] = nextId++;
            records[i] = new ChunkRecord(ids[i], document.Id, c.Ordinal, c.Start, c.Length, c.Text);
            lexical[i] = new LexicalChunk(ids[i], document.Id, document.Title, c.Text, document.Path, document.FileType, document.ModifiedUtc, document.Metadata);
        }
        Lexical.DeleteDocument(document.Id);
        Lexical.Add(lexical);
        Metadata.Upsert(
            new DocumentRecord(document.Id, document.Source, document.Path, document.Title, document.FileType, document.SizeBytes,
                document.ModifiedUtc, document.ContentHash, DateTime.UtcNow, ids, document.Metadata),
            records);
        Metadata.NextChunkId = nextId;
        return chunks.Count;
    }

    /// <summary>Removes a document from every store; false when it was not there.</summary>
    public bool Delete(string documentId)
    {
        EnsureWritable();
        if (Metadata.GetDocument(documentId) is null)
        {
            return false;
        }
        Lexical.DeleteDocument(documentId);
        Metadata.Delete(documentId);
        return true;
    }

    /// <summary>Starts a write batch; everything up to <see cref="Commit"/> becomes visible at once.</summary>
    public void BeginBatch()
    {
        EnsureWritable();
        Metadata.BeginTransaction();
    }

    /// <summary>Makes every write since the last commit durable and visible, then records counts in the manifest.</summary>
    public void Commit()
    {
        EnsureWritable();
        Lexical.Commit();
        Metadata.Commit();
        var counts = Metadata.Counts();
        _manifest = _manifest with
        {
            UpdatedUtc = DateTime.UtcNow,
            Generation = _manifest.Generation + 1,
            Counts = new ManifestCounts(counts.Documents, counts.Chunks, counts.Bytes),
        };
        _manifest.Write(Directory);
    }

    /// <summary>Statistics for display.</summary>
    public IndexStats Stats()
    {
        var counts = Metadata.Counts();
        return new IndexStats(Directory, counts.Documents, counts.Chunks, counts.Bytes, _manifest.Model?.ModelId, _manifest.CreatedUtc, _manifest.UpdatedUtc, _manifest.FormatVersion);
    }

    private void EnsureWritable()
    {
        if (!_writable)
        {
            throw new InvalidOperationException($"{Directory}: index was opened read-only");
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Lexical.Dispose();
        Metadata.Dispose();
    }
}

/// <summary>What <c>semsearch stats</c> shows.</summary>
public sealed record IndexStats(string Directory, long Documents, long Chunks, long Bytes, string? Model, DateTime CreatedUtc, DateTime UpdatedUtc, int FormatVersion);
