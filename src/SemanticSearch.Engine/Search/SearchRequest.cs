using SemanticSearch.Core;

namespace SemanticSearch.Engine.Search;

/// <summary>Which retrievers answer a query.</summary>
public enum SearchMode
{
    /// <summary>BM25 and vectors, fused.</summary>
    Hybrid,

    /// <summary>Vectors only.</summary>
    Dense,

    /// <summary>BM25 only.</summary>
    Lexical,
}

/// <summary>Conditions on document metadata; a hit's document must meet all that are set.</summary>
/// <param name="PathPrefix">
/// The document's full path starts with this (<c>/data/docs/guides</c>), or its id does: the path relative to the
/// indexed folder, as ids are written (<c>guides</c>, <c>./guides</c>, <c>guides\intro</c>); <c>.</c> is every document.
/// </param>
/// <param name="FileTypes">Extension is one of these (".pdf").</param>
/// <param name="ModifiedAfterUtc">Modified strictly after this instant.</param>
/// <param name="Metadata">Every key has exactly this value in the custom metadata.</param>
/// <param name="ModifiedBeforeUtc">Modified strictly before this instant.</param>
/// <param name="MetadataAnyOf">Every key has one of its values in the custom metadata (an OR list per key; keys, and <paramref name="Metadata"/>, AND together).</param>
public sealed record SearchFilter(
    string? PathPrefix = null,
    IReadOnlyList<string>? FileTypes = null,
    DateTime? ModifiedAfterUtc = null,
    IReadOnlyDictionary<string, string>? Metadata = null,
    DateTime? ModifiedBeforeUtc = null,
    IReadOnlyDictionary<string, IReadOnlyList<string>>? MetadataAnyOf = null)
{
    /// <summary>
    /// A boolean condition on the custom metadata (equalities, ordinal ranges, and/or/not), ANDed with the fields
    /// above; null: none. Keys beginning with <c>$</c> are stored only and never match.
    /// </summary>
    public SemanticSearch.Core.Filtering.MetadataCondition? Where { get; init; }
}

/// <summary>How hybrid search merges the lexical and the dense ranking.</summary>
public enum FusionMethod
{
    /// <summary>Reciprocal rank fusion: Σ wᵢ / (k + rankᵢ).</summary>
    Rrf,

    /// <summary>Convex combination of min-max normalised scores.</summary>
    Convex,
}

/// <summary>
/// The fusion that ranks a hybrid query: an index's default (its manifest records one), or that default with a
/// query's <see cref="FusionOverride"/> merged over it. Serialised as-is it is the wire shape of <c>fusion</c> in
/// responses and requests alike. Each retriever has a weight: BM25 <see cref="LexicalWeight"/>, a vector space its
/// entry in <see cref="SpaceWeights"/> or else <see cref="DenseWeight"/>.
/// </summary>
/// <param name="Method">RRF or convex combination.</param>
/// <param name="K">RRF's rank constant.</param>
/// <param name="LexicalWeight">Weight of the BM25 ranking.</param>
/// <param name="DenseWeight">Weight of each vector space's ranking that <paramref name="SpaceWeights"/> does not name.</param>
/// <param name="Depth">Candidates taken from each retriever; null means max(100, 10·(offset + k)).</param>
/// <param name="SpaceWeights">Weights of named vector spaces (names compare case-insensitively); null (left out of the wire shape): every space weighs <paramref name="DenseWeight"/>.</param>
public sealed record FusionOptions(FusionMethod Method = FusionMethod.Rrf, double K = 60, double LexicalWeight = 1, double DenseWeight = 1, int? Depth = null,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    IReadOnlyDictionary<string, double>? SpaceWeights = null)
{
    /// <summary>The weight of the vector space named <paramref name="space"/>.</summary>
    public double WeightOf(string space)
    {
        if (SpaceWeights is not null)
        {
            foreach (var (name, weight) in SpaceWeights)
            {
                if (string.Equals(name, space, StringComparison.OrdinalIgnoreCase))
                {
                    return weight;
                }
            }
        }
        return DenseWeight;
    }

