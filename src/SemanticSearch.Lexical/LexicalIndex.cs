// BM25 over a Lucene.Net 4.8 index.
//
// Scoring follows the configuration that Pyserini's BEIR "flat" regressions use: one analysed field holding title and
// text, Lucene's English analysis (standard tokenizer, possessive removal, lower case, English stop words, Porter
// stemming), BM25 with k1 = 0.9 and b = 0.4, and a bag-of-words query in which each distinct query term is one SHOULD
// clause boosted by how often it occurs in the query. Free text never goes through the query parser, so no user input
// is a syntax error.
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
using Lucene.Net.Analysis.TokenAttributes;
using Lucene.Net.Documents;
using Lucene.Net.Index;
using Lucene.Net.Search;
using Lucene.Net.Search.Similarities;
using Lucene.Net.Store;
using Lucene.Net.Util;
using SemanticSearch.Core;
using LuceneDirectory = Lucene.Net.Store.Directory;

namespace SemanticSearch.Lexical;

/// <summary>BM25 parameters and analysis of the lexical index (recorded in the index manifest).</summary>
/// <param name="K1">Term-frequency saturation.</param>
/// <param name="B">Length normalisation.</param>
/// <param name="Analyzer">Analysis chain; only <c>english</c> (Porter-stemmed, stop words removed) is built in.</param>
public sealed record LexicalOptions(float K1 = 0.9f, float B = 0.4f, string Analyzer = "english")
{
    /// <summary>Throws <see cref="InvalidSettingException"/> naming the bad setting.</summary>
    public void Validate()
    {
        if (!(K1 >= 0 && K1 <= 10))
        {
            throw new InvalidSettingException("lexical.k1", $"must be between 0 and 10 (got {K1}).");
        }
        if (!(B >= 0 && B <= 1))
        {
            throw new InvalidSettingException("lexical.b", $"must be between 0 and 1 (got {B}).");
        }
        if (Analyzer != "english")
        {
            throw new InvalidSettingException("lexical.analyzer", $"unknown analyzer '{Analyzer}' (known: english).");
        }
    }
}

/// <summary>A chunk as the lexical index stores it: searchable text plus the fields that filters test.</summary>
public sealed record LexicalChunk(
    long ChunkId,
    string DocumentId,
    string Title,
    string Text,
    string Path,
    string FileType,
    DateTime ModifiedUtc,
    IReadOnlyDictionary<string, string> Metadata);

/// <summary>Restricts results to chunks whose document matches every given condition.</summary>
public sealed record LexicalFilter(
    string? PathPrefix = null,
    IReadOnlyList<string>? FileTypes = null,
    DateTime? ModifiedAfterUtc = null,
    IReadOnlyDictionary<string, string>? Metadata = null);

/// <summary>A lexical match: chunk id, its document and its BM25 score.</summary>
public readonly record struct LexicalHit(long ChunkId, string DocumentId, float Score);

/// <summary>A document-level lexical match: the document and its whole-document BM25 score.</summary>
public readonly record struct LexicalDocumentHit(string DocumentId, float Score);

/// <summary>A read-only open asked for a commit that a writer has since deleted; re-read the manifest and open again.</summary>
public sealed class StaleGenerationException : SemanticSearchException
{
    /// <summary>Creates the exception for <paramref name="path"/> and the generation that was asked for.</summary>
    public StaleGenerationException(string path, long generation)
        : base($"{path}: the commit of generation {generation} is gone (a writer committed since); open again") => Generation = generation;

    /// <summary>Creates the exception for <paramref name="path"/> with the error that showed the commit is gone.</summary>
    public StaleGenerationException(string path, long generation, Exception inner)
        : base($"{path}: the commit of generation {generation} is gone (a writer committed since); open again", inner) => Generation = generation;

    /// <summary>The generation that was asked for.</summary>
    public long Generation { get; }
}

