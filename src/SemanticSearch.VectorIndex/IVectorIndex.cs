namespace SemanticSearch.VectorIndex;

/// <summary>One search result: an external id and its inner product with the query (higher is more similar).</summary>
public readonly record struct VectorHit(long Id, float Score);

/// <summary>
/// The vector index contract shared by <see cref="FlatVectorIndex"/> (exact) and <see cref="HnswIndex"/> (approximate).
/// Vectors are expected to be L2-normalised by the caller, so the inner product is the cosine similarity.
/// External ids are the caller's <c>long</c> ids (the engine's chunk ids).
/// </summary>
/// <remarks>
/// Adding an id that is already present replaces it: the old vector is marked deleted and the new one added, so
/// <see cref="Count"/> is unchanged and <see cref="DeletedCount"/> grows by one until the index is compacted.
/// All members are safe to call from several threads at once; searches run concurrently with inserts.
/// </remarks>
public interface IVectorIndex
{
    /// <summary>The length of every vector in the index.</summary>
    int Dimensions { get; }

    /// <summary>The number of live (not deleted) ids.</summary>
    int Count { get; }

    /// <summary>The number of stored vectors that are marked deleted (or replaced) and still occupy space.</summary>
    int DeletedCount { get; }

    /// <summary>Adds (or replaces) one vector.</summary>
    /// <exception cref="SemanticSearch.Core.InvalidSettingException">The vector has the wrong length or holds NaN/infinity.</exception>
    void Add(long id, ReadOnlySpan<float> vector);

    /// <summary>Adds (or replaces) many vectors, given row-major in <paramref name="vectors"/>, using up to
    /// <paramref name="degreeOfParallelism"/> threads.</summary>
    void AddMany(IReadOnlyList<long> ids, ReadOnlySpan<float> vectors, int degreeOfParallelism);

    /// <summary>Marks an id deleted. Returns false when the id is not present.</summary>
    bool MarkDeleted(long id);

    /// <summary>Whether the id is present and not deleted.</summary>
    bool Contains(long id);

    /// <summary>
    /// The <paramref name="k"/> ids most similar to <paramref name="query"/>, best first. <paramref name="ef"/> is the
    /// search breadth (0 = the index default; never below k). When <paramref name="filter"/> is given only ids for
    /// which it returns true are returned, and fewer than k come back only when fewer than k such live ids exist.
    /// </summary>
    IReadOnlyList<VectorHit> Search(ReadOnlySpan<float> query, int k, int ef = 0, Func<long, bool>? filter = null);

    /// <summary>
    /// The inner products of <paramref name="query"/> with up to <c>scores.Length</c> live vectors spread evenly over
    /// the index's slots — the same vectors for every query while the index is unchanged, all of them when the index
    /// holds no more — written to <paramref name="scores"/>; returns how many were written. A query's scores against
    /// documents picked without regard to it: the background its real neighbours must stand out from.
    /// </summary>
    int SampleScores(ReadOnlySpan<float> query, Span<float> scores);

    /// <summary>Returns a new index with the live vectors only (deleted ones dropped).</summary>
    IVectorIndex Compact();

    /// <summary>Writes the index to one file (temp file, fsync, rename).</summary>
    void Save(string path);
}
