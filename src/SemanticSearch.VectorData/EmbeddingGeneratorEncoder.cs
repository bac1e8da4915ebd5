// Any IEmbeddingGenerator<string, Embedding<float>> as the engine's ITextEncoder, so an index (a collection, a folder
// index built in code) can be embedded by a model the engine does not ship: its id and dimension go into the manifest
// like a built-in model's, and an index built with it refuses to open with another.
using Microsoft.Extensions.AI;
using SemanticSearch.Core;
using SemanticSearch.Core.Chunking;
using SemanticSearch.Core.Encoding;

namespace SemanticSearch.VectorData;

/// <summary>
/// An <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/> seen as an engine encoder: texts are sent to it as they
/// are (no prefix), its vectors L2-normalised. Its model id is <c>generator:&lt;provider&gt;/&lt;model&gt;</c> from the
/// generator's metadata; tokens are counted as whitespace-separated words (the generator's tokenizer is not known).
/// </summary>
public sealed class EmbeddingGeneratorEncoder : ITextEncoder
{
    /// <summary>The prefix of the model id recorded for a generator.</summary>
    public const string ModelIdPrefix = "generator:";

    private readonly IEmbeddingGenerator<string, Embedding<float>> _generator;

    /// <summary>
    /// Wraps <paramref name="generator"/>. <paramref name="dimensions"/> is its vector size when its metadata does not
    /// say (null: asked for by embedding one probe text); <paramref name="modelId"/> overrides the id taken from its metadata.
    /// </summary>
    public EmbeddingGeneratorEncoder(IEmbeddingGenerator<string, Embedding<float>> generator, int? dimensions = null, string? modelId = null)
    {
        ArgumentNullException.ThrowIfNull(generator);
        _generator = generator;
        var metadata = generator.GetService<EmbeddingGeneratorMetadata>();
        var id = modelId ?? ModelIdPrefix + (metadata?.ProviderName ?? "unknown") + "/" + (metadata?.DefaultModelId ?? "default");
        var dims = dimensions ?? metadata?.DefaultModelDimensions ?? Probe(generator);
        if (dims <= 0)
        {
            throw new InvalidSettingException("embeddingGenerator", $"{id} reports {dims} dimensions.");
        }
        Info = new EncoderInfo(id, "1", dims, "generator", string.Empty, string.Empty, 512);
    }

    /// <inheritdoc />
    public EncoderInfo Info { get; }

    /// <inheritdoc />
    public ITokenCounter TokenCounter => WhitespaceTokenCounter.Instance;

    /// <inheritdoc />
    public int PassageOverheadTokens => 0;

    /// <inheritdoc />
    public void Encode(IReadOnlyList<string> texts, TextRole role, Span<float> output)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var dims = Info.Dimensions;
        if (output.Length != texts.Count * dims)
        {
            throw new ArgumentException($"output holds {output.Length} floats; {texts.Count} texts of {dims} need {texts.Count * dims}", nameof(output));
        }
        if (texts.Count == 0)
        {
            return;
        }
        // The engine's write path is synchronous; a generator is awaited here (no synchronisation context is captured).
        var embeddings = Task.Run(() => _generator.GenerateAsync(texts)).GetAwaiter().GetResult();
        if (embeddings.Count != texts.Count)
        {
            throw new InvalidSettingException("embeddingGenerator", $"{Info.ModelId} returned {embeddings.Count} embeddings for {texts.Count} texts.");
        }
        for (var i = 0; i < embeddings.Count; i++)
        {
            var v = embeddings[i].Vector.Span;
            if (v.Length != dims)
            {
                throw new InvalidSettingException("embeddingGenerator", $"{Info.ModelId} returned a vector of {v.Length} dimensions; the index records {dims}.");
            }
            var row = output.Slice(i * dims, dims);
            v.CopyTo(row);
            var norm = MathF.Sqrt(System.Numerics.Tensors.TensorPrimitives.Dot<float>(row, row));
            if (norm > 0 && float.IsFinite(norm))
            {
                System.Numerics.Tensors.TensorPrimitives.Divide(row, norm, row);
            }
        }
    }

    private static int Probe(IEmbeddingGenerator<string, Embedding<float>> generator) =>
        Task.Run(() => generator.GenerateAsync(["dimension probe"])).GetAwaiter().GetResult()[0].Vector.Length;

    /// <summary>The generator is the caller's; it is not disposed here.</summary>
    public void Dispose()
    {
    }
}
