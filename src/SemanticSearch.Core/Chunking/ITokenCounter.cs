namespace SemanticSearch.Core.Chunking;

/// <summary>
/// Counts the tokens a model would see for a piece of text, without special tokens or prefixes.
/// Implementations must be thread-safe and additive across whitespace: the count of "a b" equals the count of
/// "a" plus the count of "b" (true of WordPiece and SentencePiece at word boundaries, which is where chunks split).
/// </summary>
public interface ITokenCounter
{
    /// <summary>The number of tokens in <paramref name="text"/>, special tokens excluded.</summary>
    int CountTokens(string text);
}
