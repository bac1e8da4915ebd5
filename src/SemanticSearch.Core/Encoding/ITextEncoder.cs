using SemanticSearch.Core.Chunking;

namespace SemanticSearch.Core.Encoding;

/// <summary>Whether a text is embedded as a search query or as an indexed passage (they get different prefixes).</summary>
public enum TextRole
{
    Query,
    Passage,
}

/// <summary>What an index must record about the model that embedded it, and what a reader must match.</summary>
/// <param name="ModelId">Profile id, e.g. <c>e5-small-v2</c> or <c>use-lite</c>.</param>
/// <param name="Revision">Source revision or content hash of the weights.</param>
/// <param name="Dimensions">Length of every output vector.</param>
/// <param name="Pooling">Pooling over token states (<c>mean</c>, <c>cls</c>, or <c>graph</c> when the graph pools).</param>
/// <param name="QueryPrefix">Prepended to every query before tokenisation.</param>
/// <param name="PassagePrefix">Prepended to every passage before tokenisation.</param>
/// <param name="MaxTokens">The most tokens the model accepts, special tokens and prefix included.</param>
public sealed record EncoderInfo(
    string ModelId,
    string Revision,
    int Dimensions,
    string Pooling,
    string QueryPrefix,
    string PassagePrefix,
    int MaxTokens);

/// <summary>
/// A sentence encoder: text in, one L2-normalised vector per text out. Thread-safe; one instance per model is
/// shared by every caller.
/// </summary>
public interface ITextEncoder : IDisposable
{
    /// <summary>The model behind this encoder.</summary>
    EncoderInfo Info { get; }

    /// <summary>Counts tokens exactly as this encoder's tokenizer does (no prefix, no special tokens).</summary>
    ITokenCounter TokenCounter { get; }

    /// <summary>Tokens a passage costs beyond its own text: the passage prefix plus the special tokens.</summary>
    int PassageOverheadTokens { get; }

    /// <summary>
    /// Embeds <paramref name="texts"/> (the role's prefix is applied here) into <paramref name="output"/>, row-major
    /// <c>[texts.Count, Info.Dimensions]</c>, each row L2-normalised.
    /// </summary>
    void Encode(IReadOnlyList<string> texts, TextRole role, Span<float> output);
}
