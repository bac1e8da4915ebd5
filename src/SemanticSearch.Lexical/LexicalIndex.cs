// BM25 over a Lucene.Net 4.8 index.
//
// Scoring follows the configuration that Pyserini's BEIR "flat" regressions use: one analysed field holding title and
// text, Lucene's English analysis (standard tokenizer, possessive removal, lower case, English stop words, Porter
// stemming), BM25 with k1 = 0.9 and b = 0.4, and a bag-of-words query in which each distinct query term is one SHOULD
// clause boosted by how often it occurs in the query. Free text never goes through the query parser, so no user input
// is a syntax error.
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

/// <summary>The BM25 store of an index: add, delete by document, search, commit.</summary>
public sealed class LexicalIndex : IDisposable
{
    private const LuceneVersion Version = LuceneVersion.LUCENE_48;
    internal const string ContentsField = "contents";
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

    private LexicalIndex(string path, LexicalOptions options, bool readOnly, long generation)
    {
        options.Validate();
        _path = path;
        _similarity = new BM25Similarity(options.K1, options.B);
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
                _writer = new IndexWriter(_directory, config);
                if (newest is null || GenerationOf(newest) != generation)
                {
                    // An empty index has a commit point too, so readers can always open one.
                    _writer.SetCommitData(new Dictionary<string, string> { [GenerationKey] = generation.ToString(System.Globalization.CultureInfo.InvariantCulture) });
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

    /// <summary>Adds chunks (uncommitted until <see cref="Commit(long)"/>).</summary>
    public void Add(IEnumerable<LexicalChunk> chunks)
    {
        var writer = Writer;
        foreach (var c in chunks)
        {
            writer.AddDocument(ToLucene(c));
        }
    }

    /// <summary>Removes every chunk of <paramref name="documentId"/> (uncommitted until <see cref="Commit(long)"/>).</summary>
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
        writer.SetCommitData(new Dictionary<string, string> { [GenerationKey] = generation.ToString(System.Globalization.CultureInfo.InvariantCulture) });
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

    /// <summary>Live chunks in the last commit.</summary>
    public int Count => WithSearcher(s => s.IndexReader.NumDocs);

    /// <summary>Ids of every live chunk in the last commit (for cross-store checks).</summary>
    public IReadOnlyList<long> AllChunkIds()
    {
        return WithSearcher(s =>
        {
            var reader = s.IndexReader;
            var ids = new List<long>(reader.NumDocs);
            var live = MultiFields.GetLiveDocs(reader);
            for (var i = 0; i < reader.MaxDoc; i++)
            {
                if (live is null || live.Get(i))
                {
                    ids.Add(reader.Document(i).GetField(ChunkIdField).GetInt64Value() ?? -1);
                }
            }
            return ids;
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
        var q = BuildQuery(query);
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
                    result.Add((doc.GetField(ChunkIdField).GetInt64Value() ?? -1, doc.Get(DocIdField)));
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
                ids.Add(FieldCache.DEFAULT.GetInt64s(leaf.AtomicReader, ChunkIdField, FieldCache.NUMERIC_UTILS_INT64_PARSER, false).Get(sd.Doc - leaf.DocBase));
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

    private Query? BuildQuery(string text)
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
            var tq = new TermQuery(new Term(ContentsField, t)) { Boost = counts[t] };
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
            new StringField(DocIdField, c.DocumentId, Field.Store.YES),
            new StringField(PathField, c.Path, Field.Store.NO),
            new StringField(TypeField, c.FileType.ToLowerInvariant(), Field.Store.NO),
            new Int64Field(ModifiedField, c.ModifiedUtc.ToUniversalTime().Ticks, Field.Store.NO),
            new TextField(ContentsField, c.Title.Length == 0 ? c.Text : c.Title + "\n" + c.Text, Field.Store.NO),
        };
        foreach (var (k, v) in c.Metadata)
        {
            doc.Add(new StringField(MetaPrefix + k, v, Field.Store.NO));
        }
        return doc;
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
