// A parsed LexicalQuery as Lucene sees it, with the index's own analyzer: plain words are the bag-of-words SHOULD
// clauses of a plain query (so a query without operators ranks exactly as before), each required clause is a MUST
// clause and each exclusion a MUST_NOT clause. A clause that analyses to one term is a TermQuery; to several, a
// PhraseQuery with the analyzer's positions (a removed stop word leaves its gap, as Lucene's query parser does); to
// none (stop words only), nothing, and IgnoredClauses names it.
//
// The same clauses filter other retrievers (Constraint): a chunk passes when its document — or, per chunk and in
// lexical format 1, the chunk itself, the unit the lexical side ranks there — holds every required clause and no
// excluded one.
//
// Spelling (Correct): a word of the query that no entry of the ranked field holds is matched against that field's own
// term dictionary with Lucene's FuzzyTermsEnum (Levenshtein automata, transpositions count as one edit), at most 1
// edit for terms of 3 to 5 characters and 2 above, as Elasticsearch's "AUTO" fuzziness; the closest term wins, then
// the most frequent, then the first in term order.
using Lucene.Net.Analysis.TokenAttributes;
using Lucene.Net.Index;
using Lucene.Net.Queries;
using Lucene.Net.Search;
using Lucene.Net.Util;

namespace SemanticSearch.Lexical;

/// <summary>
/// The chunks a query's required and excluded clauses admit, for filtering another retriever:
/// <see cref="Admits"/> is true for a chunk in <see cref="Required"/> (when set) and not in <see cref="Excluded"/>.
/// </summary>
/// <param name="Required">Chunks that hold every required clause; null when the query requires none.</param>
/// <param name="Excluded">Chunks that hold an excluded clause.</param>
public sealed record LexicalConstraint(IReadOnlySet<long>? Required, IReadOnlySet<long> Excluded)
{
    /// <summary>Whether the chunk <paramref name="chunkId"/> passes.</summary>
    public bool Admits(long chunkId) => (Required is null || Required.Contains(chunkId)) && !Excluded.Contains(chunkId);

    /// <summary>No chunk can pass (a required clause no entry holds).</summary>
    public bool AdmitsNone => Required is { Count: 0 };
}

/// <summary>A word of a query that the index does not hold, and the closest term of the index's dictionary.</summary>
/// <param name="Start">Offset of the word in the raw query.</param>
/// <param name="Length">Length of the word in the raw query.</param>
/// <param name="Typed">The word as typed.</param>
/// <param name="Term">The index term (analysed, e.g. stemmed) that replaces it.</param>
/// <param name="ExampleChunk">A chunk whose text holds <paramref name="Term"/>, where a caller can find the word as written.</param>
public sealed record TermCorrection(int Start, int Length, string Typed, string Term, long ExampleChunk);

