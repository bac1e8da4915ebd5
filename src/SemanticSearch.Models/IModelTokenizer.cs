using SemanticSearch.Core.Chunking;

namespace SemanticSearch.Models;

/// <summary>
/// The tokenizer contract the ONNX encoder needs: text to a model's input ids, special tokens included, truncated to a
/// token budget. WordPiece (BERT family) and SentencePiece implement it for their
/// graphs. Implementations must be thread-safe.
/// </summary>
public interface IModelTokenizer : ITokenCounter
{
    /// <summary>The id used to pad short sequences in a batch (masked out, so its value never changes a result).</summary>
    int PaddingId { get; }

    /// <summary>How many special tokens <see cref="Encode"/> adds to every sequence (2 for BERT: [CLS] and [SEP]).</summary>
    int SpecialTokenCount { get; }

    /// <summary>
    /// Encodes <paramref name="text"/> with special tokens, keeping at most <paramref name="maxTokens"/> ids; when the
    /// text is longer its tail is dropped and the closing special token kept, as Hugging Face truncation does.
    /// </summary>
    int[] Encode(string text, int maxTokens);
}
