// The top k entries of a bag-of-words BM25 query (a disjunction of weighted terms of one field) by MaxScore (Turtle &
// Flood, "Query evaluation: strategies and optimizations", 1995) over Lucene's postings, a window of 2,048 documents at
// a time as Lucene 9's MaxScoreBulkScorer does.
//
// Why: Lucene 4.8 answers such a query with BooleanScorer, which visits every posting of every term and builds a
// 2,048-bucket table of objects for each segment at each query. At a million entries that was ~6 MB of garbage a
// query and most of a hybrid query's time (docs/benchmarks.md). MaxScore visits far fewer postings: with the k-th best
// score so far as a threshold θ, the terms sorted by their score bound, the longest prefix of them whose bounds sum to
// at most θ is "non-essential" — an entry that holds none of the other terms cannot enter the top k — so only the
// essential terms' postings are walked, and the others are skipped to each candidate (their skip lists) only while
// the candidate can still beat θ.
//
// Invariants (what the tests compare against Lucene's own BooleanQuery):
//   - the same entries in the same order with the same float scores as IndexSearcher.Search(BooleanQuery, k): term
//     weights come from the searcher's Similarity exactly as TermQuery's do (the same term and collection statistics,
//     the same normalisation, coord 1); an entry's score is its terms' float scores summed in double in descending
//     clause order, then rounded to float, as BooleanScorer sums them; ties in score go to the lower document number;
//   - a term's bound is ≥ every score it can give: BM25's tf/(tf + norm) is below 1 for every length, so the bound is
//     the scorer's own score at a huge frequency for an entry that has the field (its first posting: an entry without
//     the field, such as a chunk entry for the document field, has an infinite norm and scores 0), raised by 1e-5
//     against rounding; an entry is dropped only when its bound is ≤ θ, and as entries are judged in increasing
//     document order one that only ties θ could not enter anyway.
// Deleted entries are never seen (live docs go to the postings); a filter's entries are made a bit set per segment and
// given to the postings the same way, so a filtered ranking is the unfiltered one restricted to the filter. Other
// similarities and queries with operators are left to Lucene (TryParse returns false, Search null).
using Lucene.Net.Index;
using Lucene.Net.Search;
using Lucene.Net.Search.Similarities;
using Lucene.Net.Util;

namespace SemanticSearch.Lexical;

internal static class MaxScoreSearch
{
    private const float BoundFrequency = 1e20f;
    private const float BoundMargin = 1.00001f;

    /// <summary>The most terms a query may have here (a term's presence is a bit of a 64-bit mask); longer go to Lucene.</summary>
    public const int MaxTerms = 64;

    /// <summary>
    /// The field and weighted terms (in clause order) of <paramref name="query"/> when it is a bag of words this
    /// search answers exactly: 1 to <see cref="MaxTerms"/> SHOULD term clauses of one field, no minimum to match, boost 1.
    /// </summary>
    public static bool TryParse(Query query, out string field, out (Term Term, float Boost)[] terms)
    {
        field = string.Empty;
        terms = [];
        if (query is not BooleanQuery bq || bq.Boost != 1f || bq.MinimumNumberShouldMatch != 0 || bq.Clauses.Count is 0 or > MaxTerms)
        {
            return false;
        }
        var parsed = new (Term, float)[bq.Clauses.Count];
        for (var i = 0; i < parsed.Length; i++)
        {
            var clause = bq.Clauses[i];
            if (clause.Occur != Occur.SHOULD || clause.Query is not TermQuery tq || (i > 0 && tq.Term.Field != parsed[0].Item1.Field))
            {
                return false;
            }
            parsed[i] = (tq.Term, tq.Boost);
        }
        field = parsed[0].Item1.Field;
        terms = parsed;
        return true;
    }

