using System.Diagnostics;
using SemanticSearch.Core;
using SemanticSearch.Core.Encoding;
using SemanticSearch.Lexical;
using SemanticSearch.Metadata;

namespace SemanticSearch.Engine.Search;

/// <summary>
/// Answers queries over one <see cref="SemanticIndex"/>: embed the query, retrieve candidates from BM25 and from the
/// vector index at once — BM25 ranks whole documents (title and full text, independent of chunking), the vector side
/// ranks chunks collapsed to documents (best chunk first); per-chunk results rank chunks on both sides — fuse, page,
/// pick each lexical hit's best chunk, then hydrate text and titles from metadata.
/// </summary>
public sealed class Searcher
{
    private readonly SemanticIndex _index;

    /// <summary>A searcher over an open index (read-only or writable).</summary>
    public Searcher(SemanticIndex index) => _index = index;

    /// <summary>Runs <paramref name="request"/>.</summary>
    public SearchResponse Search(SearchRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        request.Validate();
        var clock = Stopwatch.StartNew();
        var wanted = request.Offset + request.K;
        var fusion = EffectiveFusion(request);
        var candidates = Retrieve(request.Query, request.Mode, request.K, wanted, request.Filter, request.PerChunk, fusion);

        var page = WithBestChunks(request.Query, candidates.Skip(request.Offset).Take(request.K).ToList());
        var chunks = _index.Metadata.GetChunks(page.Select(p => p.ChunkId));
        var docs = new Dictionary<string, DocumentRecord?>(StringComparer.Ordinal);
        var hits = new List<SearchHit>(page.Count);
        foreach (var c in page)
        {
            if (!chunks.TryGetValue(c.ChunkId, out var chunk))
            {
                continue; // never surface a hit that cannot be hydrated
            }
            if (!docs.TryGetValue(chunk.DocumentId, out var doc))
            {
                doc = _index.Metadata.GetDocument(chunk.DocumentId);
                docs[chunk.DocumentId] = doc;
            }
            if (doc is null)
            {
                continue;
            }
            hits.Add(new SearchHit(doc.Id, chunk.Id, doc.Path, doc.Title, chunk.Text, Snippets.Build(chunk.Text, request.Query), c.Score,
                c.LexicalRank is { } lr ? new RetrieverRank(lr, c.LexicalScore!.Value) : null,
                c.DenseRank is { } dr ? new RetrieverRank(dr, c.DenseScore!.Value) : null));
        }
        return new SearchResponse(hits, request.Mode, clock.Elapsed.TotalMilliseconds, request.Mode == SearchMode.Hybrid ? fusion : null);
    }

    /// <summary>
    /// The best <paramref name="depth"/> documents for <paramref name="query"/> with their scores, unhydrated: the
    /// fast path for evaluation runs, which need ids, not text.
    /// </summary>
    public IReadOnlyList<RankedDocument> RankDocuments(string query, SearchMode mode, int depth, SearchFilter? filter = null, FusionOptions? fusion = null)
    {
        var effective = fusion ?? IndexFusion;
        return Retrieve(query, mode, depth, depth, filter, perChunk: false, effective with { Depth = effective.Depth ?? depth })
            .Take(depth)
            .Select(c => new RankedDocument(c.DocId, c.Score))
            .ToList();
    }

    /// <summary>
    /// The lexical and the dense document rankings of <paramref name="query"/>, each <paramref name="depth"/> deep,
    /// before fusion: what fusion tuning replays under many settings. Fusing the first <c>d</c> of each with
    /// <see cref="RankFusion"/> gives what a hybrid query with fusion depth <c>d</c> returns (up to the approximate
    /// vector search, which a deeper search can only make more exact).
    /// </summary>
    public (IReadOnlyList<RankedDocument> Lexical, IReadOnlyList<RankedDocument> Dense) RankSides(string query, int depth)
    {
        if (_index.Vectors is null || _index.Encoder is null)
        {
            throw new InvalidSettingException("mode", "fusion needs an index built with an embedding model, opened with it.");
        }
        var lexicalTask = Task.Run(() => LexicalDocuments(query, depth, null, perChunk: false));
        var dense = DenseDocuments(query, depth, null, perChunk: false);
        return (lexicalTask.Result.Take(depth).Select(c => new RankedDocument(c.DocId, c.Score)).ToList(),
                dense.Take(depth).Select(c => new RankedDocument(c.DocId, c.Score)).ToList());
    }

