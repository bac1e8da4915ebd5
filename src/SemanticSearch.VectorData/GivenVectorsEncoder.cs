using SemanticSearch.Core;
using SemanticSearch.Core.Chunking;
using SemanticSearch.Core.Encoding;

namespace SemanticSearch.VectorData;

/// <summary>
/// The "model" of a collection whose records bring their own vectors and that has no model to embed text with: it
/// records the dimension in the manifest and refuses to embed, so a text search says what is missing instead of
/// ranking by a model that never saw the records.
/// </summary>
internal sealed class GivenVectorsEncoder(int dimensions) : ITextEncoder
{
    public const string ModelId = "given-vectors";

    public EncoderInfo Info { get; } = new(ModelId, "1", dimensions, "given", string.Empty, string.Empty, 512);

    public ITokenCounter TokenCounter => WhitespaceTokenCounter.Instance;

    public int PassageOverheadTokens => 0;

    public void Encode(IReadOnlyList<string> texts, TextRole role, Span<float> output) =>
        throw new InvalidSettingException("embeddingGenerator",
            "this collection's records bring their own vectors and it has no model to embed text with; search it with a vector, or configure an EmbeddingGenerator (or a model of the same dimension) for it.");

    public void Dispose()
    {
    }
}