    /// <summary>
    /// The best <paramref name="k"/> entries for the terms, best first, as <see cref="IndexSearcher.Search(Query, int)"/>
    /// ranks the equivalent BooleanQuery; null when the searcher's similarity is not one this search can bound (BM25
    /// with coord 1), so the caller asks Lucene.
    /// </summary>
    public static ScoreDoc[]? Search(IndexSearcher searcher, string field, (Term Term, float Boost)[] terms, int k, Filter? filter = null)
    {
        if (searcher.Similarity is not BM25Similarity sim || k <= 0)
        {
            return null;
        }
        for (var overlap = 0; overlap <= terms.Length; overlap++)
        {
            if (terms.Length > 1 && sim.Coord(overlap, terms.Length) != 1f)
            {
                return null;
            }
        }
        var leaves = searcher.IndexReader.Leaves;
        var n = terms.Length;

        // term statistics over every segment, as TermContext gathers them, with each segment's term state kept so
        // the scoring pass seeks each term again without a dictionary lookup
        var enums = new TermsEnum?[leaves.Count];
        var states = new TermState?[leaves.Count * n];
        var docFreq = new int[n];
        var totalTermFreq = new long[n];
        for (var l = 0; l < leaves.Count; l++)
        {
            var fieldTerms = leaves[l].AtomicReader.GetTerms(field);
            if (fieldTerms is null)
            {
                continue;
            }
            var te = enums[l] = fieldTerms.GetEnumerator();
            for (var i = 0; i < n; i++)
            {
                if (!te.SeekExact(terms[i].Term.Bytes))
                {
                    continue;
                }
                states[l * n + i] = te.GetTermState();
                docFreq[i] += te.DocFreq;
                var ttf = te.TotalTermFreq;
                totalTermFreq[i] = ttf >= 0 && totalTermFreq[i] >= 0 ? totalTermFreq[i] + ttf : -1;
            }
        }
        var collection = searcher.CollectionStatistics(field);
        var weights = new Similarity.SimWeight[n];
        var forNorm = 0f;
        for (var i = 0; i < n; i++)
        {
            weights[i] = sim.ComputeWeight(terms[i].Boost, collection, new TermStatistics(terms[i].Term.Bytes, docFreq[i], totalTermFreq[i]));
            forNorm += weights[i].GetValueForNormalization();
        }
        var norm = sim.QueryNorm(forNorm);
        if (float.IsInfinity(norm) || float.IsNaN(norm))
        {
            norm = 1f;
        }
        foreach (var w in weights)
        {
            w.Normalize(norm, 1f);
        }

        var top = new TopK(Math.Min(k, Math.Max(1, searcher.IndexReader.MaxDoc)));
        var segment = new SegmentWalk(n);
        for (var l = 0; l < leaves.Count; l++)
        {
            if (enums[l] is not { } te)
            {
                continue;
            }
            var context = leaves[l];
            var accept = Accepted(context, filter);
            if (accept is null)
            {
                continue;
            }
            segment.Reset();
            for (var i = 0; i < n; i++)
            {
                if (states[l * n + i] is not { } state)
                {
                    continue;
                }
                te.SeekExact(terms[i].Term.Bytes, state);
                var docs = te.Docs(accept.Bits, null, DocsFlags.FREQS);
                var first = docs.NextDoc();
                if (first == DocIdSetIterator.NO_MORE_DOCS)
                {
                    continue; // every entry with the term is deleted
                }
                // the bound at an entry that has the field (an entry without it has an infinite length norm)
                var scorer = sim.GetSimScorer(weights[i], context);
                segment.Add(i, docs, first, scorer, scorer.Score(first, BoundFrequency) * BoundMargin);
            }
            segment.Run(top, context.DocBase);
        }
        return top.Sorted();
    }

    // The entries of a segment the postings may return: the live ones, and of those the filter's (null: none).
    private sealed record Acceptance(IBits? Bits);

    private static Acceptance? Accepted(AtomicReaderContext context, Filter? filter)
    {
        var live = context.AtomicReader.LiveDocs;
        if (filter is null)
        {
            return new Acceptance(live);
        }
        // a filter's set already leaves out the entries not in acceptDocs (the deleted ones here)
        var set = filter.GetDocIdSet(context, live);
        if (set is null)
        {
            return null;
        }
        if (set.Bits is { } bits)
        {
            return new Acceptance(bits);
        }
        var iterator = set.GetIterator();
        if (iterator is null)
        {
            return null;
        }
        var admitted = new FixedBitSet(context.AtomicReader.MaxDoc);
        admitted.Or(iterator);
        return new Acceptance(admitted);
    }

