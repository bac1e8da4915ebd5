using SemanticSearch.Core.Chunking;

namespace SemanticSearch.Tests.Chunking;

/// <summary>The token-counter contract for the lexical-only stand-in counter.</summary>
public sealed class WhitespaceTokenCounterContractTests : TokenCounterContract
{
    protected override ITokenCounter Counter => WhitespaceTokenCounter.Instance;
}