    // Documents ranked on their document entries have no chunk yet (ChunkId is UnresolvedChunk): give each the chunk
    // that scores best for the query (its snippet), scoring only the chunks of this page's documents. A document none
    // of whose chunks matches (cannot happen while the document entry holds the title and the chunks' text) shows its
    // first chunk.
    private List<Candidate> WithBestChunks(string query, List<Candidate> page)
    {
        var open = page.Where(c => c.ChunkId == UnresolvedChunk).Select(c => c.DocId).Distinct(StringComparer.Ordinal).ToList();
        if (open.Count == 0)
        {
            return page;
        }
        var best = _index.Lexical.BestChunks(query, open);
        var result = new List<Candidate>(page.Count);
        foreach (var c in page)
        {
            if (c.ChunkId != UnresolvedChunk)
            {
                result.Add(c);
            }
            else if (best.TryGetValue(c.DocId, out var hit))
            {
                result.Add(c with { ChunkId = hit.ChunkId });
            }
            else if (_index.Metadata.GetDocument(c.DocId) is { ChunkIds.Count: > 0 } doc)
            {
                result.Add(c with { ChunkId = doc.ChunkIds[0] });
            }
        }
        return result;
    }

    // The chunk of a document hit that is not chosen yet (document-level BM25 ranks documents, not chunks).
    private const long UnresolvedChunk = -1;

    // The index's fusion: what its manifest records (the model profile's, or a tuned one); an index written before
    // manifests recorded fusion was always ranked with plain RRF, and still is.
    private FusionOptions IndexFusion => _index.Manifest.Fusion ?? new FusionOptions();

    // The one override rule: the request's fields over the index's fusion, once, validated (FusionOverride.Over).
    private FusionOptions EffectiveFusion(SearchRequest request) => (request.Fusion ?? Empty).Over(IndexFusion);

    private static readonly FusionOverride Empty = new();

    // The default candidate depth per retriever: max(100, 10·k), doubled until it covers offset + k. It depends on the
    // page size, not the page, so consecutive pages are cut from the same fused list.
    private static int CandidateDepth(int k, int wanted)
    {
        var depth = Math.Max(100, 10 * k);
        while (depth < wanted)
        {
            depth *= 2;
        }
        return depth;
    }

    private List<Candidate> Retrieve(string query, SearchMode mode, int k, int wanted, SearchFilter? filter, bool perChunk, FusionOptions fusion)
    {
        if (mode != SearchMode.Lexical && _index.VectorDamage is { } damage)
        {
            throw new CorruptDataException(damage.Path, damage.Message[(damage.Path.Length + 2)..], damage);
        }
        if (mode != SearchMode.Lexical && (_index.Vectors is null || _index.Encoder is null))
        {
            throw new InvalidSettingException("mode", _index.Manifest.Model is null
                ? $"'{mode.ToString().ToLowerInvariant()}' needs an index built with an embedding model; this index is lexical only. Use --mode lexical."
                : $"'{mode.ToString().ToLowerInvariant()}' needs the index's model {_index.Manifest.Model.ModelId}, which was not loaded.");
        }
        var lexFilter = filter is null ? null : new LexicalFilter(filter.PathPrefix, filter.FileTypes, filter.ModifiedAfterUtc, filter.Metadata);
        switch (mode)
        {
            case SearchMode.Lexical:
                return LexicalDocuments(query, wanted, lexFilter, perChunk)
                    .Select((c, i) => new Candidate(c.Key, c.DocId, c.ChunkId, c.Score, i + 1, c.Score, null, null)).ToList();
            case SearchMode.Dense:
                return DenseDocuments(query, wanted, lexFilter, perChunk)
                    .Select((c, i) => new Candidate(c.Key, c.DocId, c.ChunkId, c.Score, null, null, i + 1, c.Score)).ToList();
            default:
                var depth = fusion.Depth ?? CandidateDepth(k, wanted);
                var lexicalTask = Task.Run(() => LexicalDocuments(query, depth, lexFilter, perChunk));
                var dense = DenseDocuments(query, depth, lexFilter, perChunk);
                var lexical = lexicalTask.Result;
                var byKey = new Dictionary<string, Side>(StringComparer.Ordinal);
                foreach (var c in dense)
                {
                    byKey[c.Key] = c;
                }
                foreach (var c in lexical)
                {
                    byKey[c.Key] = c; // the lexical best chunk is the snippet when both sides found the document
                }
                var lexRanked = lexical.Select(c => new Ranked<string>(c.Key, c.Score)).ToList();
                var denseRanked = dense.Select(c => new Ranked<string>(c.Key, c.Score)).ToList();
                var fused = fusion.Method == FusionMethod.Rrf
                    ? RankFusion.Reciprocal(lexRanked, denseRanked, fusion.K, fusion.LexicalWeight, fusion.DenseWeight, StringComparer.Ordinal)
                    : RankFusion.Convex(lexRanked, denseRanked, fusion.LexicalWeight, fusion.DenseWeight, StringComparer.Ordinal);
                return fused.Select(f =>
                {
                    var side = byKey[f.Key];
                    return new Candidate(f.Key, side.DocId, side.ChunkId, f.Score, f.LexicalRank, f.LexicalScore, f.DenseRank, f.DenseScore);
                }).ToList();
        }
    }