    // One segment's terms, scored a window of documents at a time (as Lucene 9's MaxScoreBulkScorer does): the
    // essential terms' postings in the window are added into a dense accumulator term by term (a tight loop per term,
    // no merging of lists), then the window's touched entries are visited in order, and each one's non-essential
    // terms are skipped to it only while its bound can still beat θ. The essential set is fixed for a window and
    // shrinks between windows as θ rises. Buffers are sized by the query and reused across segments.
    private sealed class SegmentWalk(int clauses)
    {
        private const int Window = 2048;
        private readonly int[] _clause = new int[clauses];
        private readonly DocsEnum?[] _docs = new DocsEnum?[clauses];
        private readonly Similarity.SimScorer?[] _scorers = new Similarity.SimScorer?[clauses];
        private readonly float[] _bound = new float[clauses];
        private readonly int[] _current = new int[clauses];
        private readonly double[] _prefix = new double[clauses + 1]; // _prefix[j] = sum of the j smallest bounds
        private readonly int[] _byClause = new int[clauses];          // term slots in descending clause order
        private readonly double[] _sum = new double[Window];          // essential terms' scores of each entry
        private readonly ulong[] _matched = new ulong[Window];        // which term slots hold the entry
        private readonly float[] _score = new float[clauses * Window]; // slot j's score of entry d at j·Window + d
        private readonly ulong[] _touched = new ulong[Window / 64];
        private int _count;

        public void Reset() => _count = 0;

        // A term's postings come positioned at their first entry; slots stay in bound order (ascending), so the
        // non-essential terms are always a prefix.
        public void Add(int clause, DocsEnum docs, int first, Similarity.SimScorer scorer, float bound)
        {
            var at = _count++;
            while (at > 0 && _bound[at - 1] > bound)
            {
                _clause[at] = _clause[at - 1];
                _docs[at] = _docs[at - 1];
                _current[at] = _current[at - 1];
                _scorers[at] = _scorers[at - 1];
                _bound[at] = _bound[at - 1];
                at--;
            }
            _clause[at] = clause;
            _docs[at] = docs;
            _current[at] = first;
            _scorers[at] = scorer;
            _bound[at] = bound;
        }

        public void Run(TopK top, int docBase)
        {
            var m = _count;
            if (m == 0)
            {
                return;
            }
            _prefix[0] = 0;
            for (var j = 0; j < m; j++)
            {
                _prefix[j + 1] = _prefix[j] + _bound[j];
                _byClause[j] = j;
            }
            Array.Sort(_byClause, 0, m, Comparer<int>.Create((a, b) => _clause[b].CompareTo(_clause[a])));
            var theta = top.Threshold;
            while (true)
            {
                var essential = NonEssential(m, theta);
                if (essential == m)
                {
                    return; // no entry left in this segment can enter the top k
                }
                var start = DocIdSetIterator.NO_MORE_DOCS;
                for (var j = essential; j < m; j++)
                {
                    start = Math.Min(start, _current[j]);
                }
                if (start == DocIdSetIterator.NO_MORE_DOCS)
                {
                    return;
                }
                var end = start + Window;
                if (end < start)
                {
                    end = int.MaxValue; // near the top of the document number range
                }
                // 1. the essential terms, term at a time, into the window
                for (var j = essential; j < m; j++)
                {
                    var docs = _docs[j]!;
                    var scorer = _scorers[j]!;
                    var bit = 1UL << j;
                    var scores = _score.AsSpan(j * Window, Window);
                    var doc = _current[j];
                    while (doc < end)
                    {
                        var d = doc - start;
                        var s = scorer.Score(doc, docs.Freq);
                        ref var word = ref _touched[d >> 6];
                        var flag = 1UL << (d & 63);
                        if ((word & flag) == 0)
                        {
                            word |= flag;
                            _sum[d] = s;
                            _matched[d] = bit;
                        }
                        else
                        {
                            _sum[d] += s;
                            _matched[d] |= bit;
                        }
                        scores[d] = s;
                        doc = docs.NextDoc();
                    }
                    _current[j] = doc;
                }
                // 2. the touched entries in document order: the non-essential terms while the bound beats θ
                for (var w = 0; w < _touched.Length; w++)
                {
                    var word = _touched[w];
                    _touched[w] = 0;
                    while (word != 0)
                    {
                        var d = (w << 6) + System.Numerics.BitOperations.TrailingZeroCount(word);
                        word &= word - 1;
                        var doc = start + d;
                        var partial = _sum[d];
                        var matched = _matched[d];
                        var competitive = true;
                        for (var j = essential - 1; j >= 0; j--)
                        {
                            if (partial + _prefix[j + 1] <= theta)
                            {
                                competitive = false;
                                break;
                            }
                            if (_current[j] < doc)
                            {
                                _current[j] = _docs[j]!.Advance(doc);
                            }
                            if (_current[j] == doc)
                            {
                                var s = _scorers[j]!.Score(doc, _docs[j]!.Freq);
                                _score[j * Window + d] = s;
                                matched |= 1UL << j;
                                partial += s;
                            }
                        }
                        if (!competitive || partial <= theta)
                        {
                            continue;
                        }
                        // the exact score, summed as BooleanScorer sums it: descending clause order, in double
                        var exact = 0.0;
                        for (var i = 0; i < m; i++)
                        {
                            var j = _byClause[i];
                            if ((matched & (1UL << j)) != 0)
                            {
                                exact += _score[j * Window + d];
                            }
                        }
                        if (top.Offer((float)exact, docBase + doc))
                        {
                            theta = top.Threshold; // the rest of the window prunes harder; the next one may drop terms
                        }
                    }
                }
            }
        }

