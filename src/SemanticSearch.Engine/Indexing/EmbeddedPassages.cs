using SemanticSearch.Core.Chunking;
using SemanticSearch.Core.Encoding;

namespace SemanticSearch.Engine.Indexing;

/// <summary>
/// The vectors <see cref="SemanticIndex.Embed"/> computed for one list of chunked documents, waiting to be written
/// with that list: one block per vector space of the index, in its order.
/// </summary>
public sealed class EmbeddedPassages
{
    internal EmbeddedPassages(IReadOnlyList<(SourceDocument Document, IReadOnlyList<TextChunk> Chunks)> documents, IReadOnlyList<EncoderInfo> models, float[][] vectors)
    {
        Documents = documents;
        Models = models;
        Vectors = vectors;
    }

    /// <summary>Passages embedded (rows of every space's block).</summary>
    public int Count => Models.Count == 0 ? 0 : Vectors.Select((v, i) => v.Length / Models[i].Dimensions).Sum();

    internal IReadOnlyList<(SourceDocument Document, IReadOnlyList<TextChunk> Chunks)> Documents { get; }

    internal IReadOnlyList<EncoderInfo> Models { get; }

    internal float[][] Vectors { get; }
}