    // Documents by whole-document BM25 (their best chunk is chosen when a page is hydrated); or, per chunk and on an
    // index of lexical format 1 (no document entries), BM25 chunk hits collapsed to their documents (a document scores
    // as its best chunk) or kept per chunk. Best first, at least `depth` deep when possible.
    private List<Side> LexicalDocuments(string query, int depth, LexicalFilter? filter, bool perChunk)
    {
        if (!perChunk && _index.Lexical.HasDocumentEntries)
        {
            return _index.Lexical.SearchDocuments(query, depth, filter)
                .Select(h => new Side(h.DocumentId, h.DocumentId, UnresolvedChunk, h.Score))
                .ToList();
        }
        // documents with several chunks: ask for as many hits per wanted document as the index has chunks per document
        var counts = _index.Manifest.Counts;
        var perDocument = perChunk ? 1.0 : HitsPerDocument(counts.Chunks, counts.Documents);
        var chunkDepth = (int)Math.Ceiling(depth * perDocument * 1.1);
        while (true)
        {
            var hits = _index.Lexical.Search(query, chunkDepth, filter);
            var result = Collapse(hits.Select(h => (h.ChunkId, h.DocumentId, (double)h.Score)), perChunk);
            if (result.Count >= depth || hits.Count < chunkDepth)
            {
                return result;
            }
            chunkDepth = (int)Math.Min(int.MaxValue / 2, NextPass(chunkDepth, depth, result.Count));
        }
    }

    // Vector hits for the embedded query, filtered inside the HNSW walk, collapsed like the lexical side.
    private List<Side> DenseDocuments(string query, int depth, LexicalFilter? filter, bool perChunk)
    {
        var encoder = _index.Encoder!;
        var vectors = _index.Vectors!;
        var q = new float[encoder.Info.Dimensions];
        encoder.Encode([query], TextRole.Query, q);
        Func<long, bool>? allowed = null;
        if (filter is not null)
        {
            var set = _index.Lexical.MatchingChunkIds(filter);
            allowed = v => set.Contains(_index.Passages.ChunkOfVector(v));
        }
        // On a windowed index a document owns several vectors (SciFact under a 128-token model: 5.6), so the first pass
        // asks for as many hits per wanted document as the index has vectors per document, instead of discovering that
        // with a wasted shallow search.
        var counts = _index.Manifest.Counts;
        var perDocument = _index.Manifest.WindowTokens is null ? 1.0 : HitsPerDocument(counts.Vectors, counts.Documents);
        var chunkDepth = (int)Math.Min(Math.Ceiling(depth * perDocument), Math.Max(vectors.Count, depth));
        while (true)
        {
            // vector ids are chunk ids, or chunk windows on a short-context model's index: a chunk scores as its best window
            var hits = vectors.Search(q, chunkDepth, Math.Max(chunkDepth, _index.Manifest.Vectors?.EfSearch ?? 64), allowed);
            var docOf = _index.DocumentsOfChunks(hits.Select(h => _index.Passages.ChunkOfVector(h.Id)));
            var result = Collapse(
                hits.Select(h => (Chunk: _index.Passages.ChunkOfVector(h.Id), h.Score))
                    .Where(h => docOf.ContainsKey(h.Chunk))
                    .Select(h => (h.Chunk, docOf[h.Chunk], (double)h.Score)),
                perChunk);
            if (result.Count >= depth || hits.Count < chunkDepth || chunkDepth >= vectors.Count)
            {
                return result;
            }
            chunkDepth = (int)Math.Min(vectors.Count, NextPass(chunkDepth, depth, result.Count));
        }
    }

    // Hits per document the index holds (chunks, or vectors on a windowed index), for sizing a first pass; 1 to 16.
    private static double HitsPerDocument(long units, long documents) =>
        documents == 0 ? 1.0 : Math.Clamp((double)units / documents, 1, 16);

    // A pass of `hits` found `found` of the `depth` distinct documents wanted: grow by the share seen so far (hits per
    // document) with a margin, and at least double.
    private static long NextPass(int hits, int depth, int found) =>
        Math.Max(hits * 2L, (long)Math.Ceiling(hits * 1.25 * depth / Math.Max(found, 1)));

    private static List<Side> Collapse(IEnumerable<(long ChunkId, string DocId, double Score)> hits, bool perChunk)
    {
        var result = new List<Side>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var seenChunks = new HashSet<long>();
        foreach (var (chunkId, docId, score) in hits)
        {
            if (perChunk)
            {
                if (!seenChunks.Add(chunkId))
                {
                    continue; // a later window of a chunk already listed
                }
                result.Add(new Side(chunkId.ToString(System.Globalization.CultureInfo.InvariantCulture), docId, chunkId, score));
            }
            else if (seen.Add(docId))
            {
                result.Add(new Side(docId, docId, chunkId, score));
            }
        }
        return result;
    }

    private sealed record Side(string Key, string DocId, long ChunkId, double Score);

    private sealed record Candidate(string Key, string DocId, long ChunkId, double Score, int? LexicalRank, double? LexicalScore, int? DenseRank, double? DenseScore);
}

/// <summary>A document id and its retrieval score.</summary>
public readonly record struct RankedDocument(string DocId, double Score);