public sealed partial class LexicalIndex
{
    /// <summary>
    /// Where the searchable words of <paramref name="query"/> (its plain words and the words of its required clauses,
    /// not its exclusions) occur in <paramref name="text"/>, as BM25 matches them: both sides through the index's
    /// analyzer, so "volcanoes" marks "volcano" (the same stem) and a stop word ("how") marks nothing. Character spans
    /// (start, length) into <paramref name="text"/>, in order.
    /// </summary>
    public IReadOnlyList<(int Start, int Length)> Highlights(string text, LexicalQuery query)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(query);
        var wanted = new HashSet<string>(StringComparer.Ordinal);
        foreach (var clause in query.Free.Concat(query.Required))
        {
            wanted.UnionWith(Analyze(clause.Text));
        }
        var spans = new List<(int, int)>();
        if (wanted.Count == 0 || text.Length == 0)
        {
            return spans;
        }
        foreach (var (term, start, end) in AnalyzeWithOffsets(text))
        {
            if (wanted.Contains(term))
            {
                spans.Add((start, end - start));
            }
        }
        return spans;
    }

    /// <summary>
    /// The top <paramref name="k"/> chunks for a parsed <paramref name="query"/> (see <see cref="LexicalQuery"/>); a
    /// plain query ranks as <see cref="Search(string, int, LexicalFilter?)"/>.
    /// </summary>
    public IReadOnlyList<LexicalHit> Search(LexicalQuery query, int k, LexicalFilter? filter = null)
    {
        ArgumentNullException.ThrowIfNull(query);
        return SearchChunks(BuildQuery(query, ContentsField), k, filter);
    }

    /// <summary>
    /// The top <paramref name="k"/> documents for a parsed <paramref name="query"/>; a plain query ranks as
    /// <see cref="SearchDocuments(string, int, LexicalFilter?)"/>. Needs <see cref="HasDocumentEntries"/>.
    /// </summary>
    public IReadOnlyList<LexicalDocumentHit> SearchDocuments(LexicalQuery query, int k, LexicalFilter? filter = null)
    {
        ArgumentNullException.ThrowIfNull(query);
        RequireDocumentEntries();
        return SearchDocumentEntries(BuildQuery(query, DocumentField), k, filter);
    }

    /// <summary>
    /// Every match of <paramref name="query"/> under <paramref name="filter"/>, unranked, as the document id of each:
    /// the matching documents once each (their document entries, as <see cref="SearchDocuments(LexicalQuery, int, LexicalFilter?)"/>
    /// ranks them; in lexical format 1, documents with a matching chunk), or with <paramref name="perChunk"/> one entry
    /// per matching chunk. Its count is the exact number of lexical hits the query has; hit totals and facets count it.
    /// </summary>
    public IReadOnlyList<string> MatchingDocuments(LexicalQuery query, LexicalFilter? filter, bool perChunk)
    {
        ArgumentNullException.ThrowIfNull(query);
        var byDocument = !perChunk && HasDocumentEntries;
        var ids = new List<string>();
        CollectMatches(query, filter, byDocument, new MatchCollector(ids));
        return perChunk || byDocument ? ids : ids.Distinct(StringComparer.Ordinal).ToList();
    }

    /// <summary>
    /// How many entries <see cref="MatchingDocuments"/> would return, counted without reading a single id (a common
    /// word matches most of a large index: a million ids read and turned into strings only to be counted).
    /// </summary>
    public int CountMatchingDocuments(LexicalQuery query, LexicalFilter? filter, bool perChunk)
    {
        ArgumentNullException.ThrowIfNull(query);
        var byDocument = !perChunk && HasDocumentEntries;
        if (!perChunk && !byDocument)
        {
            return MatchingDocuments(query, filter, perChunk).Count; // format 1: documents are distinct chunk owners
        }
        var count = new TotalHitCountCollector();
        CollectMatches(query, filter, byDocument, count);
        return count.TotalHits;
    }

    // Every entry the query matches under the filter (document entries, else chunk entries) into the collector,
    // unranked; nothing when the query has no term to search for.
    private void CollectMatches(LexicalQuery query, LexicalFilter? filter, bool byDocument, ICollector collector)
    {
        var q = BuildQuery(query, byDocument ? DocumentField : ContentsField);
        if (q is null)
        {
            return;
        }
        var f = BuildFilter(filter);
        WithSearcher(searcher =>
        {
            if (f is null)
            {
                searcher.Search(q, collector);
            }
            else
            {
                searcher.Search(q, f, collector);
            }
            return true;
        });
    }

    // The document id of every matching entry, one per match, in any order.
    private sealed class MatchCollector(List<string> ids) : ICollector
    {
        private BinaryDocValues? _docIds;
        private readonly BytesRef _bytes = new();

        public void SetScorer(Scorer scorer)
        {
        }

        public void SetNextReader(AtomicReaderContext context) => _docIds = FieldCache.DEFAULT.GetTerms(context.AtomicReader, DocIdField, false);

        public void Collect(int doc)
        {
            _docIds!.Get(doc, _bytes);
            ids.Add(_bytes.Utf8ToString());
        }

        public bool AcceptsDocsOutOfOrder => true;
    }

    /// <summary>
    /// The best chunk for the positive part of <paramref name="query"/> (its words and required clauses, each optional
    /// here so a phrase cut by a chunk boundary still picks a chunk; exclusions play no part) of each document.
    /// </summary>
    public IReadOnlyDictionary<string, LexicalHit> BestChunks(LexicalQuery query, IReadOnlyCollection<string> documentIds)
    {
        ArgumentNullException.ThrowIfNull(query);
        return BestChunksFor(query.IsPlain ? BuildQuery(query.Text, ContentsField) : ScoringQuery(query, ContentsField), documentIds);
    }

    /// <summary>
    /// The chunks <paramref name="query"/>'s required and excluded clauses admit, judged per document (its document
    /// entry) or, with <paramref name="perChunk"/> or in lexical format 1, per chunk — as the lexical side of the same
    /// query judges its hits; null when the query has no such clause.
    /// </summary>
    public LexicalConstraint? Constraint(LexicalQuery query, bool perChunk)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (query.IsPlain)
        {
            return null;
        }
        var byDocument = !perChunk && HasDocumentEntries;
        var field = byDocument ? DocumentField : ContentsField;
        var required = query.Required.Select(c => ClauseQuery(c, field)).OfType<Query>().Take(BooleanQuery.MaxClauseCount).ToList();
        var excluded = query.Excluded.Select(c => ClauseQuery(c, field)).OfType<Query>().Take(BooleanQuery.MaxClauseCount).ToList();
        if (required.Count == 0 && excluded.Count == 0)
        {
            return null;
        }
        return WithSearcher(searcher =>
        {
            HashSet<long>? admitted = null;
            if (required.Count > 0)
            {
                var all = new BooleanQuery();
                foreach (var q in required)
                {
                    all.Add(q, Occur.MUST);
                }
                admitted = byDocument ? ChunksOfDocuments(searcher, DocumentsMatching(searcher, all)) : ChunksMatching(searcher, all);
            }
            var refused = new HashSet<long>();
            if (excluded.Count > 0)
            {
                var any = new BooleanQuery();
                foreach (var q in excluded)
                {
                    any.Add(q, Occur.SHOULD);
                }
                refused = byDocument ? ChunksOfDocuments(searcher, DocumentsMatching(searcher, any)) : ChunksMatching(searcher, any);
            }
            return new LexicalConstraint(admitted, refused);
        });
    }

    /// <summary>Required and excluded clauses of <paramref name="query"/> that hold no searchable term (stop words, punctuation): they play no part.</summary>
    public IReadOnlyList<QueryClause> IgnoredClauses(LexicalQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        return query.Required.Concat(query.Excluded).Where(c => Analyze(c.Text).Count == 0).ToList();
    }

    /// <summary>
    /// For each word of the positive part of <paramref name="query"/> (its plain words and required clauses) that no
    /// entry of the ranked field holds, the closest term of the field's dictionary (see the file header); empty when
    /// every word is known or none has a close term.
    /// </summary>
    public IReadOnlyList<TermCorrection> Correct(LexicalQuery query, bool perChunk = false)
    {
        ArgumentNullException.ThrowIfNull(query);
        var field = !perChunk && HasDocumentEntries ? DocumentField : ContentsField;
        return WithSearcher(searcher =>
        {
            var reader = searcher.IndexReader;
            var fixes = new List<TermCorrection>();
            var terms = MultiFields.GetTerms(reader, field);
            if (terms is null)
            {
                return (IReadOnlyList<TermCorrection>)fixes;
            }
            foreach (var clause in query.Free.Concat(query.Required))
            {
                foreach (var (term, start, end) in AnalyzeWithOffsets(clause.Text))
                {
                    var maxEdits = term.Length switch { < 3 => 0, <= 5 => 1, _ => 2 };
                    if (maxEdits == 0 || reader.DocFreq(new Term(field, term)) > 0)
                    {
                        continue;
                    }
                    if (Closest(terms, field, term, maxEdits) is { } best && ExampleChunk(searcher, best) is { } chunk)
                    {
                        fixes.Add(new TermCorrection(clause.Start + start, end - start, clause.Text[start..end], best, chunk));
                    }
                }
            }
            return fixes;
        });
    }

    /// <summary>
    /// The first word of <paramref name="text"/> that the analyzer reads as <paramref name="term"/>, in lower case
    /// (the written form of a stemmed term, for a "did you mean" line); null when none does.
    /// </summary>
    public string? WordFor(string text, string term)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(term);
        foreach (var (t, start, end) in AnalyzeWithOffsets(text))
        {
            if (string.Equals(t, term, StringComparison.Ordinal))
            {
                return text[start..end].ToLowerInvariant();
            }
        }
        return null;
    }

    private Query? BuildQuery(LexicalQuery query, string field)
    {
        if (query.IsPlain)
        {
            return BuildQuery(query.Text, field);
        }
        var required = query.Required.Select(c => ClauseQuery(c, field)).OfType<Query>().ToList();
        var excluded = query.Excluded.Select(c => ClauseQuery(c, field)).OfType<Query>().ToList();
        var budget = Math.Max(0, BooleanQuery.MaxClauseCount - required.Count - excluded.Count);
        var words = BuildQuery(string.Join(' ', query.Free.Select(c => c.Text)), field, budget);
        if (words is null && required.Count == 0)
        {
            return null; // nothing positive: exclusions alone select nothing to rank
        }
        // The words' SHOULD clauses go into the outer query as they are, so they score as in a plain query (BM25's
        // coord and query norm are 1); a required clause adds its own score.
        var bq = new BooleanQuery();
        foreach (var clause in words?.Clauses ?? [])
        {
            bq.Add(clause);
        }
        foreach (var q in required.Take(BooleanQuery.MaxClauseCount - bq.Clauses.Count))
        {
            bq.Add(q, Occur.MUST);
        }
        foreach (var q in excluded.Take(BooleanQuery.MaxClauseCount - bq.Clauses.Count))
        {
            bq.Add(q, Occur.MUST_NOT);
        }
        return bq;
    }

    // Words and required clauses, all optional: what picks a hit's best chunk.
    private Query? ScoringQuery(LexicalQuery query, string field)
    {
        var required = query.Required.Select(c => ClauseQuery(c, field)).OfType<Query>().ToList();
        var words = BuildQuery(string.Join(' ', query.Free.Select(c => c.Text)), field, Math.Max(0, BooleanQuery.MaxClauseCount - required.Count));
        var bq = new BooleanQuery();
        foreach (var clause in words?.Clauses ?? [])
        {
            bq.Add(clause);
        }
        foreach (var q in required.Take(BooleanQuery.MaxClauseCount - bq.Clauses.Count))
        {
            bq.Add(q, Occur.SHOULD);
        }
        return bq.Clauses.Count == 0 ? null : bq;
    }

    // One clause: a term, a phrase at the analyzer's positions, or null when it analyses to nothing.
    private Query? ClauseQuery(QueryClause clause, string field)
    {
        var terms = new List<(string Term, int Position)>();
        using (var ts = _analyzer.GetTokenStream(field, clause.Text))
        {
            var term = ts.AddAttribute<ICharTermAttribute>();
            var increment = ts.AddAttribute<IPositionIncrementAttribute>();
            ts.Reset();
            var position = -1;
            while (ts.IncrementToken())
            {
                position += increment.PositionIncrement;
                terms.Add((term.ToString(), position));
            }
            ts.End();
        }
        if (terms.Count == 0)
        {
            return null;
        }
        if (terms.Count == 1)
        {
            return new TermQuery(new Term(field, terms[0].Term));
        }
        var phrase = new PhraseQuery();
        var first = terms[0].Position;
        foreach (var (t, p) in terms)
        {
            phrase.Add(new Term(field, t), p - first);
        }
        return phrase;
    }

    private List<(string Term, int Start, int End)> AnalyzeWithOffsets(string text)
    {
        var result = new List<(string, int, int)>();
        using var ts = _analyzer.GetTokenStream(ContentsField, text);
        var term = ts.AddAttribute<ICharTermAttribute>();
        var offset = ts.AddAttribute<IOffsetAttribute>();
        ts.Reset();
        while (ts.IncrementToken())
        {
            result.Add((term.ToString(), offset.StartOffset, offset.EndOffset));
        }
        ts.End();
        return result;
    }

    // The closest term of the field within maxEdits of `term`: fewest edits, then highest document frequency, then term order.
    private static string? Closest(Terms terms, string field, string term, int maxEdits)
    {
        var fuzzy = new FuzzyTermsEnum(terms, new AttributeSource(), new Term(field, term), maxEdits, 0, true);
        string? best = null;
        var bestEdits = int.MaxValue;
        var bestFreq = 0;
        while (fuzzy.MoveNext())
        {
            var candidate = fuzzy.Term.Utf8ToString();
            var edits = Core.Text.EditDistance.OptimalStringAlignment(term, candidate);
            var freq = fuzzy.DocFreq;
            if (edits == 0 || edits > maxEdits)
            {
                continue;
            }
            if (edits < bestEdits || (edits == bestEdits && (freq > bestFreq || (freq == bestFreq && string.CompareOrdinal(candidate, best) < 0))))
            {
                (best, bestEdits, bestFreq) = (candidate, edits, freq);
            }
        }
        return best;
    }

    // Optimal string alignment distance (Levenshtein with adjacent transpositions), as the fuzzy automaton counts edits.

    // A live chunk whose text (title + chunk) holds the term, or null (only deleted entries hold it).
    private static long? ExampleChunk(IndexSearcher searcher, string term)
    {
        var top = searcher.Search(new TermQuery(new Term(ContentsField, term)), 1);
        if (top.ScoreDocs.Length == 0)
        {
            return null;
        }
        var leaves = searcher.IndexReader.Leaves;
        var doc = top.ScoreDocs[0].Doc;
        var leaf = leaves[ReaderUtil.SubIndex(doc, leaves)];
        return FieldCache.DEFAULT.GetInt64s(leaf.AtomicReader, ChunkIdField, FieldCache.NUMERIC_UTILS_INT64_PARSER, false).Get(doc - leaf.DocBase);
    }

    // Document ids of the entries matching q.
    private static HashSet<string> DocumentsMatching(IndexSearcher searcher, Query q)
    {
        var ids = new HashSet<string>(StringComparer.Ordinal);
        searcher.Search(q, new EntryCollector(docIds: ids));
        return ids;
    }

    // Chunk ids of the chunk entries matching q.
    private static HashSet<long> ChunksMatching(IndexSearcher searcher, Query q)
    {
        var ids = new HashSet<long>();
        searcher.Search(q, new EntryCollector(chunkIds: ids));
        return ids;
    }

    // Chunk ids of every chunk entry of the given documents.
    private static HashSet<long> ChunksOfDocuments(IndexSearcher searcher, HashSet<string> documentIds)
    {
        var ids = new HashSet<long>();
        if (documentIds.Count == 0)
        {
            return ids;
        }
        var filter = new TermsFilter(DocIdField, documentIds.Select(d => new BytesRef(d)).ToList());
        searcher.Search(new ConstantScoreQuery(filter), new EntryCollector(chunkIds: ids));
        return ids;
    }

    // Collects the chunk ids (chunk entries only) or the document ids of every match, in any order.
    private sealed class EntryCollector(HashSet<long>? chunkIds = null, HashSet<string>? docIds = null) : ICollector
    {
        private FieldCache.Int64s? _chunkIds;
        private IBits? _isChunk;
        private BinaryDocValues? _docIds;
        private readonly BytesRef _bytes = new();

        public void SetScorer(Scorer scorer)
        {
        }

        public void SetNextReader(AtomicReaderContext context)
        {
            if (chunkIds is not null)
            {
                _chunkIds = FieldCache.DEFAULT.GetInt64s(context.AtomicReader, ChunkIdField, FieldCache.NUMERIC_UTILS_INT64_PARSER, false);
                _isChunk = FieldCache.DEFAULT.GetDocsWithField(context.AtomicReader, ChunkIdField);
            }
            if (docIds is not null)
            {
                _docIds = FieldCache.DEFAULT.GetTerms(context.AtomicReader, DocIdField, false);
            }
        }

        public void Collect(int doc)
        {
            if (chunkIds is not null && _isChunk!.Get(doc))
            {
                chunkIds.Add(_chunkIds!.Get(doc));
            }
            if (docIds is not null)
            {
                _docIds!.Get(doc, _bytes);
                docIds.Add(_bytes.Utf8ToString());
            }
        }

        public bool AcceptsDocsOutOfOrder => true;
    }
}