    /// <summary>Throws <see cref="InvalidSettingException"/> naming the bad field.</summary>
    public void Validate()
    {
        if (!(K >= 0 && K <= 10_000))
        {
            throw new InvalidSettingException("fusion.k", $"must be between 0 and 10000 (got {K}).");
        }
        if (!(LexicalWeight >= 0 && LexicalWeight <= 100))
        {
            throw new InvalidSettingException("fusion.lexicalWeight", $"must be between 0 and 100 (got {LexicalWeight}).");
        }
        if (!(DenseWeight >= 0 && DenseWeight <= 100))
        {
            throw new InvalidSettingException("fusion.denseWeight", $"must be between 0 and 100 (got {DenseWeight}).");
        }
        var anySpaceWeight = DenseWeight > 0;
        foreach (var (name, weight) in SpaceWeights ?? new Dictionary<string, double>())
        {
            if (!(weight >= 0 && weight <= 100))
            {
                throw new InvalidSettingException($"fusion.spaceWeights.{name}", $"must be between 0 and 100 (got {weight}).");
            }
            anySpaceWeight |= weight > 0;
        }
        if (LexicalWeight <= 0 && !anySpaceWeight)
        {
            throw new InvalidSettingException("fusion.weights", "lexicalWeight and denseWeight must not both be 0.");
        }
        if (Depth is < 1 or > 10_000)
        {
            throw new InvalidSettingException("fusion.depth", $"must be between 1 and 10000 (got {Depth}).");
        }
    }

    /// <summary>Equal when every field is, space weights compared as sets of (name, weight), names case-insensitively.</summary>
    public bool Equals(FusionOptions? other) =>
        other is not null && Method == other.Method && K.Equals(other.K) && LexicalWeight.Equals(other.LexicalWeight)
        && DenseWeight.Equals(other.DenseWeight) && Depth == other.Depth && SameWeights(SpaceWeights, other.SpaceWeights);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var h = HashCode.Combine(Method, K, LexicalWeight, DenseWeight, Depth);
        foreach (var (name, weight) in SpaceWeights ?? new Dictionary<string, double>())
        {
            h ^= HashCode.Combine(name.ToUpperInvariant(), weight); // order-independent
        }
        return h;
    }

    private static bool SameWeights(IReadOnlyDictionary<string, double>? a, IReadOnlyDictionary<string, double>? b)
    {
        var x = a ?? new Dictionary<string, double>();
        var y = b ?? new Dictionary<string, double>();
        if (x.Count != y.Count)
        {
            return false;
        }
        foreach (var (name, weight) in x)
        {
            if (!y.Any(e => string.Equals(e.Key, name, StringComparison.OrdinalIgnoreCase) && e.Value.Equals(weight)))
            {
                return false;
            }
        }
        return true;
    }
}

/// <summary>A query and how to answer it.</summary>
/// <param name="Query">Free text in the query language: words, <c>"phrases"</c>, <c>+required</c>, <c>-excluded</c> (anything else is plain text).</param>
/// <param name="K">Hits wanted (page size).</param>
/// <param name="Offset">Hits to skip (paging).</param>
/// <param name="Mode">Retrievers to use.</param>
/// <param name="Filter">Metadata conditions, or null.</param>
/// <param name="PerChunk">Return chunks instead of collapsing them to their best chunk per document.</param>
/// <param name="Fusion">Fusion fields for hybrid mode, merged over the index's fusion (<see cref="FusionOverride.Over"/>); null uses the index's as it is.</param>
/// <param name="Spaces">The vector spaces dense and hybrid queries use, by name; null: every space of the index.</param>
public sealed record SearchRequest(
    string Query,
    int K = 10,
    int Offset = 0,
    SearchMode Mode = SearchMode.Lexical,
    SearchFilter? Filter = null,
    bool PerChunk = false,
    FusionOverride? Fusion = null,
    IReadOnlyList<string>? Spaces = null)
{
    /// <summary>
    /// Documents with identical extracted text come back as one hit, the best-ranked, listing the others in
    /// <see cref="SearchHit.AlsoAt"/> (default); false returns each of them as a hit of its own.
    /// </summary>
    public bool CollapseDuplicates { get; init; } = true;

    /// <summary>
    /// Hybrid only: drop candidates that neither BM25 matched nor any vector space scores above its noise ceiling for
    /// the query (see RelevanceFloor; default), so an answer only a few documents hold is not padded to k with the
    /// nearest strangers. False returns every fused candidate, as before the floor.
    /// </summary>
    public bool RelevanceFloor { get; init; } = true;

    /// <summary>Count the hits by file type, top-level folder and source (<see cref="SearchResponse.Facets"/>); off by default.</summary>
    public bool Facets { get; init; }

    /// <summary>
    /// Dense and hybrid: the query's vector, given instead of embedding <see cref="Query"/> (a caller with its own
    /// embedding, a VectorData search by vector). It must have the dimension of the one vector space the query uses, and
    /// is L2-normalised here. Dense mode then needs no query text; hybrid still ranks <see cref="Query"/> by BM25.
    /// </summary>
    public ReadOnlyMemory<float>? QueryVector { get; init; }

    /// <summary>The largest K accepted.</summary>
    public const int MaxK = 1000;

    /// <summary>The longest query accepted, in characters.</summary>
    public const int MaxQueryLength = 20_000;

    /// <summary>The largest offset accepted.</summary>
    public const int MaxOffset = 10_000;

    /// <summary>Throws <see cref="InvalidSettingException"/> naming the bad field.</summary>
    public void Validate()
    {
        if (Query is null)
        {
            throw new InvalidSettingException("query", "is required.");
        }
        if (QueryVector is { } vector)
        {
            if (Mode == SearchMode.Lexical)
            {
                throw new InvalidSettingException("vector", "is for dense and hybrid queries; a lexical query ranks text only.");
            }
            if (vector.Length == 0)
            {
                throw new InvalidSettingException("vector", "is empty.");
            }
            GivenVector.Check(vector.Span);
        }
        if (string.IsNullOrWhiteSpace(Query) && !(QueryVector is not null && Mode == SearchMode.Dense))
        {
            // An empty query would rank nothing lexically and return arbitrary nearest neighbours densely.
            throw new InvalidSettingException("query", "must contain some text.");
        }
        if (K is < 1 or > MaxK)
        {
            throw new InvalidSettingException("k", $"must be between 1 and {MaxK} (got {K}).");
        }
        if (Offset is < 0 or > MaxOffset)
        {
            throw new InvalidSettingException("offset", $"must be between 0 and {MaxOffset} (got {Offset}).");
        }
        if (Query.Length > MaxQueryLength)
        {
            throw new InvalidSettingException("query", $"is {Query.Length:N0} characters; the limit is {MaxQueryLength:N0}.");
        }
        if (Spaces is { Count: 0 })
        {
            throw new InvalidSettingException("spaces", "names no vector space; leave it out to use every space.");
        }
        // Fusion and space names are checked against the index (Searcher): a field is only wrong in the result.
    }
}

