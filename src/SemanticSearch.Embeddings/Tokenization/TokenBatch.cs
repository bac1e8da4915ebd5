using SemanticSearch.Models;

namespace SemanticSearch.Embeddings.Tokenization;

/// <summary>
/// A padded batch of token sequences in the layout BERT-family ONNX graphs take: row-major <c>[Count, Length]</c>
/// tensors of <c>input_ids</c>, <c>attention_mask</c> (1 for real tokens, 0 for padding) and <c>token_type_ids</c>
/// (all 0: single-sequence input).
/// </summary>
public sealed class TokenBatch
{
    private TokenBatch(int count, int length, long[] inputIds, long[] attentionMask, long[] tokenTypeIds, int[] lengths)
    {
        Count = count;
        Length = length;
        InputIds = inputIds;
        AttentionMask = attentionMask;
        TokenTypeIds = tokenTypeIds;
        Lengths = lengths;
    }

    /// <summary>Number of sequences (rows).</summary>
    public int Count { get; }

    /// <summary>Padded length of every row: the longest sequence in the batch.</summary>
    public int Length { get; }

    /// <summary>Token ids, padded with the tokenizer's padding id.</summary>
    public long[] InputIds { get; }

    /// <summary>1 where a row holds a real token, 0 over its padding.</summary>
    public long[] AttentionMask { get; }

    /// <summary>Segment ids; all zero for single sequences.</summary>
    public long[] TokenTypeIds { get; }

    /// <summary>Unpadded length of each row.</summary>
    public int[] Lengths { get; }

    /// <summary>Pads already-encoded sequences (special tokens included) into one batch.</summary>
    public static TokenBatch FromSequences(IReadOnlyList<int[]> sequences, int paddingId)
    {
        ArgumentNullException.ThrowIfNull(sequences);
        var count = sequences.Count;
        var length = 0;
        foreach (var s in sequences)
        {
            length = Math.Max(length, s.Length);
        }

        var ids = new long[count * length];
        var mask = new long[count * length];
        var types = new long[count * length];
        var lengths = new int[count];
        for (var row = 0; row < count; row++)
        {
            var s = sequences[row];
            lengths[row] = s.Length;
            var offset = row * length;
            for (var j = 0; j < s.Length; j++)
            {
                ids[offset + j] = s[j];
                mask[offset + j] = 1;
            }

            if (paddingId != 0)
            {
                Array.Fill(ids, paddingId, offset + s.Length, length - s.Length);
            }
        }

        return new TokenBatch(count, length, ids, mask, types, lengths);
    }

    /// <summary>Encodes <paramref name="texts"/> with <paramref name="tokenizer"/> (truncating to <paramref name="maxTokens"/>) and pads them.</summary>
    public static TokenBatch Encode(IModelTokenizer tokenizer, IReadOnlyList<string> texts, int maxTokens)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(texts);
        var sequences = new int[texts.Count][];
        for (var i = 0; i < texts.Count; i++)
        {
            sequences[i] = tokenizer.Encode(texts[i], maxTokens);
        }

        return FromSequences(sequences, tokenizer.PaddingId);
    }
}
