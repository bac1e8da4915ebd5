// BM25 over a Lucene.Net 4.8 index.
//
// Scoring follows the configuration that Pyserini's BEIR "flat" regressions use: one analysed field holding title and
// text, Lucene's English analysis (standard tokenizer, possessive removal, lower case, English stop words, Porter
// stemming), BM25 with k1 = 0.9 and b = 0.4, and a bag-of-words query in which each distinct query term is one SHOULD
// clause boosted by how often it occurs in the query. Queries never go through Lucene's query parser: the project's own
// small query language (LexicalQuery: phrases, +required, -excluded) reads every input, so none is a syntax error, and
// a query without operators is exactly that bag-of-words query.
//
// Layout (lexical format 2): one Lucene index holds two kinds of entry.
//   - a chunk entry per chunk: chunk_id (stored), doc_id (stored), the filter fields, and "contents" = title + chunk;
//   - a document entry per document: doc_id (stored), the filter fields, and "document" = title + the document's whole
//     text. It has no chunk_id, which is how every chunk-level listing tells the two kinds apart.
// Documents are ranked on the "document" field, so a document's BM25 is its whole-document BM25 whatever the encoder's
// chunk size; chunks are scored (on "contents") only for per-chunk results and to pick the best chunk of a hit.
// Both kinds share one index so one Lucene commit publishes both, and a delete by doc_id removes both.
// Lucene 4.8's BM25Similarity takes N (for idf) and the average length from CollectionStatistics.MaxDoc, which counts
// every entry of either kind; FieldBM25Similarity uses the field's DocCount instead, so each field's statistics are
// those of an index that held only its own kind of entry.
// Format 1 (indexes written before document entries; no format key in the commit data) has chunk entries only: its
// documents score as their best chunk. The format is recorded in every commit's user data.
using Lucene.Net.Analysis;
using Lucene.Net.Analysis.En;
using Lucene.Net.Documents;
using Lucene.Net.Index;
using Lucene.Net.Search;
using Lucene.Net.Search.Similarities;
using Lucene.Net.Store;
using Lucene.Net.Util;
using SemanticSearch.Core;
using LuceneDirectory = Lucene.Net.Store.Directory;

namespace SemanticSearch.Lexical;


/// <summary>The BM25 store of an index: add, delete by document, search documents or chunks, commit.</summary>
public sealed partial class LexicalIndex : IDisposable
{
    private const LuceneVersion Version = LuceneVersion.LUCENE_48;
    internal const string ContentsField = "contents";
    internal const string DocumentField = "document";
    private const string ChunkIdField = "chunk_id";
    private const string DocIdField = "doc_id";
    private const string PathField = "path";
    private const string TypeField = "type";
    private const string ModifiedField = "modified";
    private const string TextHashField = "text_hash";
    private const string MetaPrefix = "meta.";

    /// <summary>
    /// Metadata keys that begin with this are stored with the document but not indexed, so no filter can test them and
    /// their values may be of any size (a VectorData record's serialised properties).
    /// </summary>
    public const string StoredOnlyPrefix = "$";

    private readonly LuceneDirectory _directory;
    private readonly Analyzer _analyzer;
    private readonly BM25Similarity _similarity;
    private readonly IndexWriter? _writer;
    private readonly SearcherManager? _searchers;      // writable: refreshed at every commit
    private readonly DirectoryReader? _reader;         // read-only: the commit of the manifest's generation, fixed
    private readonly IndexSearcher? _fixedSearcher;
    private readonly string _path;
    private int _format;

    /// <summary>
    /// The lexical format this build writes: 3, chunk entries plus one document entry per document that also carries
    /// the document's text hash.
    /// </summary>
    public const int CurrentFormat = 3;

    private const string FormatKey = "semsearch.lexical.format";

