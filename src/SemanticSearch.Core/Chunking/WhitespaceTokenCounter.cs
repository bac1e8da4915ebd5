namespace SemanticSearch.Core.Chunking;

/// <summary>
/// Counts whitespace-separated words. The stand-in token counter for lexical-only indexes, where no model tokenizer
/// exists; it is additive across whitespace by construction.
/// </summary>
public sealed class WhitespaceTokenCounter : ITokenCounter
{
    /// <summary>The shared instance (stateless).</summary>
    public static WhitespaceTokenCounter Instance { get; } = new();

    /// <inheritdoc />
    public int CountTokens(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var count = 0;
        var inWord = false;
        foreach (var c in text)
        {
            if (char.IsWhiteSpace(c))
            {
                inWord = false;
            }
            else if (!inWord)
            {
                inWord = true;
                count++;
            }
        }
        return count;
    }
}