/// <summary>The BM25 store of an index: add, delete by document, search documents or chunks, commit.</summary>
public sealed class LexicalIndex : IDisposable
{
    private const LuceneVersion Version = LuceneVersion.LUCENE_48;
    internal const string ContentsField = "contents";
    internal const string DocumentField = "document";
    private const string ChunkIdField = "chunk_id";
    private const string DocIdField = "doc_id";
    private const string PathField = "path";
    private const string TypeField = "type";
    private const string ModifiedField = "modified";
    private const string MetaPrefix = "meta.";

    private readonly LuceneDirectory _directory;
    private readonly Analyzer _analyzer;
    private readonly BM25Similarity _similarity;
    private readonly IndexWriter? _writer;
    private readonly SearcherManager? _searchers;      // writable: refreshed at every commit
    private readonly DirectoryReader? _reader;         // read-only: the commit of the manifest's generation, fixed
    private readonly IndexSearcher? _fixedSearcher;
    private readonly string _path;
    private int _format;

    /// <summary>The lexical format this build writes: 2, chunk entries plus one document entry per document.</summary>
    public const int CurrentFormat = 2;

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

    private const string GenerationKey = "semsearch.generation";

    /// <summary>
    /// The generation named in a commit's user data; null for a commit written before generations were recorded
    /// (such a commit matches any generation, so older indexes keep opening).
    /// </summary>
    private static long? GenerationOf(IndexCommit commit) =>
        commit.UserData.TryGetValue(GenerationKey, out var v) && long.TryParse(v, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var g) ? g : null;

    // The lexical format of a commit: 1 when the commit data names none (written before document entries existed).
    private static int FormatOf(IndexCommit commit) =>
        commit.UserData.TryGetValue(FormatKey, out var v) && int.TryParse(v, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var f) ? f : 1;