/// <summary>Where one retriever placed a hit.</summary>
/// <param name="Rank">1-based rank in that retriever's list.</param>
/// <param name="Score">That retriever's score (BM25, or cosine similarity).</param>
public sealed record RetrieverRank(int Rank, double Score);

/// <summary>One result, with where each retriever placed it (its explanation).</summary>
/// <param name="DocId">The document's id.</param>
/// <param name="ChunkId">The chunk shown (the best one of the document).</param>
/// <param name="Path">The document's path.</param>
/// <param name="Title">The document's title.</param>
/// <param name="Text">The chunk's text.</param>
/// <param name="Snippet">A passage of the chunk around the query's terms.</param>
/// <param name="Score">The fused score (or the one retriever's).</param>
/// <param name="Lexical">BM25's rank and score, or null.</param>
/// <param name="Dense">The first queried vector space's rank and cosine, or null.</param>
/// <param name="Spaces">Every queried vector space that returned the hit, by space name (null on lexical queries).</param>
public sealed record SearchHit(
    string DocId,
    long ChunkId,
    string Path,
    string Title,
    string Text,
    string Snippet,
    double Score,
    RetrieverRank? Lexical,
    RetrieverRank? Dense,
    IReadOnlyDictionary<string, RetrieverRank>? Spaces = null)
{
    /// <summary>
    /// The other documents whose extracted text is this hit's (collapsed into it; see
    /// <see cref="SearchRequest.CollapseDuplicates"/>), in id order; null when it has none or duplicates were not collapsed.
    /// </summary>
    public IReadOnlyList<DuplicateDocument>? AlsoAt { get; init; }

    /// <summary>Where the query's words occur in <see cref="Snippet"/>, as BM25 matches them (stemmed, no stop words).</summary>
    public IReadOnlyList<TextHighlight> SnippetHighlights { get; init; } = [];

    /// <summary>Where the query's words occur in <see cref="Title"/>.</summary>
    public IReadOnlyList<TextHighlight> TitleHighlights { get; init; } = [];

    /// <summary>The document's custom metadata (what an upload or the indexing run gave; empty when none).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; init; } = new Dictionary<string, string>();

    /// <summary>
    /// Where in the document <see cref="Snippet"/> lies: its PDF page, the headings it is under and the anchor that
    /// opens the file there; null for a document without pages or headings, and for a hit on a document's title.
    /// </summary>
    public HitLocation? Location { get; init; }
}

/// <summary>Where a hit lies in its document.</summary>
/// <param name="Page">The page number (from 1) for a PDF, else null; a viewer opens it with the fragment <c>#page=N</c>.</param>
/// <param name="Sections">The headings it lies under, outermost first; empty before the first heading.</param>
/// <param name="Anchor">The fragment of the innermost of them that has one (an HTML id, a Markdown heading slug), else null.</param>
public sealed record HitLocation(int? Page, IReadOnlyList<string> Sections, string? Anchor);

