using SemanticSearch.Core.Chunking;
using SemanticSearch.Core.Encoding;

namespace SemanticSearch.Engine.Indexing;

/// <summary>
/// The vectors <see cref="SemanticIndex.Embed"/> computed for one list of chunked documents, waiting to be written
/// with that list.
/// </summary>
public sealed class EmbeddedPassages
{
    internal EmbeddedPassages(IReadOnlyList<(SourceDocument Document, IReadOnlyList<TextChunk> Chunks)> documents, EncoderInfo model, float[] vectors)
    {
        Documents = documents;
        Model = model;
        Vectors = vectors;
    }

    /// <summary>Passages embedded (rows of <see cref="Vectors"/>).</summary>
    public int Count => Vectors.Length / Model.Dimensions;

    internal IReadOnlyList<(SourceDocument Document, IReadOnlyList<TextChunk> Chunks)> Documents { get; }

    internal EncoderInfo Model { get; }

    internal float[] Vectors { get; }
}
