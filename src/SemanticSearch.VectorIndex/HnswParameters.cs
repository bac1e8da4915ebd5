using SemanticSearch.Core;

namespace SemanticSearch.VectorIndex;

/// <summary>How the graph walk scores vectors.</summary>
public enum VectorCodec
{
    /// <summary>Every score uses the full-precision vectors.</summary>
    Float32 = 0,

    /// <summary>
    /// The walk scores int8 codes (one scale per vector, derived from the stored floats, so files keep full precision)
    /// and the candidates it returns are rescored exactly: a quarter of the memory traffic per visited node.
    /// </summary>
    Int8 = 1,
}

/// <summary>
/// HNSW build and search parameters (Malkov &amp; Yashunin). <paramref name="M"/> links per node on the upper layers and
/// 2M on layer 0; level multiplier 1/ln M; <paramref name="EfConstruction"/> is the candidate list size while
/// inserting; <paramref name="EfSearch"/> the default search breadth; <paramref name="Seed"/> fixes the level draw.
/// </summary>
public sealed record HnswParameters(int M = 16, int EfConstruction = 200, int EfSearch = 512, ulong Seed = 42)
{
    /// <summary>
    /// The defaults: M=16, efConstruction=200, efSearch=512, int8 walk with exact rescoring. The breadth is wide because
    /// the int8 walk makes it cheap (about 1.3 ms at 100k 384-d vectors, faster than hnswlib's float walk at the same
    /// breadth and recall) and because hard, unclustered data needs it: on the scale benchmark's 100k set recall@10 is
    /// 0.78 at 64 and 0.945 at 512, for hnswlib on the same vectors 0.79 and 0.94 (docs/benchmarks.md, issue #20).
    /// </summary>
    public static HnswParameters Default { get; } = new();

    /// <summary>
    /// How searches score vectors while walking the graph (building always uses full precision). Not part of the file:
    /// an index written with either opens with either.
    /// </summary>
    public VectorCodec Codec { get; init; } = VectorCodec.Int8;

    /// <summary>Maximum links per node on layer 0.</summary>
    public int MaxLinksLayer0 => 2 * M;

    /// <summary>Level multiplier mL = 1/ln M.</summary>
    public double LevelMultiplier => 1.0 / Math.Log(M);

    /// <summary>Throws <see cref="InvalidSettingException"/> naming the first parameter that is out of range.</summary>
    public void Validate()
    {
        if (M is < 2 or > 256)
            throw new InvalidSettingException("hnsw.m", $"must be between 2 and 256, was {M}");
        if (EfConstruction is < 1 or > 100_000)
            throw new InvalidSettingException("hnsw.efConstruction", $"must be between 1 and 100000, was {EfConstruction}");
        if (EfSearch is < 1 or > 100_000)
            throw new InvalidSettingException("hnsw.efSearch", $"must be between 1 and 100000, was {EfSearch}");
    }
}
