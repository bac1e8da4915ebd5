using System.Diagnostics;
using SemanticSearch.Core;
using SemanticSearch.Core.Encoding;
using SemanticSearch.Engine.Storage;
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
    private readonly RetrieverLanes _lanes = new();

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
        var spaces = request.Mode == SearchMode.Lexical ? [] : ChooseSpaces(request.Spaces);
        var docs = new Dictionary<string, DocumentRecord?>(StringComparer.Ordinal);
        var candidates = request.CollapseDuplicates
            ? Distinct(request, fusion, spaces, wanted, docs)
            : Retrieve(request.Query, request.Mode, request.K, wanted, request.Filter, request.PerChunk, fusion, spaces, request.RelevanceFloor);

        var page = WithBestChunks(request.Query, candidates.Skip(request.Offset).Take(request.K).ToList());
        var chunks = _index.Metadata.GetChunks(page.Select(p => p.ChunkId));
        var hits = new List<SearchHit>(page.Count);
        foreach (var c in page)
        {
            if (!chunks.TryGetValue(c.ChunkId, out var chunk))
            {
                continue; // never surface a hit that cannot be hydrated
            }
            if (DocumentOf(chunk.DocumentId, docs) is not { } doc)
            {
                continue;
            }
            Dictionary<string, RetrieverRank>? bySpace = null;
            if (spaces.Count > 0)
            {
                bySpace = new Dictionary<string, RetrieverRank>(StringComparer.Ordinal);
                for (var i = 0; i < spaces.Count; i++)
                {
                    if (c.Spaces[i] is { } r)
                    {
                        bySpace[spaces[i].Name] = r;
                    }
                }
            }
            hits.Add(new SearchHit(doc.Id, chunk.Id, doc.Path, doc.Title, chunk.Text, Snippets.Build(chunk.Text, request.Query), c.Score,
                c.Lexical, c.Spaces.Length > 0 ? c.Spaces[0] : null, bySpace)
            {
                AlsoAt = request.CollapseDuplicates ? DuplicatesOf(doc) : null,
            });
        }
        var fused = request.Mode == SearchMode.Hybrid || (request.Mode == SearchMode.Dense && spaces.Count > 1);
        return new SearchResponse(hits, request.Mode, clock.Elapsed.TotalMilliseconds, fused ? fusion : null,
            spaces.Count > 0 ? spaces.Select(sp => sp.Name).ToList() : null);
    }

    // The candidates with duplicates collapsed, at least `wanted` of them when the index has that many: documents with
    // the same extracted text (per chunk: the same text and chunk position) count once, at the rank of the best of
    // them. Collapsing can leave fewer than `wanted`, so the retrieval is asked again, twice as deep, up to three times.
    private List<Candidate> Distinct(SearchRequest request, FusionOptions fusion, IReadOnlyList<SpaceStore> spaces, int wanted, Dictionary<string, DocumentRecord?> docs)
    {
        var asked = wanted;
        for (var pass = 0; ; pass++)
        {
            var candidates = Retrieve(request.Query, request.Mode, request.K, asked, request.Filter, request.PerChunk, fusion, spaces, request.RelevanceFloor);
            var ordinals = request.PerChunk ? _index.Metadata.GetChunks(candidates.Select(c => c.ChunkId)) : null;
            var seen = new HashSet<string>(StringComparer.Ordinal);
            var distinct = new List<Candidate>(Math.Min(candidates.Count, wanted));
            foreach (var c in candidates)
            {
                var doc = DocumentOf(c.DocId, docs);
                var key = doc?.TextHash ?? "id:" + c.DocId;
                if (ordinals is not null)
                {
                    key += ordinals.TryGetValue(c.ChunkId, out var chunk) ? "#" + chunk.Ordinal.ToString(System.Globalization.CultureInfo.InvariantCulture) : "#id:" + c.Key;
                }
                if (seen.Add(key))
                {
                    distinct.Add(c);
                    if (distinct.Count == wanted)
                    {
                        return distinct;
                    }
                }
            }
            // every candidate is placed, or the retrieval had no more to give
            if (pass == 3 || distinct.Count == candidates.Count || candidates.Count < asked)
            {
                return distinct;
            }
            asked = (int)Math.Min(SearchRequest.MaxK * 10L, asked * 2L);
        }
    }

    private DocumentRecord? DocumentOf(string docId, Dictionary<string, DocumentRecord?> docs)
    {
        if (!docs.TryGetValue(docId, out var doc))
        {
            doc = _index.Metadata.GetDocument(docId);
            docs[docId] = doc;
        }
        return doc;
    }

    // The other documents with this one's text, or null when it has none.
    private IReadOnlyList<DuplicateDocument>? DuplicatesOf(DocumentRecord doc)
    {
        if (doc.TextHash is not { } hash)
        {
            return null;
        }
        var others = _index.Metadata.DocumentsWithTextHash(hash)
            .Where(d => !string.Equals(d.Id, doc.Id, StringComparison.Ordinal))
            .Select(d => new DuplicateDocument(d.Id, d.Path))
            .ToList();
        return others.Count == 0 ? null : others;
    }

    /// <summary>
    /// The best <paramref name="depth"/> documents for <paramref name="query"/> with their scores, unhydrated: the
    /// fast path for evaluation runs, which need ids, not text. Hybrid rankings keep to the relevance floor unless
    /// <paramref name="relevanceFloor"/> is false, as searches do.
    /// </summary>
    public IReadOnlyList<RankedDocument> RankDocuments(string query, SearchMode mode, int depth, SearchFilter? filter = null, FusionOptions? fusion = null, IReadOnlyList<string>? spaces = null, bool relevanceFloor = true)
    {
        var effective = fusion ?? IndexFusion;
        effective.Validate();
        var chosen = mode == SearchMode.Lexical ? [] : ChooseSpaces(spaces);
        return Retrieve(query, mode, depth, depth, filter, perChunk: false, effective with { Depth = effective.Depth ?? depth }, chosen, relevanceFloor)
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
        var (lexical, spaces) = RankRetrievers(query, depth, _index.Spaces.Count > 0 ? [_index.Spaces[0]] : []);
        return (lexical, spaces[0].Ranking);
    }

    /// <summary>
    /// The BM25 ranking of <paramref name="query"/> and the ranking of every vector space of the index (or of
    /// <paramref name="spaces"/>), each <paramref name="depth"/> deep, before fusion, all retrieved at once: what
    /// fusion tuning over several retrievers replays.
    /// </summary>
    public (IReadOnlyList<RankedDocument> Lexical, IReadOnlyList<(string Space, IReadOnlyList<RankedDocument> Ranking)> Spaces) RankRetrievers(string query, int depth, IReadOnlyList<string>? spaces = null) =>
        RankRetrievers(query, depth, ChooseSpaces(spaces));

    private (IReadOnlyList<RankedDocument> Lexical, IReadOnlyList<(string Space, IReadOnlyList<RankedDocument> Ranking)> Spaces) RankRetrievers(string query, int depth, IReadOnlyList<SpaceStore> spaces)
    {
        RequireSpaces(SearchMode.Hybrid, spaces);
        var (lexical, dense) = RetrieveAll(query, depth, null, perChunk: false, lexicalToo: true, spaces);
        return (lexical!.Take(depth).Select(c => new RankedDocument(c.DocId, c.Score)).ToList(),
                spaces.Select((sp, i) => (sp.Name, (IReadOnlyList<RankedDocument>)dense[i].Take(depth).Select(c => new RankedDocument(c.DocId, c.Score)).ToList())).ToList());
    }

    // The spaces a query uses: the named ones (validated), or every space of the index.
    private IReadOnlyList<SpaceStore> ChooseSpaces(IReadOnlyList<string>? names)
    {
        var all = _index.Spaces;
        if (names is null)
        {
            return all;
        }
        var chosen = new List<SpaceStore>(names.Count);
        foreach (var name in names)
        {
            var space = all.FirstOrDefault(s => string.Equals(s.Name, name, StringComparison.OrdinalIgnoreCase))
                ?? throw new InvalidSettingException("spaces", all.Count == 0
                    ? $"'{name}': this index is lexical only (it has no vector spaces)."
                    : $"the index has no vector space '{name}' (its spaces: {string.Join(", ", all.Select(s => s.Name))}).");
            if (!chosen.Contains(space))
            {
                chosen.Add(space);
            }
        }
        return chosen;
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

    // Every chosen space must be searchable: not damaged, its graph and model loaded.
    private void RequireSpaces(SearchMode mode, IReadOnlyList<SpaceStore> spaces)
    {
        var label = mode.ToString().ToLowerInvariant();
        if (spaces.Count == 0)
        {
            throw new InvalidSettingException("mode", $"'{label}' needs an index built with an embedding model; this index is lexical only. Use --mode lexical.");
        }
        foreach (var space in spaces)
        {
            if (space.Damage is { } damage)
            {
                throw new CorruptDataException(damage.Path, damage.Message[(damage.Path.Length + 2)..], damage);
            }
            if (space.Vectors is null || space.Encoder is null)
            {
                throw new InvalidSettingException("mode", spaces.Count == 1 && _index.Spaces.Count == 1
                    ? $"'{label}' needs the index's model {space.Manifest.Model.ModelId}, which was not loaded."
                    : $"'{label}' needs the model {space.Manifest.Model.ModelId} of space '{space.Name}', which was not loaded.");
            }
        }
    }

    private List<Candidate> Retrieve(string query, SearchMode mode, int k, int wanted, SearchFilter? filter, bool perChunk, FusionOptions fusion, IReadOnlyList<SpaceStore> spaces, bool floor)
    {
        if (mode != SearchMode.Lexical)
        {
            RequireSpaces(mode, spaces);
            CheckWeights(mode, fusion, spaces);
        }
        var lexFilter = filter is null ? null : new LexicalFilter(filter.PathPrefix, filter.FileTypes, filter.ModifiedAfterUtc, filter.Metadata);
        if (mode == SearchMode.Lexical)
        {
            return LexicalDocuments(query, wanted, lexFilter, perChunk)
                .Select((c, i) => new Candidate(c.Key, c.DocId, c.ChunkId, c.Score, new RetrieverRank(i + 1, c.Score), [])).ToList();
        }
        if (mode == SearchMode.Dense && spaces.Count == 1)
        {
            var allowed = AllowedChunks(lexFilter);
            return DenseDocuments(spaces[0], query, wanted, allowed, perChunk)
                .Select((c, i) => new Candidate(c.Key, c.DocId, c.ChunkId, c.Score, null, [new RetrieverRank(i + 1, c.Score)])).ToList();
        }
        var hybrid = mode == SearchMode.Hybrid;
        var depth = fusion.Depth ?? CandidateDepth(k, wanted);
        var (lexical, dense) = RetrieveAll(query, depth, lexFilter, perChunk, hybrid, spaces);
        var byKey = new Dictionary<string, Side>(StringComparer.Ordinal);
        for (var i = dense.Length - 1; i >= 0; i--)
        {
            foreach (var c in dense[i])
            {
                byKey[c.Key] = c; // the first space's best chunk wins over later spaces'
            }
        }
        var rankings = new List<WeightedRanking<string>>(spaces.Count + 1);
        if (lexical is not null)
        {
            foreach (var c in lexical)
            {
                byKey[c.Key] = c; // the lexical best chunk is the snippet when both sides found the document
            }
            rankings.Add(new(lexical.Select(c => new Ranked<string>(c.Key, c.Score)).ToList(), fusion.LexicalWeight));
        }
        for (var i = 0; i < spaces.Count; i++)
        {
            rankings.Add(new(dense[i].Select(c => new Ranked<string>(c.Key, c.Score)).ToList(), fusion.WeightOf(spaces[i].Name)));
        }
        var fused = RankFusion.Fuse(fusion.Method, fusion.K, rankings, StringComparer.Ordinal);
        if (hybrid && floor)
        {
            // the relevance floor (RelevanceFloor): BM25's candidates, and vector candidates above their space's noise
            var credible = new HashSet<string>(lexical!.Select(c => c.Key), StringComparer.Ordinal);
            foreach (var side in dense)
            {
                credible.UnionWith(side.Where(c => c.Credible).Select(c => c.Key));
            }
            fused = fused.Where(f => credible.Contains(f.Key)).ToList();
        }
        var first = hybrid ? 1 : 0;
        return fused.Select(f =>
        {
            var side = byKey[f.Key];
            var bySpace = new RetrieverRank?[spaces.Count];
            for (var i = 0; i < spaces.Count; i++)
            {
                bySpace[i] = f.Evidence[first + i];
            }
            return new Candidate(f.Key, side.DocId, side.ChunkId, f.Score, hybrid ? f.Evidence[0] : null, bySpace);
        }).ToList();
    }

    // A fusion must give some retriever of the query a weight, and may weigh only spaces the index has.
    private void CheckWeights(SearchMode mode, FusionOptions fusion, IReadOnlyList<SpaceStore> spaces)
    {
        _index.Manifest.CheckSpaceWeights(fusion);
        var fusedSpaces = mode == SearchMode.Hybrid || spaces.Count > 1;
        if (fusedSpaces && (mode == SearchMode.Hybrid ? fusion.LexicalWeight : 0) + spaces.Sum(s => fusion.WeightOf(s.Name)) <= 0)
        {
            throw new InvalidSettingException("fusion.weights", mode == SearchMode.Hybrid
                ? "every retriever of this query has weight 0."
                : "every vector space of this dense query has weight 0 (BM25's weight does not count in dense mode).");
        }
    }

    // BM25 (when lexicalToo) and every space at once: each space embeds the query and walks its graph as one job, and
    // the jobs run on a lane per core, longest expected first (RetrieverLanes), so the query embeddings of several
    // models run in parallel without time-slicing the slowest one.
    private (List<Side>? Lexical, List<Side>[] Dense) RetrieveAll(string query, int depth, LexicalFilter? lexFilter, bool perChunk, bool lexicalToo, IReadOnlyList<SpaceStore> spaces)
    {
        var allowed = AllowedChunks(lexFilter);
        var jobs = new List<(string Key, Func<List<Side>> Work)>(spaces.Count + 1);
        foreach (var space in spaces)
        {
            jobs.Add(("space:" + space.Name, () => DenseDocuments(space, query, depth, allowed, perChunk)));
        }
        if (lexicalToo)
        {
            jobs.Add(("lexical", () => LexicalDocuments(query, depth, lexFilter, perChunk)));
        }
        var results = _lanes.Run(jobs);
        return (lexicalToo ? results[^1] : null, results[..spaces.Count]);
    }

    // The chunks a filter admits (one Lucene query shared by every space), or null without a filter.
    private IReadOnlySet<long>? AllowedChunks(LexicalFilter? filter) => filter is null ? null : _index.Lexical.MatchingChunkIds(filter);

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
    private List<Side> DenseDocuments(SpaceStore space, string query, int depth, IReadOnlySet<long>? allowedChunks, bool perChunk)
    {
        var encoder = space.Encoder!;
        var vectors = space.Vectors!;
        var policy = space.Policy;
        var q = new float[encoder.Info.Dimensions];
        encoder.Encode([query], TextRole.Query, q);
        Span<float> background = stackalloc float[RelevanceFloor.SampleSize];
        var floor = RelevanceFloor.Floor(background[..vectors.SampleScores(q, background)], vectors.Count);
        Func<long, bool>? allowed = allowedChunks is null ? null : v => allowedChunks.Contains(policy.ChunkOfVector(v));
        // On a windowed index a document owns several vectors (SciFact under a 128-token model: 5.6), so the first pass
        // asks for as many hits per wanted document as the index has vectors per document, instead of discovering that
        // with a wasted shallow search.
        var perDocument = space.Manifest.WindowTokens is null ? 1.0 : HitsPerDocument(space.Manifest.VectorCount, _index.Manifest.Counts.Documents);
        var chunkDepth = (int)Math.Min(Math.Ceiling(depth * perDocument), Math.Max(vectors.Count, depth));
        while (true)
        {
            // vector ids are chunk ids, or chunk windows on a short-context model's index: a chunk scores as its best window
            var hits = vectors.Search(q, chunkDepth, Math.Max(chunkDepth, space.Manifest.Vectors.EfSearch), allowed);
            var docOf = _index.DocumentsOfChunks(hits.Select(h => policy.ChunkOfVector(h.Id)));
            var result = Collapse(
                hits.Select(h => (Chunk: policy.ChunkOfVector(h.Id), h.Score))
                    .Where(h => docOf.ContainsKey(h.Chunk))
                    .Select(h => (h.Chunk, docOf[h.Chunk], (double)h.Score)),
                perChunk, floor);
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

    private static List<Side> Collapse(IEnumerable<(long ChunkId, string DocId, double Score)> hits, bool perChunk, double? floor = null)
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
                result.Add(new Side(chunkId.ToString(System.Globalization.CultureInfo.InvariantCulture), docId, chunkId, score, !(score < floor)));
            }
            else if (seen.Add(docId))
            {
                result.Add(new Side(docId, docId, chunkId, score, !(score < floor)));
            }
        }
        return result;
    }

    // Credible: BM25's hits always; a vector hit when it reaches its space's relevance floor for the query (or the
    // space could not tell one).
    private sealed record Side(string Key, string DocId, long ChunkId, double Score, bool Credible = true);

    // Lexical: BM25's evidence; Spaces: each queried space's, in the order of the query's spaces.
    private sealed record Candidate(string Key, string DocId, long ChunkId, double Score, RetrieverRank? Lexical, RetrieverRank?[] Spaces);
}

/// <summary>A document id and its retrieval score.</summary>
public readonly record struct RankedDocument(string DocId, double Score);
