using Microsoft.Extensions.AI;
using SemanticSearch.Core.Encoding;
using SemanticSearch.Engine.Models;

namespace SemanticSearch.VectorData;

/// <summary>
/// An engine encoder (a built-in model, an ONNX directory) as an <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/>:
/// texts embedded in one <see cref="Role"/> (E5-style models prefix queries and passages differently, so a generator
/// is one or the other), vectors L2-normalised.
/// </summary>
public sealed class SemanticSearchEmbeddingGenerator : IEmbeddingGenerator<string, Embedding<float>>
{
    private readonly ITextEncoder _encoder;
    private readonly bool _owned;
    private readonly EmbeddingGeneratorMetadata _metadata;

    /// <summary>Wraps <paramref name="encoder"/> (not disposed with this generator unless <paramref name="ownsEncoder"/>).</summary>
    public SemanticSearchEmbeddingGenerator(ITextEncoder encoder, TextRole role = TextRole.Query, bool ownsEncoder = false)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        _encoder = encoder;
        _owned = ownsEncoder;
        Role = role;
        _metadata = new EmbeddingGeneratorMetadata("SemanticSearch", null, encoder.Info.ModelId, encoder.Info.Dimensions);
    }

    /// <summary>
    /// Opens <paramref name="model"/> (a model id of the catalog, a model directory, or null for the engine's default
    /// model) through <paramref name="models"/> (default: the user's model cache and sources).
    /// </summary>
    public static SemanticSearchEmbeddingGenerator Open(string? model, TextRole role = TextRole.Query, ModelResolver? models = null)
    {
        var encoder = (models ?? new ModelResolver()).Open(model)
            ?? throw new SemanticSearch.Core.InvalidSettingException("model", $"'{model}' names no embedding model.");
        return new SemanticSearchEmbeddingGenerator(encoder, role, ownsEncoder: true);
    }

    /// <summary>Whether texts are embedded as queries or as passages.</summary>
    public TextRole Role { get; }

    /// <summary>The engine encoder behind this generator.</summary>
    public ITextEncoder Encoder => _encoder;

    /// <inheritdoc />
    public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(values);
        cancellationToken.ThrowIfCancellationRequested();
        var texts = values as IReadOnlyList<string> ?? values.ToList();
        var dims = _encoder.Info.Dimensions;
        if (options?.Dimensions is { } asked && asked != dims)
        {
            throw new NotSupportedException($"{_encoder.Info.ModelId} embeds in {dims} dimensions; {asked} were asked for.");
        }
        var block = new float[texts.Count * dims];
        _encoder.Encode(texts, Role, block);
        var created = DateTimeOffset.UtcNow;
        var result = new GeneratedEmbeddings<Embedding<float>>(texts.Count);
        for (var i = 0; i < texts.Count; i++)
        {
            result.Add(new Embedding<float>(block.AsMemory(i * dims, dims)) { ModelId = _encoder.Info.ModelId, CreatedAt = created });
        }
        return Task.FromResult(result);
    }

    /// <inheritdoc />
    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        return serviceKey is not null ? null
            : serviceType == typeof(EmbeddingGeneratorMetadata) ? _metadata
            : serviceType.IsInstanceOfType(this) ? this
            : serviceType.IsInstanceOfType(_encoder) ? _encoder
            : null;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_owned)
        {
            _encoder.Dispose();
        }
    }
}