    private Dictionary<string, string> CommitData(long generation) => new()
    {
        [GenerationKey] = generation.ToString(System.Globalization.CultureInfo.InvariantCulture),
        [FormatKey] = _format.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    /// <summary>
    /// The layout of the opened commit: 2 (this build's) has a document entry per document and ranks documents by
    /// whole-document BM25; 1 has chunk entries only, and documents score as their best chunk.
    /// </summary>
    public int Format => _format;

    /// <summary>True when documents are ranked on their document entries (<see cref="Format"/> 2 or later).</summary>
    public bool HasDocumentEntries => _format >= 2;

    private static IndexCommit? NewestCommit(LuceneDirectory directory)
    {
        if (!DirectoryReader.IndexExists(directory))
        {
            return null;
        }
        var commits = DirectoryReader.ListCommits(directory);
        return commits.Count == 0 ? null : commits[commits.Count - 1];
    }

    // The newest commit labelled with generation (commits are listed oldest first); an unlabelled newest commit is
    // taken as the generation asked for.
    private static IndexCommit? CommitOf(LuceneDirectory directory, long generation)
    {
        if (!DirectoryReader.IndexExists(directory))
        {
            return null;
        }
        var commits = DirectoryReader.ListCommits(directory);
        for (var i = commits.Count - 1; i >= 0; i--)
        {
            var g = GenerationOf(commits[i]);
            if (g == generation || (g is null && i == commits.Count - 1))
            {
                return commits[i];
            }
        }
        return null;
    }

    /// <summary>The generations named by the commits in the lexical directory at <paramref name="path"/>, oldest first (for checks).</summary>
    public static IReadOnlyList<long?> CommitGenerations(string path)
    {
        using var dir = FSDirectory.Open(path);
        if (!DirectoryReader.IndexExists(dir))
        {
            return [];
        }
        var result = new List<long?>();
        foreach (var c in DirectoryReader.ListCommits(dir))
        {
            result.Add(GenerationOf(c));
        }
        return result;
    }

    /// <summary>
    /// Runs Lucene's CheckIndex over the directory at <paramref name="path"/> (every segment read, checksums verified);
    /// returns null when clean, else a one-line description of what is wrong.
    /// </summary>
    public static string? Check(string path)
    {
        try
        {
            using var dir = FSDirectory.Open(path);
            var checker = new CheckIndex(dir);
            var status = checker.DoCheckIndex();
            if (status.Clean)
            {
                return null;
            }
            if (status.MissingSegments)
            {
                return "no readable segments file";
            }
            foreach (var seg in status.SegmentInfos)
            {
                if (seg.OpenReaderPassed == false || seg.FieldNormStatus?.Error is not null || seg.TermIndexStatus?.Error is not null
                    || seg.StoredFieldStatus?.Error is not null || seg.DocValuesStatus?.Error is not null || seg.TermVectorStatus?.Error is not null)
                {
                    return $"segment {seg.Name} is damaged";
                }
            }
            return $"{status.NumBadSegments} damaged segment(s)";
        }
        catch (Exception e) when (e is IOException or CorruptIndexException or IndexFormatTooOldException or IndexFormatTooNewException or EndOfStreamException or InvalidOperationException or IndexOutOfRangeException or ArgumentException)
        {
            return $"unreadable: {e.Message}";
        }
    }

    /// <summary>Keeps the newest <c>count</c> commits, so a reader opening the previous generation still finds it.</summary>
    private sealed class KeepLastCommits(int count) : IndexDeletionPolicy
    {
        public override void OnInit<T>(IList<T> commits)
        {
            // nothing is deleted at open: an interrupted newer commit is dropped by the commits that follow
        }

        public override void OnCommit<T>(IList<T> commits)
        {
            for (var i = 0; i < commits.Count - count; i++)
            {
                commits[i].Delete();
            }
        }
    }

    // BM25 with N and the average field length taken from the field's own DocCount (entries that hold the field) rather
    // than MaxDoc (every entry): chunk and document entries share the index, and each field must be scored as if its
    // kind of entry were alone. On an index with one kind of entry, whose every entry has the field, the two are equal.
    private sealed class FieldBM25Similarity(float k1, float b) : BM25Similarity(k1, b)
    {
        private static long Entries(CollectionStatistics stats) => stats.DocCount > 0 ? stats.DocCount : stats.MaxDoc;

        protected override float AvgFieldLength(CollectionStatistics collectionStats)
        {
            var sum = collectionStats.SumTotalTermFreq;
            return sum <= 0 ? 1f : (float)(sum / (double)Entries(collectionStats));
        }

        public override Explanation IdfExplain(CollectionStatistics collectionStats, TermStatistics termStats)
        {
            var df = termStats.DocFreq;
            var n = Entries(collectionStats);
            return new Explanation(Idf(df, n), $"idf(docFreq={df}, docCount={n})");
        }

        public override Explanation IdfExplain(CollectionStatistics collectionStats, TermStatistics[] termStats)
        {
            var n = Entries(collectionStats);
            var exp = new Explanation { Description = "idf(), sum of:" };
            var idf = 0f;
            foreach (var t in termStats)
            {
                var termIdf = Idf(t.DocFreq, n);
                exp.AddDetail(new Explanation(termIdf, $"idf(docFreq={t.DocFreq}, docCount={n})"));
                idf += termIdf;
            }
            exp.Value = idf;
            return exp;
        }
    }

    // Every searcher the manager hands out scores with the index's BM25 parameters.
    private sealed class BM25SearcherFactory(Similarity similarity) : SearcherFactory
    {
        public override IndexSearcher NewSearcher(IndexReader reader) => new(reader) { Similarity = similarity };
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
            throw new SemanticSearchException($"{path}: the lexical index is locked by another writer ({e.Message})", e);
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
            writer.AddDocument(DocumentEntry(first, documentText));
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

    /// <summary>Live chunks in the last commit (document entries are not counted).</summary>
    public int Count => AllChunkIds().Count;

    /// <summary>Ids of every live chunk in the last commit (for cross-store checks); document entries have none.</summary>
    public IReadOnlyList<long> AllChunkIds()
    {
        return WithSearcher(s =>
        {
            var reader = s.IndexReader;
            var ids = new List<long>(reader.NumDocs);
            var live = MultiFields.GetLiveDocs(reader);
            var fields = new HashSet<string> { ChunkIdField };
            for (var i = 0; i < reader.MaxDoc; i++)
            {
                if ((live is null || live.Get(i)) && reader.Document(i, fields).GetField(ChunkIdField) is { } id)
                {
                    ids.Add(id.GetInt64Value() ?? -1);
                }
            }
            return ids;
        });
    }

    /// <summary>Document ids of every live document entry in the last commit (empty in format 1; for cross-store checks).</summary>
    public IReadOnlyList<string> AllDocumentEntryIds()
    {
        return WithSearcher(s =>
        {
            var reader = s.IndexReader;
            var ids = new List<string>();
            var live = MultiFields.GetLiveDocs(reader);
            var fields = new HashSet<string> { ChunkIdField, DocIdField };
            for (var i = 0; i < reader.MaxDoc; i++)
            {
                if (live is null || live.Get(i))
                {
                    var doc = reader.Document(i, fields);
                    if (doc.GetField(ChunkIdField) is null)
                    {
                        ids.Add(doc.Get(DocIdField));
                    }
                }
            }
            return (IReadOnlyList<string>)ids;
        });
    }

    /// <summary>
    /// The top <paramref name="k"/> chunks for <paramref name="query"/> by BM25, best first; ties in score are broken
    /// by Lucene document order, which is insertion order.
    /// </summary>
    public IReadOnlyList<LexicalHit> Search(string query, int k, LexicalFilter? filter = null)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (k <= 0)
        {
            return [];
        }
        var q = BuildQuery(query, ContentsField);
        if (q is null)
        {
            return [];
        }
        var f = BuildFilter(filter);
        return WithSearcher(searcher =>
        {
            var top = f is null ? searcher.Search(q, k) : searcher.Search(q, f, k);
            var hits = new List<LexicalHit>(top.ScoreDocs.Length);
            var leaves = searcher.IndexReader.Leaves;
            var bytes = new BytesRef();
            foreach (var sd in top.ScoreDocs)
            {
                // ids come from per-segment field caches (built once per segment, shared by later searchers),
                // not from stored fields: loading stored documents cost ~30 µs a hit, a third of a deep hybrid query
                var leaf = leaves[ReaderUtil.SubIndex(sd.Doc, leaves)];
                var local = sd.Doc - leaf.DocBase;
                var chunkId = FieldCache.DEFAULT.GetInt64s(leaf.AtomicReader, ChunkIdField, FieldCache.NUMERIC_UTILS_INT64_PARSER, false).Get(local);
                FieldCache.DEFAULT.GetTerms(leaf.AtomicReader, DocIdField, false).Get(local, bytes);
                hits.Add(new LexicalHit(chunkId, bytes.Utf8ToString(), sd.Score));
            }
            return hits;
        });
    }

    /// <summary>
    /// The top <paramref name="k"/> documents for <paramref name="query"/> by whole-document BM25 (title and full text
    /// as one field), best first, ties broken by insertion order. Needs <see cref="HasDocumentEntries"/>.
    /// </summary>
    public IReadOnlyList<LexicalDocumentHit> SearchDocuments(string query, int k, LexicalFilter? filter = null)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (!HasDocumentEntries)
        {
            throw new InvalidOperationException($"{_path}: lexical format {_format} has no document entries; rank by best chunk with Search");
        }
        if (k <= 0)
        {
            return [];
        }
        var q = BuildQuery(query, DocumentField);
        if (q is null)
        {
            return [];
        }
        var f = BuildFilter(filter);
        return WithSearcher(searcher =>
        {
            var top = f is null ? searcher.Search(q, k) : searcher.Search(q, f, k);
            var hits = new List<LexicalDocumentHit>(top.ScoreDocs.Length);
            var leaves = searcher.IndexReader.Leaves;
            var bytes = new BytesRef();
            foreach (var sd in top.ScoreDocs)
            {
                var leaf = leaves[ReaderUtil.SubIndex(sd.Doc, leaves)];
                FieldCache.DEFAULT.GetTerms(leaf.AtomicReader, DocIdField, false).Get(sd.Doc - leaf.DocBase, bytes);
                hits.Add(new LexicalDocumentHit(bytes.Utf8ToString(), sd.Score));
            }
            return (IReadOnlyList<LexicalDocumentHit>)hits;
        });
    }

