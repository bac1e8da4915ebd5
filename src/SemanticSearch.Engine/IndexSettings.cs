using SemanticSearch.Core;
using SemanticSearch.Core.Chunking;
using SemanticSearch.Lexical;
using SemanticSearch.VectorIndex;

namespace SemanticSearch.Engine;

/// <summary>Settings an index is created with; they are recorded in its manifest and validated up front.</summary>
public sealed record IndexSettings
{
    /// <summary>Chunk sizes. Without a model, tokens are whitespace-separated words.</summary>
    public ChunkingOptions Chunking { get; init; } = new(MaxTokens: 512, OverlapTokens: 64);

    /// <summary>BM25 parameters and analysis.</summary>
    public LexicalOptions Lexical { get; init; } = new();

    /// <summary>HNSW parameters for the vector index (indexes with a model only).</summary>
    public HnswParameters Vectors { get; init; } = new();

    /// <summary>
    /// Embed each chunk as windows of at most this many model tokens (prefix and special tokens excluded); null: only
    /// for a short-context model, at its full length. For experiments with how much text one vector should hold.
    /// </summary>
    public int? WindowTokens { get; init; }

    /// <summary>Default fusion recorded in a new index's manifest; null takes the model profile's (<see cref="Search.FusionDefaults"/>).</summary>
    public Search.FusionOptions? Fusion { get; init; }

    /// <summary>Compact the vector index when more than this share of its nodes are deleted.</summary>
    public double CompactDeletedFraction { get; init; } = 0.2;

    /// <summary>Files larger than this are skipped with a reason (default 50 MB).</summary>
    public long MaxFileBytes { get; init; } = 50L * 1024 * 1024;

    /// <summary>Commit after this many written documents...</summary>
    public int CommitEveryDocuments { get; init; } = 1000;

    /// <summary>...or after this much time, whichever comes first.</summary>
    public TimeSpan CommitInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Throws <see cref="InvalidSettingException"/> naming the first bad setting.</summary>
    public void Validate()
    {
        Chunking.Validate();
        Lexical.Validate();
        Fusion?.Validate();
        if (WindowTokens is < 8)
        {
            throw new InvalidSettingException("windowTokens", $"must be at least 8 (got {WindowTokens}).");
        }
        if (CompactDeletedFraction is <= 0 or > 1)
        {
            throw new InvalidSettingException("compactDeletedFraction", $"must be in (0, 1] (got {CompactDeletedFraction}).");
        }
        if (MaxFileBytes <= 0)
        {
            throw new InvalidSettingException("maxFileBytes", $"must be positive (got {MaxFileBytes}).");
        }
        if (CommitEveryDocuments <= 0)
        {
            throw new InvalidSettingException("commitEveryDocuments", $"must be positive (got {CommitEveryDocuments}).");
        }
        if (CommitInterval <= TimeSpan.Zero)
        {
            throw new InvalidSettingException("commitInterval", "must be positive.");
        }
    }
}
