using SemanticSearch.Core.Encoding;
using SemanticSearch.Embeddings.Profiles;
using SemanticSearch.Embeddings.Tokenization;
using SemanticSearch.Models;
using Xunit;

namespace SemanticSearch.Embeddings.Tests;

/// <summary>The token-counter contract for BERT WordPiece over the real bert-base-uncased vocabulary.</summary>
public sealed class WordPieceTokenizerContractTests : ModelTokenizerContract
{
    private static readonly Lazy<WordPieceTokenizer> Shared = new(() => WordPieceTokenizer.FromVocabFile(TestPaths.VocabTxt));

    protected override IModelTokenizer Tokenizer => Shared.Value;
}

/// <summary>The text-encoder contract for the ONNX encoder over the seeded test BERT, with E5-style prefixes.</summary>
public sealed class OnnxTextEncoderContractTests(TestModelFixture model) : TextEncoderContract, IClassFixture<TestModelFixture>, IDisposable
{
    private readonly OnnxTextEncoder _encoder = Open(model, "query: ", "passage: ");

    protected override ITextEncoder Encoder => _encoder;

    protected override ITextEncoder? WithPrefixes(string queryPrefix, string passagePrefix) => Open(model, queryPrefix, passagePrefix);

    public void Dispose() => _encoder.Dispose();

    private static OnnxTextEncoder Open(TestModelFixture model, string queryPrefix, string passagePrefix) =>
        OnnxTextEncoder.Open(model.Directory, new ModelProfile
        {
            Id = "test-bert",
            Dimensions = model.Files.Dimensions,
            Pooling = PoolingMode.Mean,
            QueryPrefix = queryPrefix,
            PassagePrefix = passagePrefix,
            MaxTokens = 512,
        });
}
