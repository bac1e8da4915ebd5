namespace SemanticSearch.Core.Chunking;

/// <summary>A span of a source text that is indexed and embedded as one unit.</summary>
/// <param name="Ordinal">Position of the chunk within its document, from 0.</param>
/// <param name="Start">Offset of the first character in the source text.</param>
/// <param name="Length">Number of source characters covered.</param>
/// <param name="Text">The chunk text: exactly <c>source.Substring(Start, Length)</c>.</param>
/// <param name="TokenCount">Tokens counted by the chunker's token counter (no prefix, no special tokens).</param>
public sealed record TextChunk(int Ordinal, int Start, int Length, string Text, int TokenCount)
{
    /// <summary>Offset one past the last character.</summary>
    public int End => Start + Length;
}

/// <summary>How text is cut into chunks.</summary>
/// <param name="MaxTokens">The most tokens a chunk may hold, as counted by the token counter.</param>
/// <param name="OverlapTokens">Tokens from the end of one chunk repeated at the start of the next (whole units only).</param>
public sealed record ChunkingOptions(int MaxTokens = 256, int OverlapTokens = 32)
{
    /// <summary>Throws <see cref="InvalidSettingException"/> naming the setting when a value is unusable.</summary>
    public void Validate()
    {
        if (MaxTokens < 8)
        {
            throw new InvalidSettingException("chunking.maxTokens", $"must be at least 8 (got {MaxTokens}).");
        }
        if (OverlapTokens < 0 || OverlapTokens >= MaxTokens / 2)
        {
            throw new InvalidSettingException("chunking.overlapTokens", $"must be between 0 and half of maxTokens ({MaxTokens / 2}), got {OverlapTokens}.");
        }
    }
}

/// <summary>Cuts a text into chunks that each fit a token budget.</summary>
public interface IChunker
{
    /// <summary>The chunks of <paramref name="text"/>, in order; empty when the text holds no tokens.</summary>
    IReadOnlyList<TextChunk> Chunk(string text);
}