/// <summary>A highlighted span of a hit's text: <paramref name="Start"/> and <paramref name="Length"/> in UTF-16 characters.</summary>
public readonly record struct TextHighlight(int Start, int Length);

/// <summary>How many hits share one value of a facet.</summary>
/// <param name="Value">The file type (".pdf", empty for uploads), top-level folder (empty for documents at the top) or source.</param>
/// <param name="Count">Hits with that value.</param>
public sealed record FacetCount(string Value, long Count);

/// <summary>
/// The hits that <see cref="SearchResponse.Total"/> counts, counted by a field of their document; each list is most
/// frequent first, then by value. A hit of a per-chunk search counts under its document's values.
/// </summary>
/// <param name="FileTypes">By extension (<see cref="SemanticSearch.Metadata.DocumentRecord.FileType"/>).</param>
/// <param name="Folders">By the top-level folder of the document id (its first '/'-separated part; empty for ids without '/'), the value a <c>pathPrefix</c> of <c>folder/</c> selects.</param>
/// <param name="Sources">By <see cref="SemanticSearch.Metadata.DocumentRecord.Source"/>: the indexed folder, or <c>api</c>.</param>
public sealed record SearchFacets(IReadOnlyList<FacetCount> FileTypes, IReadOnlyList<FacetCount> Folders, IReadOnlyList<FacetCount> Sources);

/// <summary>A document collapsed into a hit because its extracted text is the same.</summary>
/// <param name="DocId">Its id.</param>
/// <param name="Path">Its full path, or empty for documents sent over the API.</param>
public sealed record DuplicateDocument(string DocId, string Path);

/// <summary>What the searcher understood of a query's syntax (phrases, <c>+required</c>, <c>-excluded</c>), so none is silently ignored.</summary>
/// <param name="Query">The query the hits answer: the one typed, or <see cref="SearchResponse.DidYouMean"/> when that was searched instead.</param>
/// <param name="Words">The plain words, ranked by BM25 as a bag of words (the whole query when it has no operator).</param>
/// <param name="Required">Phrases (in quotes) and terms every hit holds.</param>
/// <param name="Excluded">Terms and phrases (in quotes) no hit holds, on the lexical and the dense side.</param>
/// <param name="Notes">What was read as plain text or ignored: an unbalanced quote, a lone operator, a phrase of stop words only.</param>
/// <param name="Description">All of it in one line.</param>
public sealed record QueryUnderstanding(
    string Query,
    string Words,
    IReadOnlyList<string> Required,
    IReadOnlyList<string> Excluded,
    IReadOnlyList<string> Notes,
    string Description);

/// <summary>The answer to a <see cref="SearchRequest"/>.</summary>
/// <param name="Hits">The page of results.</param>
/// <param name="Mode">The mode that answered.</param>
/// <param name="TookMs">Time spent, in milliseconds.</param>
/// <param name="Fusion">The fusion settings that ranked a fused result (hybrid, or dense over several spaces; null otherwise).</param>
/// <param name="Spaces">The vector spaces that answered (null on lexical queries).</param>
/// <param name="Understood">How the query's syntax was read.</param>
/// <param name="DidYouMean">
/// The query with its unknown words replaced by the closest words of the index, when BM25 found nothing for the query
/// as typed and does for this one; the hits are then this query's (<see cref="QueryUnderstanding.Query"/> says so).
/// Null when the query as typed has lexical hits, or in dense mode.
/// </param>
public sealed record SearchResponse(IReadOnlyList<SearchHit> Hits, SearchMode Mode, double TookMs, FusionOptions? Fusion = null, IReadOnlyList<string>? Spaces = null,
    QueryUnderstanding? Understood = null, string? DidYouMean = null)
{
    /// <summary>
    /// The number of hits the query has. Lexical: exact (<see cref="TotalExact"/>), every document (per chunk: chunk)
    /// BM25 matches under the query and the filter. Dense and hybrid: a lower bound, the candidates the retrievers
    /// returned (hybrid, or dense over several spaces: up to the fusion depth from each, fused; dense over one space:
    /// the nearest offset + k, deeper when duplicates collapse) that the filter, the query's required and excluded
    /// clauses and the relevance floor kept. Duplicates (<see cref="SearchRequest.CollapseDuplicates"/>) are counted
    /// each, as the documents they are: collapsing shapes the page, not the count.
    /// </summary>
    public long Total { get; init; }

    /// <summary>True when <see cref="Total"/> is the exact count (lexical), false when it is a lower bound (dense, hybrid).</summary>
    public bool TotalExact { get; init; }

    /// <summary>The hits <see cref="Total"/> counts, by file type, folder and source; null unless <see cref="SearchRequest.Facets"/> asked.</summary>
    public SearchFacets? Facets { get; init; }
}
