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
/// <param name="PathPrefix">Full path of the document starts with this.</param>
/// <param name="FileTypes">Extension is one of these (".pdf").</param>
/// <param name="ModifiedAfterUtc">Modified strictly after this instant.</param>
/// <param name="Metadata">Every key has exactly this value in the custom metadata.</param>
public sealed record SearchFilter(
    string? PathPrefix = null,
    IReadOnlyList<string>? FileTypes = null,
    DateTime? ModifiedAfterUtc = null,
    IReadOnlyDictionary<string, string>? Metadata = null);

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
/// responses and requests alike.
/// </summary>
/// <param name="Method">RRF or convex combination.</param>
/// <param name="K">RRF's rank constant.</param>
/// <param name="LexicalWeight">Weight of the BM25 ranking.</param>
/// <param name="DenseWeight">Weight of the vector ranking.</param>
/// <param name="Depth">Candidates taken from each retriever; null means max(100, 10·(offset + k)).</param>
public sealed record FusionOptions(FusionMethod Method = FusionMethod.Rrf, double K = 60, double LexicalWeight = 1, double DenseWeight = 1, int? Depth = null)
{
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
        if (LexicalWeight + DenseWeight <= 0)
        {
            throw new InvalidSettingException("fusion.weights", "lexicalWeight and denseWeight must not both be 0.");
        }
        if (Depth is < 1 or > 10_000)
        {
            throw new InvalidSettingException("fusion.depth", $"must be between 1 and 10000 (got {Depth}).");
        }
    }
}

/// <summary>A query and how to answer it.</summary>
/// <param name="Query">Free text.</param>
/// <param name="K">Hits wanted (page size).</param>
/// <param name="Offset">Hits to skip (paging).</param>
/// <param name="Mode">Retrievers to use.</param>
/// <param name="Filter">Metadata conditions, or null.</param>
/// <param name="PerChunk">Return chunks instead of collapsing them to their best chunk per document.</param>
/// <param name="Fusion">Fusion fields for hybrid mode, merged over the index's fusion (<see cref="FusionOverride.Over"/>); null uses the index's as it is.</param>
public sealed record SearchRequest(
    string Query,
    int K = 10,
    int Offset = 0,
    SearchMode Mode = SearchMode.Lexical,
    SearchFilter? Filter = null,
    bool PerChunk = false,
    FusionOverride? Fusion = null)
{
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
        // Fusion is checked where it is merged over the index's (Searcher): a field is only wrong in the result.
    }
}

/// <summary>Where one retriever placed a hit.</summary>
/// <param name="Rank">1-based rank in that retriever's list.</param>
/// <param name="Score">That retriever's score (BM25, or cosine similarity).</param>
public sealed record RetrieverRank(int Rank, double Score);

/// <summary>One result.</summary>
public sealed record SearchHit(
    string DocId,
    long ChunkId,
    string Path,
    string Title,
    string Text,
    string Snippet,
    double Score,
    RetrieverRank? Lexical,
    RetrieverRank? Dense);

/// <summary>The answer to a <see cref="SearchRequest"/>.</summary>
/// <param name="Hits">The page of results.</param>
/// <param name="Mode">The mode that answered.</param>
/// <param name="TookMs">Time spent, in milliseconds.</param>
/// <param name="Fusion">The fusion settings that ranked a hybrid result (null otherwise).</param>
public sealed record SearchResponse(IReadOnlyList<SearchHit> Hits, SearchMode Mode, double TookMs, FusionOptions? Fusion = null);