        // How many of the smallest bounds sum to at most θ: those terms alone cannot lift an entry into the top k.
        private int NonEssential(int m, double theta)
        {
            var j = 0;
            while (j < m && _prefix[j + 1] <= theta)
            {
                j++;
            }
            return j;
        }
    }

    // The k best (score, document) so far: a min-heap whose root is the worst kept, which a new entry must beat
    // (ties go to the lower document, which arrived first).
    private sealed class TopK(int k)
    {
        private readonly float[] _score = new float[k];
        private readonly int[] _doc = new int[k];
        private int _size;

        // Below this no entry can enter; −∞ until k entries are kept.
        public double Threshold => _size < k ? double.NegativeInfinity : _score[0];

        public bool Offer(float score, int doc)
        {
            if (_size < k)
            {
                var at = _size++;
                _score[at] = score;
                _doc[at] = doc;
                Up(at);
                return _size == k;
            }
            if (!Worse(_score[0], _doc[0], score, doc))
            {
                return false;
            }
            _score[0] = score;
            _doc[0] = doc;
            Down(0);
            return true;
        }

        public ScoreDoc[] Sorted()
        {
            var hits = new ScoreDoc[_size];
            for (var i = 0; i < _size; i++)
            {
                hits[i] = new ScoreDoc(_doc[i], _score[i]);
            }
            Array.Sort(hits, (a, b) => a.Score != b.Score ? b.Score.CompareTo(a.Score) : a.Doc.CompareTo(b.Doc));
            return hits;
        }

        // Whether (s1, d1) ranks below (s2, d2).
        private static bool Worse(float s1, int d1, float s2, int d2) => s1 < s2 || (s1 == s2 && d1 > d2);

        private void Up(int i)
        {
            while (i > 0)
            {
                var parent = (i - 1) / 2;
                if (!Worse(_score[i], _doc[i], _score[parent], _doc[parent]))
                {
                    return;
                }
                Swap(i, parent);
                i = parent;
            }
        }

        private void Down(int i)
        {
            while (true)
            {
                var worst = i;
                var left = 2 * i + 1;
                var right = left + 1;
                if (left < _size && Worse(_score[left], _doc[left], _score[worst], _doc[worst]))
                {
                    worst = left;
                }
                if (right < _size && Worse(_score[right], _doc[right], _score[worst], _doc[worst]))
                {
                    worst = right;
                }
                if (worst == i)
                {
                    return;
                }
                Swap(i, worst);
                i = worst;
            }
        }

        private void Swap(int a, int b)
        {
            (_score[a], _score[b]) = (_score[b], _score[a]);
            (_doc[a], _doc[b]) = (_doc[b], _doc[a]);
        }
    }
}
