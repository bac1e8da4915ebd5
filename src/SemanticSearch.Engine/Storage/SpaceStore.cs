using SemanticSearch.Core;
using SemanticSearch.Core.Encoding;
using SemanticSearch.Engine.Indexing;
using SemanticSearch.VectorIndex;

namespace SemanticSearch.Engine.Storage;

/// <summary>
/// One vector space of an opened index: what its manifest records (updated at each commit), its passage policy, its
/// graph and, when the index was opened with it, its model.
/// </summary>
internal sealed class SpaceStore
{
    public SpaceStore(SpaceManifest manifest, PassagePolicy policy, IVectorIndex? vectors, ITextEncoder? encoder, CorruptDataException? damage)
    {
        Manifest = manifest;
        Policy = policy;
        Vectors = vectors;
        Encoder = encoder;
        Damage = damage;
    }

    /// <summary>The space as of the last commit (its file and counts are brought up to date by each commit).</summary>
    public SpaceManifest Manifest { get; set; }

    public string Name => Manifest.Name;

    /// <summary>What is embedded for a chunk in this space, and under which vector ids.</summary>
    public PassagePolicy Policy { get; }

    /// <summary>The graph; replaced by compaction, a repair's rebuild, or an abort's reload; null when a reader found it damaged.</summary>
    public IVectorIndex? Vectors { get; set; }

    /// <summary>The space's model, or null when the index was opened without it.</summary>
    public ITextEncoder? Encoder { get; }

    /// <summary>Why a read-only open has no graph for this space: its vector file is damaged.</summary>
    public CorruptDataException? Damage { get; }

    /// <summary>An empty graph with this space's dimensions and parameters.</summary>
    public HnswIndex NewGraph() => new(Manifest.Model.Dimensions, Manifest.Vectors);
}