    /// <summary>
    /// The best-scoring chunk for <paramref name="query"/> of each of <paramref name="documentIds"/> (chunk BM25 on the
    /// chunk field; ties go to the earlier chunk); documents none of whose chunks match are left out.
    /// </summary>
    public IReadOnlyDictionary<string, LexicalHit> BestChunks(string query, IReadOnlyCollection<string> documentIds)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(documentIds);
        var best = new Dictionary<string, LexicalHit>(StringComparer.Ordinal);
        var q = BuildQuery(query, ContentsField);
        if (q is null || documentIds.Count == 0)
        {
            return best;
        }
        return WithSearcher(searcher =>
        {
            // only the chunks of the given documents are scored: a page of hits, not the whole index
            foreach (var part in documentIds.Chunk(BooleanQuery.MaxClauseCount))
            {
                var only = new BooleanQuery();
                foreach (var id in part)
                {
                    only.Add(new TermQuery(new Term(DocIdField, id)), Occur.SHOULD);
                }
                searcher.Search(q, new QueryWrapperFilter(only), new BestChunkCollector(best));
            }
            return (IReadOnlyDictionary<string, LexicalHit>)best;
        });
    }

    // Keeps the highest-scoring chunk per document; documents are collected in order, so a tie keeps the earlier chunk.
    private sealed class BestChunkCollector(Dictionary<string, LexicalHit> best) : ICollector
    {
        private Scorer? _scorer;
        private FieldCache.Int64s? _chunkIds;
        private BinaryDocValues? _docIds;
        private readonly BytesRef _bytes = new();

        public void SetScorer(Scorer scorer) => _scorer = scorer;

        public void SetNextReader(AtomicReaderContext context)
        {
            _chunkIds = FieldCache.DEFAULT.GetInt64s(context.AtomicReader, ChunkIdField, FieldCache.NUMERIC_UTILS_INT64_PARSER, false);
            _docIds = FieldCache.DEFAULT.GetTerms(context.AtomicReader, DocIdField, false);
        }

        public void Collect(int doc)
        {
            var score = _scorer!.GetScore();
            _docIds!.Get(doc, _bytes);
            var id = _bytes.Utf8ToString();
            if (!best.TryGetValue(id, out var kept) || score > kept.Score)
            {
                best[id] = new LexicalHit(_chunkIds!.Get(doc), id, score);
            }
        }

        public bool AcceptsDocsOutOfOrder => false;
    }

    /// <summary>Every live chunk of the last commit with its document id (for the engine's chunk → document map).</summary>
    public IReadOnlyList<(long ChunkId, string DocumentId)> AllChunkDocuments()
    {
        return WithSearcher(s =>
        {
            var reader = s.IndexReader;
            var result = new List<(long, string)>(reader.NumDocs);
            var live = MultiFields.GetLiveDocs(reader);
            var fields = new HashSet<string> { ChunkIdField, DocIdField };
            for (var i = 0; i < reader.MaxDoc; i++)
            {
                if (live is null || live.Get(i))
                {
                    var doc = reader.Document(i, fields);
                    if (doc.GetField(ChunkIdField) is { } id)
                    {
                        result.Add((id.GetInt64Value() ?? -1, doc.Get(DocIdField)));
                    }
                }
            }
            return (IReadOnlyList<(long, string)>)result;
        });
    }

    /// <summary>Ids of every chunk whose document meets <paramref name="filter"/> (for filtering other retrievers).</summary>
    public IReadOnlySet<long> MatchingChunkIds(LexicalFilter filter)
    {
        var f = BuildFilter(filter);
        return WithSearcher(searcher =>
        {
            var ids = new HashSet<long>();
            var reader = searcher.IndexReader;
            if (reader.NumDocs == 0)
            {
                return (IReadOnlySet<long>)ids;
            }
            Query q = f is null ? new MatchAllDocsQuery() : new ConstantScoreQuery(f);
            var top = searcher.Search(q, reader.MaxDoc);
            var leaves = reader.Leaves;
            foreach (var sd in top.ScoreDocs)
            {
                var leaf = leaves[ReaderUtil.SubIndex(sd.Doc, leaves)];
                var local = sd.Doc - leaf.DocBase;
                if (!FieldCache.DEFAULT.GetDocsWithField(leaf.AtomicReader, ChunkIdField).Get(local))
                {
                    continue; // a document entry
                }
                ids.Add(FieldCache.DEFAULT.GetInt64s(leaf.AtomicReader, ChunkIdField, FieldCache.NUMERIC_UTILS_INT64_PARSER, false).Get(local));
            }
            return ids;
        });
    }

    /// <summary>The analysed terms of <paramref name="text"/>, as BM25 sees them (for tests and snippets).</summary>
    public IReadOnlyList<string> Analyze(string text) => AnalyzeWith(_analyzer, text);

    internal static IReadOnlyList<string> AnalyzeWith(Analyzer analyzer, string text)
    {
        var terms = new List<string>();
        using var ts = analyzer.GetTokenStream(ContentsField, text);
        var term = ts.AddAttribute<ICharTermAttribute>();
        ts.Reset();
        while (ts.IncrementToken())
        {
            terms.Add(term.ToString());
        }
        ts.End();
        return terms;
    }

    private Query? BuildQuery(string text, string field)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        var order = new List<string>();
        foreach (var t in Analyze(text))
        {
            if (counts.TryGetValue(t, out var n))
            {
                counts[t] = n + 1;
            }
            else if (order.Count < BooleanQuery.MaxClauseCount)
            {
                counts[t] = 1;
                order.Add(t);
            }
        }
        if (order.Count == 0)
        {
            return null;
        }
        var bq = new BooleanQuery();
        foreach (var t in order)
        {
            var tq = new TermQuery(new Term(field, t)) { Boost = counts[t] };
            bq.Add(tq, Occur.SHOULD);
        }
        return bq;
    }

    private static Filter? BuildFilter(LexicalFilter? filter)
    {
        if (filter is null)
        {
            return null;
        }
        var bq = new BooleanQuery();
        var any = false;
        if (!string.IsNullOrEmpty(filter.PathPrefix))
        {
            bq.Add(new PrefixQuery(new Term(PathField, filter.PathPrefix)), Occur.MUST);
            any = true;
        }
        if (filter.FileTypes is { Count: > 0 } types)
        {
            var or = new BooleanQuery();
            foreach (var t in types)
            {
                or.Add(new TermQuery(new Term(TypeField, t.ToLowerInvariant())), Occur.SHOULD);
            }
            bq.Add(or, Occur.MUST);
            any = true;
        }
        if (filter.ModifiedAfterUtc is { } after)
        {
            bq.Add(NumericRangeQuery.NewInt64Range(ModifiedField, after.ToUniversalTime().Ticks, null, false, true), Occur.MUST);
            any = true;
        }
        if (filter.Metadata is { Count: > 0 } meta)
        {
            foreach (var (key, value) in meta)
            {
                bq.Add(new TermQuery(new Term(MetaPrefix + key, value)), Occur.MUST);
            }
            any = true;
        }
        return any ? new QueryWrapperFilter(bq) : null;
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

    // The document entry: no chunk id, the document's title and whole text in its own field, the filter fields.
    private static Document DocumentEntry(LexicalChunk first, string documentText)
    {
        var doc = new Document
        {
            new TextField(DocumentField, first.Title.Length == 0 ? documentText : first.Title + "\n" + documentText, Field.Store.NO),
        };
        AddDocumentFields(doc, first);
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