    private LexicalIndex(string path, LexicalOptions options, bool readOnly, long generation)
    {
        options.Validate();
        _path = path;
        _similarity = new FieldBM25Similarity(options.K1, options.B);
        _analyzer = new EnglishAnalyzer(Version);
        System.IO.Directory.CreateDirectory(path);
        _directory = FSDirectory.Open(path);
        try
        {
            if (!readOnly)
            {
                var config = new IndexWriterConfig(Version, _analyzer)
                {
                    Similarity = _similarity,
                    OpenMode = OpenMode.CREATE_OR_APPEND,
                    RAMBufferSizeMB = 64,
                    IndexDeletionPolicy = new KeepLastCommits(2),
                    // merges only adjacent segments, so document order stays insertion order whatever the commit
                    // points were: ties in score break the same way in an index built in one go or resumed after kills
                    MergePolicy = new LogByteSizeMergePolicy(),
                };
                var newest = NewestCommit(_directory);
                if (newest is not null && GenerationOf(newest) is { } behind && behind < generation)
                {
                    throw new CorruptDataException(path, $"the newest lexical commit is generation {behind}, older than the manifest's {generation}; run 'semsearch repair'");
                }
                if (newest is not null && GenerationOf(newest) is { } g && g > generation)
                {
                    // A commit newer than the manifest's generation is an interrupted commit: reopen at the manifest's
                    // commit; the commit below relabels that state as the newest one.
                    config.IndexCommit = CommitOf(_directory, generation)
                        ?? throw new CorruptDataException(path, $"no lexical commit for generation {generation} (newest is {g}); run 'semsearch repair'");
                }
                // a new index is written in the current format; an existing one keeps the format it was built in, so
                // its entries never mix layouts (repair's Clear moves it to the current format)
                _format = newest is null ? CurrentFormat : FormatOf(config.IndexCommit ?? newest);
                _writer = new IndexWriter(_directory, config);
                if (newest is null || GenerationOf(newest) != generation)
                {
                    // An empty index has a commit point too, so readers can always open one.
                    _writer.SetCommitData(CommitData(generation));
                    _writer.Commit();
                }
                _searchers = new SearcherManager(_directory, new BM25SearcherFactory(_similarity));
            }
            else
            {
                if (!DirectoryReader.IndexExists(_directory))
                {
                    throw new NotFoundException($"lexical index not found: {path}");
                }
                var commit = CommitOf(_directory, generation)
                    ?? throw new StaleGenerationException(path, generation);
                _format = FormatOf(commit);
                _reader = DirectoryReader.Open(commit);
                _fixedSearcher = new IndexSearcher(_reader) { Similarity = _similarity };
            }
        }
        catch
        {
            _writer?.Dispose();
            _reader?.Dispose();
            _directory.Dispose();
            _analyzer.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Opens a writable index at <paramref name="path"/>, creating it when absent, at the commit labelled
    /// <paramref name="generation"/>: newer commits (from an interrupted index commit) are superseded.
    /// </summary>
    public static LexicalIndex OpenWritable(string path, LexicalOptions options, long generation = 0) => Wrap(path, () => new LexicalIndex(path, options, false, generation));

    /// <summary>
    /// Opens the commit labelled <paramref name="generation"/> of the index at <paramref name="path"/> for searching
    /// only; throws <see cref="StaleGenerationException"/> when that commit is gone (a writer moved on).
    /// </summary>
    public static LexicalIndex OpenReadOnly(string path, LexicalOptions options, long generation = 0) => Wrap(path, () => new LexicalIndex(path, options, true, generation));

    private static LexicalIndex Wrap(string path, Func<LexicalIndex> open)
    {
        try
        {
            return open();
        }
        catch (LockObtainFailedException e)
        {
            throw new StoreLockedException(path, $"the lexical index is locked by another writer ({e.Message})", e);
        }
        catch (FileNotFoundException e)
        {
            // a commit's files vanish when a writer deletes an old commit while we open it
            throw new StaleGenerationException(path, -1, e);
        }
        catch (Exception e) when (e is CorruptIndexException or IndexFormatTooOldException or IndexFormatTooNewException or EndOfStreamException)
        {
            throw new CorruptDataException(path, $"lexical index is damaged: {e.Message}", e);
        }
    }

    /// <summary>
    /// Adds the chunks of one document and, in format 2, its document entry holding the title and
    /// <paramref name="documentText"/>, the document's whole text (uncommitted until <see cref="Commit(long)"/>).
    /// </summary>
    /// <param name="documentText">The document's full text without its title (the chunks overlap, so it is not their concatenation).</param>
    /// <param name="chunks">Every chunk of the document, all with the same document id, title and filter fields.</param>
    public void AddDocument(string documentText, IReadOnlyList<LexicalChunk> chunks)
    {
        ArgumentNullException.ThrowIfNull(documentText);
        ArgumentNullException.ThrowIfNull(chunks);
        if (chunks.Count == 0)
        {
            return; // a document without chunks is not searchable at any level
        }
        var writer = Writer;
        var first = chunks[0];
        foreach (var c in chunks)
        {
            if (!string.Equals(c.DocumentId, first.DocumentId, StringComparison.Ordinal))
            {
                throw new ArgumentException($"chunks of documents '{first.DocumentId}' and '{c.DocumentId}' in one AddDocument call", nameof(chunks));
            }
            writer.AddDocument(ToLucene(c));
        }
        if (HasDocumentEntries)
        {
            writer.AddDocument(DocumentEntry(first, documentText, _format));
        }
    }

    /// <summary>
    /// Adds chunks whose texts do not overlap, grouped into documents by consecutive document id: each group is added
    /// as <see cref="AddDocument"/> would with the chunk texts, joined by line breaks, as the document's text.
    /// </summary>
    public void Add(IEnumerable<LexicalChunk> chunks)
    {
        ArgumentNullException.ThrowIfNull(chunks);
        var group = new List<LexicalChunk>();
        foreach (var c in chunks)
        {
            if (group.Count > 0 && !string.Equals(group[0].DocumentId, c.DocumentId, StringComparison.Ordinal))
            {
                AddDocument(string.Join('\n', group.Select(g => g.Text)), group);
                group = [];
            }
            group.Add(c);
        }
        AddDocument(string.Join('\n', group.Select(g => g.Text)), group);
    }

    /// <summary>
    /// Deletes every entry and moves the index to the current format (uncommitted until <see cref="Commit(long)"/>):
    /// the start of a full rebuild.
    /// </summary>
    public void Clear()
    {
        Writer.DeleteAll();
        _format = CurrentFormat;
    }

    /// <summary>Removes every entry (chunks and document entry) of <paramref name="documentId"/> (uncommitted until <see cref="Commit(long)"/>).</summary>
    public void DeleteDocument(string documentId) => Writer.DeleteDocuments(new Term(DocIdField, documentId));

    /// <summary>Makes all changes durable and visible to new searches, keeping the generation label of the last commit.</summary>
    public void Commit()
    {
        Writer.Commit();
        _searchers!.MaybeRefreshBlocking();
    }

    /// <summary>Makes all changes durable (Lucene fsyncs the commit) and visible to new searches, labelled <paramref name="generation"/>.</summary>
    public void Commit(long generation)
    {
        var writer = Writer;
        writer.SetCommitData(CommitData(generation));
        writer.Commit();
        _searchers!.MaybeRefreshBlocking();
    }

    /// <summary>Lucene's own number (segments_N) of the newest commit in the directory.</summary>
    public long CommitNumber => SegmentInfos.GetLastCommitGeneration(_directory);

    /// <summary>Discards uncommitted changes.</summary>
    public void Rollback()
    {
        try
        {
            Writer.Rollback();
        }
        catch (ObjectDisposedException)
        {
            // already rolled back (and so closed)
        }
    }

    private static Document ToLucene(LexicalChunk c)
    {
        var doc = new Document
        {
            new Int64Field(ChunkIdField, c.ChunkId, Field.Store.YES),
            new TextField(ContentsField, c.Title.Length == 0 ? c.Text : c.Title + "\n" + c.Text, Field.Store.NO),
        };
        AddDocumentFields(doc, c);
        return doc;
    }

    // The document entry: no chunk id, the document's title and whole text in its own field, the filter fields and,
    // from format 3 on, the document's text hash (one term a document; an index of an older format keeps its layout).
    private static Document DocumentEntry(LexicalChunk first, string documentText, int format)
    {
        var doc = new Document
        {
            new TextField(DocumentField, first.Title.Length == 0 ? documentText : first.Title + "\n" + documentText, Field.Store.NO),
        };
        AddDocumentFields(doc, first);
        if (format >= 3 && first.TextHash is { } textHash)
        {
            doc.Add(new StringField(TextHashField, textHash, Field.Store.NO));
        }
        return doc;
    }

    // The fields every entry of a document carries: its id (deletes, hydration) and what filters test.
    private static void AddDocumentFields(Document doc, LexicalChunk c)
    {
        doc.Add(new StringField(DocIdField, c.DocumentId, Field.Store.YES));
        doc.Add(new StringField(PathField, c.Path, Field.Store.NO));
        doc.Add(new StringField(TypeField, c.FileType.ToLowerInvariant(), Field.Store.NO));
        doc.Add(new Int64Field(ModifiedField, c.ModifiedUtc.ToUniversalTime().Ticks, Field.Store.NO));
        foreach (var (k, v) in c.Metadata)
        {
            if (k.StartsWith(StoredOnlyPrefix, StringComparison.Ordinal))
            {
                continue; // kept in the metadata store, never a filter term (it may be any size)
            }
            doc.Add(new StringField(MetaPrefix + k, v, Field.Store.NO));
        }
    }

    private IndexWriter Writer => _writer ?? throw new InvalidOperationException($"{_path}: lexical index was opened read-only");

    // Searches hold a reference on the searcher they started with, so a commit never closes a reader under them.
    private T WithSearcher<T>(Func<IndexSearcher, T> use)
    {
        if (_fixedSearcher is not null)
        {
            return use(_fixedSearcher);
        }
        var searcher = _searchers!.Acquire();
        try
        {
            return use(searcher);
        }
        finally
        {
            _searchers.Release(searcher);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _searchers?.Dispose();
        _reader?.Dispose();
        _writer?.Dispose();
        _analyzer.Dispose();
        _directory.Dispose();
    }
}
