namespace SemanticSearch.Core.Chunking;

/// <summary>
/// Counts the tokens a model would see for a piece of text, without special tokens or prefixes.
/// Implementations must be thread-safe and additive across whitespace, to within one token: the count of "a b" is
/// the count of "a" plus the count of "b" (exactly, for WordPiece and whitespace words), or one less where a tokenizer
/// merges a run of unknown pieces across the join (use-lite's SentencePiece does, as its reference does). Chunks split
/// at word boundaries, so a chunk's counted size is exact or one token over what the model sees, never under.
/// </summary>
public interface ITokenCounter
{
    /// <summary>The number of tokens in <paramref name="text"/>, special tokens excluded.</summary>
    int CountTokens(string text);
}
