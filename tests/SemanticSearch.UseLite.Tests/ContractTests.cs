using SemanticSearch.Core.Encoding;
using SemanticSearch.Models;

namespace SemanticSearch.UseLite.Tests;

/// <summary>The token-counter contract for use-lite's SentencePiece unigram tokenizer, over the pulled vocabulary.</summary>
[Collection(PulledModelCollection.Name)]
public sealed class SentencePieceTokenizerContractTests(PulledModelFixture model) : ModelTokenizerContract
{
    protected override IModelTokenizer Tokenizer { get; } = SentencePieceUnigramTokenizer.Load(Path.Combine(model.ModelDirectory, UseLiteModel.VocabFile));

    protected override bool WhitespaceOnlySeparates => false;

    protected override int JoinSlack => 1;

    protected override bool FirstWordResegments => true;
}

/// <summary>The text-encoder contract for the use-lite encoder as new indexes open it (lower-casing on).</summary>
[Collection(PulledModelCollection.Name)]
public sealed class UseLiteEncoderContractTests(PulledModelFixture model) : TextEncoderContract, IDisposable
{
    private readonly ITextEncoder _encoder = UseLiteModel.OpenEncoder(model.ModelDirectory);

    protected override ITextEncoder Encoder => _encoder;

    public void Dispose() => _encoder.Dispose();
}
