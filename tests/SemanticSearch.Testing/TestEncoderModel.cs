using SemanticSearch.Onnx.Bert;

namespace SemanticSearch.Testing;

/// <summary>The files of a ready-to-load encoder model directory.</summary>
/// <param name="Directory">The model directory.</param>
/// <param name="ModelPath">model.onnx (inputs input_ids/attention_mask/token_type_ids; outputs last_hidden_state, sentence_embedding).</param>
/// <param name="VocabPath">vocab.txt (WordPiece, one token a line).</param>
/// <param name="ConfigPath">config.json.</param>
/// <param name="Dimensions">Embedding dimension (hidden size).</param>
/// <param name="MaxTokens">Longest input in tokens.</param>
public sealed record EncoderModelFiles(string Directory, string ModelPath, string VocabPath, string ConfigPath, int Dimensions, int MaxTokens);

/// <summary>
/// A small seeded BERT encoder for tests and benchmarks in any project: it is written as a checkpoint and converted
/// by <see cref="BertOnnxConverter"/>, the same path a downloaded model takes.
/// </summary>
public static class TestEncoderModel
{
    /// <summary>The seed <see cref="Create"/> uses unless told otherwise.</summary>
    public const int DefaultSeed = 20240523;

    /// <summary>
    /// Writes config.json + model.safetensors (hidden 32, 2 layers, 4 heads, 512 positions, vocabulary size taken
    /// from <paramref name="vocabTxtPath"/>), copies vocab.txt beside them and converts to model.onnx with mean
    /// pooling and L2 normalisation (overwriting earlier files).
    /// </summary>
    /// <param name="dir">Target directory (created).</param>
    /// <param name="vocabTxtPath">A WordPiece vocab.txt, e.g. /work/shared/models/tokenizers/bert-base-uncased-vocab.txt.</param>
    /// <param name="seed">Weight seed.</param>
    /// <param name="hidden">Hidden size (embedding dimension).</param>
    /// <param name="options">Export options; default mean pooling + L2 norm.</param>
    public static EncoderModelFiles Create(string dir, string vocabTxtPath, int seed = DefaultSeed, int hidden = 32, BertExportOptions? options = null)
    {
        if (!File.Exists(vocabTxtPath)) throw new SemanticSearch.Core.NotFoundException($"{vocabTxtPath}: vocabulary not found.");
        Directory.CreateDirectory(dir);
        int vocabSize = File.ReadLines(vocabTxtPath).Count();
        // A spread of 0.1 (rather than BERT's 0.02 initialiser) lets attention and the feed-forward layers visibly
        // change the token vectors, so different texts give clearly different sentence vectors.
        var config = SeededBertCheckpoint.Write(dir, seed, vocabSize, hidden, layers: 2, heads: 4, intermediate: hidden * 2,
            maxPositions: 512, weightStd: 0.1f, layerNormNoise: 0f);
        var vocabPath = Path.Combine(dir, "vocab.txt");
        if (!string.Equals(Path.GetFullPath(vocabPath), Path.GetFullPath(vocabTxtPath), StringComparison.Ordinal))
            File.Copy(vocabTxtPath, vocabPath, overwrite: true);
        var modelPath = Path.Combine(dir, "model.onnx");
        BertOnnxConverter.ConvertToFile(dir, modelPath, options ?? BertExportOptions.Default);
        return new EncoderModelFiles(dir, modelPath, vocabPath, Path.Combine(dir, "config.json"), config.HiddenSize, config.MaxPositionEmbeddings);
    }
}
