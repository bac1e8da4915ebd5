using System.Diagnostics;
using SemanticSearch.Core;
using SemanticSearch.Core.Encoding;
using SemanticSearch.Engine.Storage;
using SemanticSearch.Lexical;
using SemanticSearch.Metadata;

namespace SemanticSearch.Engine.Search;

/// <summary>
/// Answers queries over one <see cref="SemanticIndex"/>: read the query language (<see cref="LexicalQuery"/>), embed
/// the query, retrieve candidates from BM25 and from the vector index at once — BM25 ranks whole documents (title and
/// full text, independent of chunking), the vector side ranks chunks collapsed to documents (best chunk first),
/// keeping only chunks that hold the query's required phrases and none of its exclusions; per-chunk results rank
/// chunks on both sides — fuse, page, pick each lexical hit's best chunk, then hydrate text and titles from metadata.
/// When BM25 finds nothing, the query is tried again with its unknown words corrected from the index's dictionary.
/// </summary>
public sealed class Searcher
{
    private readonly SemanticIndex _index;
    private readonly RetrieverLanes _lanes = new();
    private string? _indexName;

    /// <summary>A searcher over an open index (read-only or writable).</summary>
    public Searcher(SemanticIndex index) => _index = index;

    /// <summary>Runs <paramref name="request"/>.</summary>
    public SearchResponse Search(SearchRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        request.Validate();
        var clock = Stopwatch.StartNew();
        using var activity = EngineTelemetry.Source.StartActivity("search");
        var wanted = request.Offset + request.K;
        var fusion = EffectiveFusion(request);
        var spaces = request.Mode == SearchMode.Lexical ? [] : ChooseSpaces(request.Spaces);
        var query = LexicalQuery.Parse(request.Query);
        var docs = new Dictionary<string, DocumentRecord?>(StringComparer.Ordinal);
        var vector = QueryVectorFor(request, spaces); // checked and normalised once, whatever the passes below
        var (candidates, lexicalCount, matched) = Candidates(query, request, fusion, spaces, wanted, docs, vector);
        string? didYouMean = null;
        // The query as typed found nothing at all — BM25 nothing and, in hybrid mode, no vector hit above the relevance
        // floor either: the corrected query answers instead when BM25 finds something for it. A hybrid query that only
        // the vectors answer is answered as typed (a paraphrase shares no word with its answer, and the words it has
        // that the index lacks are not typos).
        if (lexicalCount == 0 && candidates.Count == 0 && Corrected(query, request.PerChunk) is { } corrected)
        {
            var retry = Candidates(corrected, request, fusion, spaces, wanted, docs, vector);
            if (retry.LexicalCount > 0)
            {
                (query, candidates, matched, didYouMean) = (corrected, retry.Candidates, retry.Matched, corrected.Text);
            }
        }
        // what the total and the facets count (SearchResponse.Total): lexically every BM25 match, exactly; otherwise
        // the fused candidates the filters and the floor kept, before duplicates collapse
        // (the ids only when facets count them by field; a plain total is counted without reading one)
        IReadOnlyList<string>? counted = request.Mode != SearchMode.Lexical ? matched.Select(c => c.DocId).ToList()
            : request.Facets ? _index.Lexical.MatchingDocuments(query, ToLexical(request.Filter), request.PerChunk)
            : null;
        var total = counted?.Count ?? _index.Lexical.CountMatchingDocuments(query, ToLexical(request.Filter), request.PerChunk);

        using var hydrate = EngineTelemetry.Source.StartActivity("search.hydrate");
        var page = WithBestChunks(query, candidates.Skip(request.Offset).Take(request.K).ToList());
        var chunks = _index.Metadata.GetChunks(page.Select(p => p.ChunkId));
        var copies = request.CollapseDuplicates
            ? CopiesByTextHash(page.Select(c => chunks.TryGetValue(c.ChunkId, out var ch) ? DocumentOf(ch.DocumentId, docs) : null).OfType<DocumentRecord>().ToList(), docs)
            : null;
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
            var window = Snippets.Window(chunk.Text, query.EmbeddingText);
            var snippet = window.Text;
            var snippetHighlights = Highlights(snippet, query);
            hits.Add(new SearchHit(doc.Id, chunk.Id, doc.Path, doc.Title, chunk.Text, snippet, c.Score,
                c.Lexical, c.Spaces.Length > 0 ? c.Spaces[0] : null, bySpace)
            {
                AlsoAt = copies is null ? null : DuplicatesOf(doc, copies),
                SnippetHighlights = snippetHighlights,
                TitleHighlights = Highlights(doc.Title, query),
                Metadata = doc.Metadata,
                // where the first matched word is, else (a dense-only hit) where the snippet begins
                Location = LocationOf(doc, chunk, window.TextOffsetOf(snippetHighlights.Count > 0 ? snippetHighlights[0].Start : 0)),
            });
        }
        hydrate?.Dispose();
        var facets = request.Facets ? Facets(counted!, docs) : null;
        var fused = request.Mode == SearchMode.Hybrid || (request.Mode == SearchMode.Dense && spaces.Count > 1);
        var tookMs = clock.Elapsed.TotalMilliseconds;
        Observe(activity, request, hits.Count, tookMs);
        return new SearchResponse(hits, request.Mode, tookMs, fused ? fusion : null,
            spaces.Count > 0 ? spaces.Select(sp => sp.Name).ToList() : null, Understand(query), didYouMean)
        {
            Total = total,
            TotalExact = request.Mode == SearchMode.Lexical,
            Facets = facets,
        };
    }

    // The search span's tags and the duration histogram's point; nothing is computed when no one listens.
    private void Observe(Activity? activity, SearchRequest request, int hits, double tookMs)
    {
        if (activity is null && !EngineTelemetry.SearchDuration.Enabled)
        {
            return;
        }
        var mode = EngineTelemetry.ModeName(request.Mode);
        var index = _indexName ??= EngineTelemetry.IndexName(_index.Directory);
        if (activity is not null)
        {
            activity.SetTag(EngineTelemetry.ModeTag, mode);
            activity.SetTag("k", request.K);
            activity.SetTag(EngineTelemetry.IndexTag, index);
            activity.SetTag("hits", hits);
        }
        EngineTelemetry.SearchDuration.Record(tookMs, new KeyValuePair<string, object?>(EngineTelemetry.ModeTag, mode), new KeyValuePair<string, object?>(EngineTelemetry.IndexTag, index));
    }

    // The counted hits by file type, top-level folder of the id, and source; a document gone from metadata since its
    // match (a concurrent delete) is not counted.
    private SearchFacets Facets(IReadOnlyList<string> documentIds, Dictionary<string, DocumentRecord?> docs)
    {
        var types = new Dictionary<string, long>(StringComparer.Ordinal);
        var folders = new Dictionary<string, long>(StringComparer.Ordinal);
        var sources = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var id in documentIds)
        {
            if (DocumentOf(id, docs) is not { } doc)
            {
                continue;
            }
            Increment(types, doc.FileType);
            Increment(folders, TopFolder(doc.Id));
            Increment(sources, doc.Source);
        }
        return new SearchFacets(Ordered(types), Ordered(folders), Ordered(sources));

        static void Increment(Dictionary<string, long> counts, string value) =>
            counts[value] = counts.GetValueOrDefault(value) + 1;

        static List<FacetCount> Ordered(Dictionary<string, long> counts) =>
            counts.OrderByDescending(c => c.Value).ThenBy(c => c.Key, StringComparer.Ordinal).Select(c => new FacetCount(c.Key, c.Value)).ToList();
    }

    /// <summary>The top-level folder of a document id: its part before the first '/', or empty when it has none.</summary>
    public static string TopFolder(string documentId)
    {
        ArgumentNullException.ThrowIfNull(documentId);
        var slash = documentId.IndexOf('/', StringComparison.Ordinal);
        return slash <= 0 ? string.Empty : documentId[..slash];
    }

    internal static LexicalFilter? ToLexical(SearchFilter? filter) => filter is null
        ? null
        : new LexicalFilter(filter.PathPrefix, filter.FileTypes, filter.ModifiedAfterUtc, filter.Metadata, filter.ModifiedBeforeUtc, filter.MetadataAnyOf) { Where = filter.Where };

    // What the response says was understood: the parsed clauses, less those that hold no searchable term (noted).
    private QueryUnderstanding Understand(LexicalQuery query)
    {
        var ignored = _index.Lexical.IgnoredClauses(query);
        var notes = query.Notes.Concat(ignored.Select(c => $"{LexicalQuery.Shown(c)} holds no searchable word (stop words only): ignored")).ToList();
        var required = query.Required.Except(ignored).Select(LexicalQuery.Shown).ToList();
        var excluded = query.Excluded.Except(ignored).Select(LexicalQuery.Shown).ToList();
        var words = string.Join(' ', query.Free.Select(f => f.Text)).Trim();
        var parts = new List<string>();
        if (query.IsPlain)
        {
            parts.Add(words.Length == 0 ? "no words" : "plain words");
        }
        else
        {
            if (words.Length > 0)
            {
                parts.Add("words: " + words);
            }
            if (required.Count > 0)
            {
                parts.Add("required: " + string.Join(", ", required));
            }
            if (excluded.Count > 0)
            {
                parts.Add("excluded: " + string.Join(", ", excluded));
            }
            if (words.Length == 0 && required.Count == 0)
            {
                parts.Add("nothing to search for but exclusions");
            }
        }
        parts.AddRange(notes);
        return new QueryUnderstanding(query.Text, words, required, excluded, notes, string.Join("; ", parts));
    }

    // The query with each unknown word replaced by the closest term of the index, written as a word of a chunk that
    // holds it (a stemmed term is not a word); null when no word needs or has a correction.
    private LexicalQuery? Corrected(LexicalQuery query, bool perChunk)
    {
        var fixes = _index.Lexical.Correct(query, perChunk);
        if (fixes.Count == 0)
        {
            return null;
        }
        var chunks = _index.Metadata.GetChunks(fixes.Select(f => f.ExampleChunk).Distinct());
        var replacements = new List<QueryReplacement>(fixes.Count);
        foreach (var fix in fixes)
        {
            string? word = null;
            if (chunks.TryGetValue(fix.ExampleChunk, out var chunk))
            {
                word = _index.Lexical.WordFor(chunk.Text, fix.Term)
                    ?? (_index.Metadata.GetDocument(chunk.DocumentId) is { } doc ? _index.Lexical.WordFor(doc.Title, fix.Term) : null);
            }
            replacements.Add(new QueryReplacement(fix.Start, fix.Length, word ?? fix.Term));
        }
        return query.WithReplacements(replacements);
    }

    // The candidates of a search, with duplicates collapsed unless the request keeps them, how many BM25 returned
    // (null when BM25 took no part), and every candidate retrieved before duplicates collapsed (what totals count).
    private (List<Candidate> Candidates, int? LexicalCount, List<Candidate> Matched) Candidates(LexicalQuery query, SearchRequest request, FusionOptions fusion, IReadOnlyList<SpaceStore> spaces, int wanted, Dictionary<string, DocumentRecord?> docs, float[]? vector)
    {
        if (request.CollapseDuplicates)
        {
            return Distinct(query, request, fusion, spaces, wanted, docs, vector);
        }
        var (candidates, lexicalCount) = Retrieve(query, request.Mode, request.K, wanted, request.Filter, request.PerChunk, fusion, spaces, request.RelevanceFloor, vector);
        return (candidates, lexicalCount, candidates);
    }

    // The candidates with duplicates collapsed, at least `wanted` of them when the index has that many: documents with
    // the same extracted text (per chunk: the same text and chunk position) count once, at the rank of the best of
    // them. Collapsing can leave fewer than `wanted`, so the retrieval is asked again, twice as deep, up to three times.
    private (List<Candidate> Candidates, int? LexicalCount, List<Candidate> Matched) Distinct(LexicalQuery query, SearchRequest request, FusionOptions fusion, IReadOnlyList<SpaceStore> spaces, int wanted, Dictionary<string, DocumentRecord?> docs, float[]? vector)
    {
        var asked = wanted;
        for (var pass = 0; ; pass++)
        {
            var (candidates, lexicalCount) = Retrieve(query, request.Mode, request.K, asked, request.Filter, request.PerChunk, fusion, spaces, request.RelevanceFloor, vector);
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
                        return (distinct, lexicalCount, candidates);
                    }
                }
            }
            // every candidate is placed, or the retrieval had no more to give
            if (pass == 3 || distinct.Count == candidates.Count || candidates.Count < asked)
            {
                return (distinct, lexicalCount, candidates);
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

    // The page and sections at an offset of the chunk's text, from the document's outline.
    private static HitLocation? LocationOf(DocumentRecord doc, ChunkRecord chunk, int inChunk)
    {
        if (doc.Outline is not { } outline || Indexing.PassagePolicy.IsTitleChunk(chunk.Length))
        {
            return null;
        }
        var at = outline.Locate(chunk.Start + inChunk);
        return at.Page is null && at.Sections.Count == 0
            ? null
            : new HitLocation(at.Page, at.Sections.Select(s => s.Text).ToList(), at.Anchor);
    }

    private List<TextHighlight> Highlights(string text, LexicalQuery query) =>
        _index.Lexical.Highlights(text, query).Select(h => new TextHighlight(h.Start, h.Length)).ToList();

    // Every document that has the text of a document of the page, by text hash (the page's documents among them): one
    // lookup for the page. The lexical index finds them by the hash's term (each segment's term dictionary seeked
    // once for all the page's hashes); a metadata store made before that finds them through its own index.
    private Dictionary<string, List<DocumentRecord>> CopiesByTextHash(IReadOnlyList<DocumentRecord> pageDocs, Dictionary<string, DocumentRecord?> docs)
    {
        var byHash = new Dictionary<string, List<DocumentRecord>>(StringComparer.Ordinal);
        var hashes = pageDocs.Select(d => d.TextHash).OfType<string>().Distinct(StringComparer.Ordinal).ToList();
        if (hashes.Count == 0)
        {
            return byHash;
        }
        var withHashes = _index.Metadata.IndexesTextHashes
            ? hashes.SelectMany(_index.Metadata.DocumentsWithTextHash)
            : _index.Lexical.DocumentIdsWithTextHashes(hashes).Select(id => DocumentOf(id, docs)).OfType<DocumentRecord>();
        foreach (var d in withHashes)
        {
            if (d.TextHash is { } hash)
            {
                if (!byHash.TryGetValue(hash, out var list))
                {
                    byHash[hash] = list = [];
                }
                list.Add(d);
            }
        }
        return byHash;
    }

    // The other documents with this one's text, in id order, or null when it has none.
    private static IReadOnlyList<DuplicateDocument>? DuplicatesOf(DocumentRecord doc, Dictionary<string, List<DocumentRecord>> copies)
    {
        if (doc.TextHash is not { } hash || !copies.TryGetValue(hash, out var all))
        {
            return null;
        }
        var others = all
            .Where(d => !string.Equals(d.Id, doc.Id, StringComparison.Ordinal))
            .OrderBy(d => d.Id, StringComparer.Ordinal)
            .Select(d => new DuplicateDocument(d.Id, d.Path))
            .ToList();
        return others.Count == 0 ? null : others;
    }

    /// <summary>
    /// The best <paramref name="depth"/> documents for <paramref name="query"/> with their scores, unhydrated: the
    /// fast path for evaluation runs, which need ids, not text. The query is plain text (bag of words, embedded as
    /// given): no operator is parsed, since BEIR queries hold quotes and dashes as text, and no spelling is corrected.
    /// Hybrid rankings keep to the relevance floor unless <paramref name="relevanceFloor"/> is false, as searches do.
    /// </summary>
    public IReadOnlyList<RankedDocument> RankDocuments(string query, SearchMode mode, int depth, SearchFilter? filter = null, FusionOptions? fusion = null, IReadOnlyList<string>? spaces = null, bool relevanceFloor = true)
    {
        var effective = fusion ?? IndexFusion;
        effective.Validate();
        var chosen = mode == SearchMode.Lexical ? [] : ChooseSpaces(spaces);
        return Retrieve(LexicalQuery.Plain(query), mode, depth, depth, filter, perChunk: false, effective with { Depth = effective.Depth ?? depth }, chosen, relevanceFloor).Candidates
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
    /// fusion tuning over several retrievers replays. Like <see cref="RankDocuments"/>, the query is plain text.
    /// </summary>
    public (IReadOnlyList<RankedDocument> Lexical, IReadOnlyList<(string Space, IReadOnlyList<RankedDocument> Ranking)> Spaces) RankRetrievers(string query, int depth, IReadOnlyList<string>? spaces = null) =>
        RankRetrievers(query, depth, ChooseSpaces(spaces));

    private (IReadOnlyList<RankedDocument> Lexical, IReadOnlyList<(string Space, IReadOnlyList<RankedDocument> Ranking)> Spaces) RankRetrievers(string query, int depth, IReadOnlyList<SpaceStore> spaces)
    {
        RequireSpaces(SearchMode.Hybrid, spaces, vectorGiven: false);
        var (lexical, dense) = RetrieveAll(LexicalQuery.Plain(query), depth, null, perChunk: false, lexicalToo: true, spaces, vector: null);
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
    private List<Candidate> WithBestChunks(LexicalQuery query, List<Candidate> page)
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
    private void RequireSpaces(SearchMode mode, IReadOnlyList<SpaceStore> spaces, bool vectorGiven)
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
            if (space.Vectors is null || (space.Encoder is null && !vectorGiven))
            {
                throw new InvalidSettingException("mode", spaces.Count == 1 && _index.Spaces.Count == 1
                    ? $"'{label}' needs the index's model {space.Manifest.Model.ModelId}, which was not loaded."
                    : $"'{label}' needs the model {space.Manifest.Model.ModelId} of space '{space.Name}', which was not loaded.");
            }
        }
    }

    // The fused candidates, and how many BM25 returned (null when BM25 took no part).
    private (List<Candidate> Candidates, int? LexicalCount) Retrieve(LexicalQuery query, SearchMode mode, int k, int wanted, SearchFilter? filter, bool perChunk, FusionOptions fusion, IReadOnlyList<SpaceStore> spaces, bool floor, float[]? vector = null)
    {
        if (mode != SearchMode.Lexical)
        {
            RequireSpaces(mode, spaces, vector is not null);
            CheckWeights(mode, fusion, spaces);
        }
        var lexFilter = ToLexical(filter);
        if (mode == SearchMode.Lexical)
        {
            var found = LexicalDocuments(query, wanted, lexFilter, perChunk)
                .Select((c, i) => new Candidate(c.Key, c.DocId, c.ChunkId, c.Score, new RetrieverRank(i + 1, c.Score), [])).ToList();
            return (found, found.Count);
        }
        if (mode == SearchMode.Dense && spaces.Count == 1)
        {
            var admission = DenseAdmission(lexFilter, query, perChunk, vector);
            return (DenseDocuments(spaces[0], wanted, admission, perChunk)
                .Select((c, i) => new Candidate(c.Key, c.DocId, c.ChunkId, c.Score, null, [new RetrieverRank(i + 1, c.Score)])).ToList(), null);
        }
        var hybrid = mode == SearchMode.Hybrid;
        var depth = fusion.Depth ?? CandidateDepth(k, wanted);
        var (lexical, dense) = RetrieveAll(query, depth, lexFilter, perChunk, hybrid, spaces, vector);
        using var fuse = EngineTelemetry.Source.StartActivity("search.fuse");
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
        fuse?.Dispose();
        var first = hybrid ? 1 : 0;
        return (fused.Select(f =>
        {
            var side = byKey[f.Key];
            var bySpace = new RetrieverRank?[spaces.Count];
            for (var i = 0; i < spaces.Count; i++)
            {
                bySpace[i] = f.Evidence[first + i];
            }
            return new Candidate(f.Key, side.DocId, side.ChunkId, f.Score, hybrid ? f.Evidence[0] : null, bySpace);
        }).ToList(), lexical?.Count);
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
    private (List<Side>? Lexical, List<Side>[] Dense) RetrieveAll(LexicalQuery query, int depth, LexicalFilter? lexFilter, bool perChunk, bool lexicalToo, IReadOnlyList<SpaceStore> spaces, float[]? vector)
    {
        var allowed = DenseAdmission(lexFilter, query, perChunk, vector);
        var jobs = new List<(string Key, Func<List<Side>> Work)>(spaces.Count + 1);
        foreach (var space in spaces)
        {
            jobs.Add(("space:" + space.Name, () => DenseDocuments(space, depth, allowed, perChunk)));
        }
        if (lexicalToo)
        {
            jobs.Add(("lexical", () => LexicalDocuments(query, depth, lexFilter, perChunk)));
        }
        var results = _lanes.Run(jobs);
        return (lexicalToo ? results[^1] : null, results[..spaces.Count]);
    }

    // The chunks the dense side may return, judged in the lexical index once for every space: those the filter admits
    // and, for a query with required or excluded clauses, those whose document (per chunk: the chunk) holds every
    // required clause and no excluded one.
    private DenseFilter DenseAdmission(LexicalFilter? filter, LexicalQuery query, bool perChunk, float[]? vector = null)
    {
        var byFilter = filter is null ? null : _index.Lexical.MatchingChunkIds(filter);
        var byQuery = _index.Lexical.Constraint(query, perChunk);
        var none = byQuery is { AdmitsNone: true } || byFilter is { Count: 0 };
        Func<long, bool>? admits = (byFilter, byQuery) switch
        {
            (null, null) => null,
            (null, { } q) => q.Admits,
            ({ } f, null) => f.Contains,
            ({ } f, { } q) => c => f.Contains(c) && q.Admits(c),
        };
        // a query that is nothing but exclusions has nothing to embed
        var text = query.IsPlain || query.EmbeddingText.Length > 0 ? query.EmbeddingText : null;
        return new DenseFilter(text, admits, none || (text is null && vector is null), vector);
    }

    // What a dense retriever embeds (null: nothing) or the vector it was given instead, which chunks it may return
    // (null: all), and whether none can pass.
    private sealed record DenseFilter(string? Text, Func<long, bool>? Admits, bool Nothing, float[]? Vector = null);

    // The request's own query vector, normalised, after checking it fits the one space it is for; null when it has none.
    private static float[]? QueryVectorFor(SearchRequest request, IReadOnlyList<SpaceStore> spaces)
    {
        if (request.QueryVector is not { } given)
        {
            return null;
        }
        if (spaces.Count != 1)
        {
            throw new InvalidSettingException("vector", $"is for one vector space, and this query uses {spaces.Count} ({string.Join(", ", spaces.Select(s => s.Name))}); name one in spaces.");
        }
        var dims = spaces[0].Manifest.Model.Dimensions;
        if (given.Length != dims)
        {
            throw new InvalidSettingException("vector", $"has {given.Length} dimensions; space '{spaces[0].Name}' ({spaces[0].Manifest.Model.ModelId}) has {dims}.");
        }
        return GivenVector.Normalised(given.Span);
    }

    // Documents by whole-document BM25 (their best chunk is chosen when a page is hydrated); or, per chunk and on an
    // index of lexical format 1 (no document entries), BM25 chunk hits collapsed to their documents (a document scores
    // as its best chunk) or kept per chunk. Best first, at least `depth` deep when possible.
    private List<Side> LexicalDocuments(LexicalQuery query, int depth, LexicalFilter? filter, bool perChunk)
    {
        using var activity = EngineTelemetry.Source.StartActivity("search.lexical");
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

    // Vector hits for the embedded query text, filtered inside the HNSW walk, collapsed like the lexical side.
    private List<Side> DenseDocuments(SpaceStore space, int depth, DenseFilter admission, bool perChunk)
    {
        if (admission.Nothing)
        {
            return [];
        }
        var vectors = space.Vectors!;
        var policy = space.Policy;
        var q = admission.Vector;
        if (q is null)
        {
            var encoder = space.Encoder!;
            q = new float[encoder.Info.Dimensions];
            using var embed = EngineTelemetry.Source.StartActivity("search.embed");
            embed?.SetTag(EngineTelemetry.SpaceTag, space.Name);
            encoder.Encode([admission.Text!], TextRole.Query, q);
        }
        // the walk, a sibling of the embedding under "search" (the embedding is its own phase of the query)
        using var activity = EngineTelemetry.Source.StartActivity("search.dense");
        activity?.SetTag(EngineTelemetry.SpaceTag, space.Name);
        Span<float> background = stackalloc float[RelevanceFloor.SampleSize];
        var floor = RelevanceFloor.Floor(background[..vectors.SampleScores(q, background)], vectors.Count);
        var admits = admission.Admits;
        Func<long, bool>? allowed = admits is null ? null : v => admits(policy.ChunkOfVector(v));
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
