// The read side of the lexical store: bag-of-words BM25 queries over chunks or whole documents, the best chunk of each
// matching document, filters as Lucene filters, and listings for cross-store checks. Parsed queries (phrases,
// exclusions) and spelling corrections are in LexicalIndex.Query.cs.
using Lucene.Net.Analysis;
using Lucene.Net.Analysis.TokenAttributes;
using Lucene.Net.Index;
using Lucene.Net.Queries;
using Lucene.Net.Search;
using Lucene.Net.Util;
using SemanticSearch.Core.Filtering;

namespace SemanticSearch.Lexical;

public sealed partial class LexicalIndex
{
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
        return SearchChunks(BuildQuery(query, ContentsField), k, filter);
    }

    private IReadOnlyList<LexicalHit> SearchChunks(Query? q, int k, LexicalFilter? filter)
    {
        if (k <= 0 || q is null)
        {
            return [];
        }
        var f = BuildFilter(filter);
        return WithSearcher(searcher =>
        {
            var top = Top(searcher, q, f, k);
            var hits = new List<LexicalHit>(top.Length);
            var leaves = searcher.IndexReader.Leaves;
            var bytes = new BytesRef();
            foreach (var sd in top)
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

    // The ranked entries of a query: a bag of words by MaxScore (Lucene's ranking, most postings skipped), a query with
    // operators by Lucene.
    private static ScoreDoc[] Top(IndexSearcher searcher, Query q, Filter? f, int k)
    {
        if (MaxScoreSearch.TryParse(q, out var field, out var terms) && MaxScoreSearch.Search(searcher, field, terms, k, f) is { } fast)
        {
            return fast;
        }
        return (f is null ? searcher.Search(q, k) : searcher.Search(q, f, k)).ScoreDocs;
    }

    /// <summary>
    /// The top <paramref name="k"/> documents for <paramref name="query"/> by whole-document BM25 (title and full text
    /// as one field), best first, ties broken by insertion order. Needs <see cref="HasDocumentEntries"/>.
    /// </summary>
    public IReadOnlyList<LexicalDocumentHit> SearchDocuments(string query, int k, LexicalFilter? filter = null)
    {
        ArgumentNullException.ThrowIfNull(query);
        RequireDocumentEntries();
        return SearchDocumentEntries(BuildQuery(query, DocumentField), k, filter);
    }

    private void RequireDocumentEntries()
    {
        if (!HasDocumentEntries)
        {
            throw new InvalidOperationException($"{_path}: lexical format {_format} has no document entries; rank by best chunk with Search");
        }
    }

    private IReadOnlyList<LexicalDocumentHit> SearchDocumentEntries(Query? q, int k, LexicalFilter? filter)
    {
        if (k <= 0 || q is null)
        {
            return [];
        }
        var f = BuildFilter(filter);
        return WithSearcher(searcher =>
        {
            var top = Top(searcher, q, f, k);
            var hits = new List<LexicalDocumentHit>(top.Length);
            var leaves = searcher.IndexReader.Leaves;
            var bytes = new BytesRef();
            foreach (var sd in top)
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
        return BestChunksFor(BuildQuery(query, ContentsField), documentIds);
    }

    private IReadOnlyDictionary<string, LexicalHit> BestChunksFor(Query? q, IReadOnlyCollection<string> documentIds)
    {
        ArgumentNullException.ThrowIfNull(documentIds);
        var best = new Dictionary<string, LexicalHit>(StringComparer.Ordinal);
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
    /// <remarks>
    /// Read from the per-segment field caches that searches build anyway, not from stored fields: stored fields are
    /// compressed in blocks with the chunk text, so reading two small fields of every entry decompressed the whole
    /// index (12.6 s at a million chunks, all of it before the first dense query). The chunks of one document, written
    /// one after another, share one id string.
    /// </remarks>
    public IReadOnlyList<(long ChunkId, string DocumentId)> AllChunkDocuments()
    {
        return WithSearcher(s =>
        {
            var reader = s.IndexReader;
            var result = new List<(long, string)>(reader.NumDocs);
            var bytes = new BytesRef();
            foreach (var leaf in reader.Leaves)
            {
                var segment = leaf.AtomicReader;
                var live = segment.LiveDocs;
                var isChunk = FieldCache.DEFAULT.GetDocsWithField(segment, ChunkIdField);
                var chunkIds = FieldCache.DEFAULT.GetInt64s(segment, ChunkIdField, FieldCache.NUMERIC_UTILS_INT64_PARSER, false);
                var docIds = FieldCache.DEFAULT.GetTerms(segment, DocIdField, false); // the cache the searches use
                var last = new BytesRef();
                string? name = null;
                for (var i = 0; i < segment.MaxDoc; i++)
                {
                    if ((live is null || live.Get(i)) && isChunk.Get(i))
                    {
                        docIds.Get(i, bytes);
                        if (name is null || !bytes.BytesEquals(last))
                        {
                            name = bytes.Utf8ToString(); // a document's chunks are written one after another
                            last.CopyBytes(bytes);
                        }
                        result.Add((chunkIds.Get(i), name));
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

    /// <summary>
    /// Ids of every document that has an entry meeting <paramref name="filter"/> (null: every document), in ordinal
    /// order; for listing documents by their metadata without a query.
    /// </summary>
    public IReadOnlyList<string> MatchingDocumentIds(LexicalFilter? filter)
    {
        var f = BuildFilter(filter);
        return WithSearcher(searcher =>
        {
            var reader = searcher.IndexReader;
            if (reader.NumDocs == 0)
            {
                return (IReadOnlyList<string>)[];
            }
            Query q = f is null ? new MatchAllDocsQuery() : new ConstantScoreQuery(f);
            var top = searcher.Search(q, reader.MaxDoc);
            var ids = new SortedSet<string>(StringComparer.Ordinal);
            var fields = new HashSet<string>(StringComparer.Ordinal) { DocIdField };
            foreach (var sd in top.ScoreDocs)
            {
                if (searcher.Doc(sd.Doc, fields).Get(DocIdField) is { } id)
                {
                    ids.Add(id);
                }
            }
            return (IReadOnlyList<string>)[.. ids];
        });
    }

    /// <summary>
    /// Ids of the documents whose text hash is one of <paramref name="textHashes"/>, each once, in ordinal order.
    /// Document entries carry the hash from lexical format 3 on: an index of an older format finds none (its metadata
    /// store indexes the hashes). The cost is the documents with those hashes and one seek per hash and segment, not
    /// the index's size.
    /// </summary>
    public IReadOnlyList<string> DocumentIdsWithTextHashes(IReadOnlyCollection<string> textHashes)
    {
        ArgumentNullException.ThrowIfNull(textHashes);
        if (textHashes.Count == 0)
        {
            return [];
        }
        var filter = new TermsFilter(TextHashField, textHashes.Select(h => new BytesRef(h)).ToList());
        return WithSearcher(searcher =>
        {
            var ids = new List<string>();
            searcher.Search(new ConstantScoreQuery(filter), new MatchCollector(ids));
            return (IReadOnlyList<string>)[.. ids.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
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

    // The bag-of-words query: one SHOULD clause per distinct term (at most `maxClauses`), boosted by its count.
    private BooleanQuery? BuildQuery(string text, string field, int maxClauses = -1)
    {
        var limit = maxClauses < 0 ? BooleanQuery.MaxClauseCount : maxClauses;
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        var order = new List<string>();
        foreach (var t in Analyze(text))
        {
            if (counts.TryGetValue(t, out var n))
            {
                counts[t] = n + 1;
            }
            else if (order.Count < limit)
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
        if (!string.IsNullOrEmpty(filter.PathPrefix) && RelativePrefix(filter.PathPrefix).Length > 0)
        {
            // absolute (the full path) or relative (the id's form: "docs/guide", "./docs", "docs\\guide"); a prefix of
            // either field admits the document, so one form never silently finds nothing where the other finds it
            var either = new BooleanQuery
            {
                { new PrefixQuery(new Term(PathField, filter.PathPrefix)), Occur.SHOULD },
            };
            var relative = RelativePrefix(filter.PathPrefix);
            if (relative.Length > 0)
            {
                either.Add(new PrefixQuery(new Term(DocIdField, relative)), Occur.SHOULD);
            }
            bq.Add(either, Occur.MUST);
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
        if (filter.ModifiedAfterUtc is not null || filter.ModifiedBeforeUtc is not null)
        {
            bq.Add(NumericRangeQuery.NewInt64Range(ModifiedField, filter.ModifiedAfterUtc?.ToUniversalTime().Ticks, filter.ModifiedBeforeUtc?.ToUniversalTime().Ticks, false, false), Occur.MUST);
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
        if (filter.MetadataAnyOf is { Count: > 0 } anyOf)
        {
            foreach (var (key, values) in anyOf)
            {
                // an empty list admits nothing (a boolean query without clauses matches no entry)
                var or = new BooleanQuery();
                foreach (var value in values)
                {
                    or.Add(new TermQuery(new Term(MetaPrefix + key, value)), Occur.SHOULD);
                }
                bq.Add(or, Occur.MUST);
            }
            any = true;
        }
        if (filter.Where is { } where)
        {
            bq.Add(ConditionQuery(where), Occur.MUST);
            any = true;
        }
        return any ? new QueryWrapperFilter(bq) : null;
    }

    // A metadata condition as a Lucene query over the metadata fields: terms for equality, ordinal term ranges, and
    // boolean queries for All/Any/Not (a negation is "every entry but these", so it needs the match-all clause).
    private static Query ConditionQuery(MetadataCondition condition)
    {
        switch (condition)
        {
            case MetadataCondition.Equal eq:
                return new TermQuery(new Term(MetaPrefix + eq.Key, eq.Value));
            case MetadataCondition.Range r:
                return TermRangeQuery.NewStringRange(MetaPrefix + r.Key, r.Lower, r.Upper, r.IncludeLower, r.IncludeUpper);
            case MetadataCondition.All all:
            {
                var bq = new BooleanQuery { { new MatchAllDocsQuery(), Occur.MUST } };
                foreach (var c in all.Conditions)
                {
                    bq.Add(ConditionQuery(c), Occur.MUST);
                }
                return bq;
            }
            case MetadataCondition.Any any:
            {
                var bq = new BooleanQuery(); // no clause matches nothing
                foreach (var c in any.Conditions)
                {
                    bq.Add(ConditionQuery(c), Occur.SHOULD);
                }
                return bq;
            }
            case MetadataCondition.Not not:
                return new BooleanQuery
                {
                    { new MatchAllDocsQuery(), Occur.MUST },
                    { ConditionQuery(not.Condition), Occur.MUST_NOT },
                };
            default:
                throw new ArgumentException($"unknown metadata condition {condition.GetType().Name}", nameof(condition));
        }
    }

    // The id form of a path prefix: '/' separators, no leading "./"; empty for "." or "./" (the whole folder: no condition).
    internal static string RelativePrefix(string prefix)
    {
        var p = prefix.Replace('\\', '/');
        while (p.StartsWith("./", StringComparison.Ordinal))
        {
            p = p[2..];
        }
        return p == "." ? string.Empty : p;
    }
}
