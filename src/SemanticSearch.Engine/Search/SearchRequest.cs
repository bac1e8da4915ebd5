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

/// <summary>A query and how to answer it.</summary>
/// <param name="Query">Free text.</param>
/// <param name="K">Hits wanted (page size).</param>
/// <param name="Offset">Hits to skip (paging).</param>
/// <param name="Mode">Retrievers to use.</param>
/// <param name="Filter">Metadata conditions, or null.</param>
/// <param name="PerChunk">Return chunks instead of collapsing them to their best chunk per document.</param>
public sealed record SearchRequest(
    string Query,
    int K = 10,
    int Offset = 0,
    SearchMode Mode = SearchMode.Lexical,
    SearchFilter? Filter = null,
    bool PerChunk = false)
{
    /// <summary>The largest K accepted.</summary>
    public const int MaxK = 1000;

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
public sealed record SearchResponse(IReadOnlyList<SearchHit> Hits, SearchMode Mode, double TookMs);
