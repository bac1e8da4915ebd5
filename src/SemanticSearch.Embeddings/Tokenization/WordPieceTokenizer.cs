// WordPiece tokenization as BERT uses it (Devlin et al., 2019; WordPiece: Wu et al., 2016), reproducing the Hugging Face
// `tokenizers` pipeline id for id: added-token split → BertNormalizer (clean text, pad CJK ideographs, NFD + drop
// non-spacing marks, lowercase) → BertPreTokenizer (split on whitespace, every punctuation character its own word) →
// WordPiece (greedy longest-match-first, "##" continuations, a word with any unmatched piece or over 100 code points
// becomes [UNK]) → [CLS] … [SEP], truncation dropping the tail but keeping [SEP].
// Microsoft.ML.Tokenizers' BertTokenizer was measured against the reference first and disagreed on ~15% of SciFact
// texts (it drops symbols such as '+' and '∼' that Hugging Face keeps as punctuation or [UNK]), hence this
// implementation. The test suite checks it against the real tokenizer.json run by @huggingface/tokenizers.
using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using SemanticSearch.Core;

namespace SemanticSearch.Embeddings.Tokenization;

/// <summary>Normalisation and vocabulary settings of a WordPiece tokenizer (what tokenizer.json records).</summary>
/// <param name="Lowercase">Lowercase the text (uncased models).</param>
/// <param name="StripAccents">Decompose (NFD) and drop non-spacing marks; Hugging Face defaults it to <paramref name="Lowercase"/>.</param>
/// <param name="HandleChineseChars">Surround every CJK ideograph with spaces so each is its own word.</param>
/// <param name="CleanText">Drop control characters, NUL and U+FFFD; turn every whitespace character into a space.</param>
/// <param name="MaxInputCharsPerWord">Words longer than this (in code points) become the unknown token.</param>
public sealed record WordPieceOptions(
    bool Lowercase = true,
    bool StripAccents = true,
    bool HandleChineseChars = true,
    bool CleanText = true,
    int MaxInputCharsPerWord = 100);

/// <summary>
/// The BERT WordPiece tokenizer, driven by a model's own vocabulary (<c>vocab.txt</c> or <c>tokenizer.json</c>),
/// producing the same ids as the Hugging Face tokenizer. Thread-safe and allocation-light.
/// </summary>
public sealed class WordPieceTokenizer : IModelTokenizer
{
    private const string ContinuationPrefix = "##";

    private readonly Dictionary<string, int> _vocab;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _lookup;
    private readonly WordPieceOptions _options;
    private readonly (string Text, int Id)[] _addedTokens; // longest first
    private readonly SearchValues<char>? _addedTokenStarts;

    private WordPieceTokenizer(Dictionary<string, int> vocab, WordPieceOptions options, IEnumerable<(string Text, int Id)> addedTokens,
        string unkToken, int? clsId, int? sepId, int? padId, string source)
    {
        _vocab = vocab;
        _lookup = vocab.GetAlternateLookup<ReadOnlySpan<char>>();
        _options = options;
        _addedTokens = addedTokens.Where(t => t.Text.Length > 0).OrderByDescending(t => t.Text.Length).ToArray();
        _addedTokenStarts = _addedTokens.Length == 0 ? null : SearchValues.Create(_addedTokens.Select(t => t.Text[0]).Distinct().ToArray());
        UnknownId = vocab.TryGetValue(unkToken, out var unk)
            ? unk
            : throw new InvalidSettingException(source, $"the unknown token '{unkToken}' is not in the vocabulary");
        ClassifierId = clsId ?? Required(vocab, "[CLS]", source);
        SeparatorId = sepId ?? Required(vocab, "[SEP]", source);
        PaddingId = padId ?? (vocab.TryGetValue("[PAD]", out var pad) ? pad : 0);
    }

    /// <summary>Number of entries in the vocabulary.</summary>
    public int VocabularySize => _vocab.Count;

    /// <summary>Id of <c>[UNK]</c>.</summary>
    public int UnknownId { get; }

    /// <summary>Id of <c>[CLS]</c>, the first token of every sequence.</summary>
    public int ClassifierId { get; }

    /// <summary>Id of <c>[SEP]</c>, the last token of every sequence.</summary>
    public int SeparatorId { get; }

    /// <inheritdoc />
    public int PaddingId { get; }

    /// <inheritdoc />
    public int SpecialTokenCount => 2;

    /// <summary>Loads a BERT <c>vocab.txt</c> (one token a line, the line number is the id).</summary>
    public static WordPieceTokenizer FromVocabFile(string path, WordPieceOptions? options = null)
    {
        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        try
        {
            var id = 0;
            foreach (var line in File.ReadLines(path))
            {
                var token = line.TrimEnd('\r');
                vocab.TryAdd(token, id);
                id++;
            }
        }
        catch (IOException e)
        {
            throw new NotFoundException($"{path}: cannot read the vocabulary ({e.Message})");
        }

        if (vocab.Count == 0)
        {
            throw new CorruptDataException(path, "the vocabulary is empty");
        }

        // The Hugging Face BERT tokenizer never splits its special tokens when they appear in the text.
        var specials = new[] { "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]" }
            .Where(vocab.ContainsKey).Select(t => (t, vocab[t]));
        return new WordPieceTokenizer(vocab, options ?? new WordPieceOptions(), specials, "[UNK]", null, null, null, path);
    }

    /// <summary>
    /// Loads a Hugging Face <c>tokenizer.json</c> whose model is WordPiece with a BertNormalizer and BertPreTokenizer;
    /// the normaliser flags, unknown token, word length limit, added tokens and special-token ids come from the file.
    /// </summary>
    public static WordPieceTokenizer FromTokenizerJson(string path)
    {
        JsonDocument document;
        try
        {
            using var stream = File.OpenRead(path);
            document = JsonDocument.Parse(stream);
        }
        catch (IOException e)
        {
            throw new NotFoundException($"{path}: cannot read the tokenizer ({e.Message})");
        }
        catch (JsonException e)
        {
            throw new CorruptDataException(path, $"not valid JSON ({e.Message})", e);
        }

        using (document)
        {
            var root = document.RootElement;
            if (!root.TryGetProperty("model", out var model) || model.ValueKind != JsonValueKind.Object)
            {
                throw new CorruptDataException(path, "field 'model' is missing");
            }

            var modelType = model.TryGetProperty("type", out var mt) ? mt.GetString() : null;
            if (modelType != "WordPiece")
            {
                throw new InvalidSettingException($"{path}: model.type", $"'{modelType}' is not supported; only WordPiece tokenizers are");
            }

            if (!model.TryGetProperty("vocab", out var vocabElement) || vocabElement.ValueKind != JsonValueKind.Object)
            {
                throw new CorruptDataException(path, "field 'model.vocab' is missing");
            }

            var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var entry in vocabElement.EnumerateObject())
            {
                vocab[entry.Name] = entry.Value.GetInt32();
            }

            var unk = model.TryGetProperty("unk_token", out var u) && u.ValueKind == JsonValueKind.String ? u.GetString()! : "[UNK]";
            var maxChars = model.TryGetProperty("max_input_chars_per_word", out var mc) && mc.ValueKind == JsonValueKind.Number ? mc.GetInt32() : 100;
            if (model.TryGetProperty("continuing_subword_prefix", out var csp) && csp.ValueKind == JsonValueKind.String && csp.GetString() != ContinuationPrefix)
            {
                throw new InvalidSettingException($"{path}: model.continuing_subword_prefix", $"only '{ContinuationPrefix}' is supported");
            }

            var options = new WordPieceOptions(Lowercase: false, StripAccents: false, HandleChineseChars: false, CleanText: false, MaxInputCharsPerWord: maxChars);
            if (root.TryGetProperty("normalizer", out var normalizer) && normalizer.ValueKind == JsonValueKind.Object)
            {
                var type = normalizer.TryGetProperty("type", out var nt) ? nt.GetString() : null;
                if (type != "BertNormalizer")
                {
                    throw new InvalidSettingException($"{path}: normalizer.type", $"'{type}' is not supported; only BertNormalizer is");
                }

                var lowercase = Flag(normalizer, "lowercase", true);
                options = options with
                {
                    Lowercase = lowercase,
                    StripAccents = normalizer.TryGetProperty("strip_accents", out var sa) && sa.ValueKind is JsonValueKind.True or JsonValueKind.False
                        ? sa.GetBoolean()
                        : lowercase,
                    HandleChineseChars = Flag(normalizer, "handle_chinese_chars", true),
                    CleanText = Flag(normalizer, "clean_text", true),
                };
            }

            if (root.TryGetProperty("pre_tokenizer", out var pre) && pre.ValueKind == JsonValueKind.Object)
            {
                var type = pre.TryGetProperty("type", out var pt) ? pt.GetString() : null;
                if (type != "BertPreTokenizer")
                {
                    throw new InvalidSettingException($"{path}: pre_tokenizer.type", $"'{type}' is not supported; only BertPreTokenizer is");
                }
            }

            var added = new List<(string, int)>();
            if (root.TryGetProperty("added_tokens", out var addedElement) && addedElement.ValueKind == JsonValueKind.Array)
            {
                foreach (var token in addedElement.EnumerateArray())
                {
                    added.Add((token.GetProperty("content").GetString()!, token.GetProperty("id").GetInt32()));
                    vocab.TryAdd(added[^1].Item1, added[^1].Item2);
                }
            }

            int? cls = null, sep = null;
            if (root.TryGetProperty("post_processor", out var post) && post.ValueKind == JsonValueKind.Object)
            {
                if (post.TryGetProperty("special_tokens", out var specials) && specials.ValueKind == JsonValueKind.Object)
                {
                    cls = SpecialId(specials, "[CLS]");
                    sep = SpecialId(specials, "[SEP]");
                }
                else if (post.TryGetProperty("cls", out var c) && post.TryGetProperty("sep", out var s))
                {
                    cls = c[1].GetInt32();
                    sep = s[1].GetInt32();
                }
            }

            int? pad = root.TryGetProperty("padding", out var padding) && padding.ValueKind == JsonValueKind.Object
                && padding.TryGetProperty("pad_id", out var pid) ? pid.GetInt32() : null;
            return new WordPieceTokenizer(vocab, options, added, unk, cls, sep, pad, path);
        }
    }

    /// <summary>
    /// Loads the tokenizer of a model directory: <c>tokenizer.json</c> when present (it carries the normaliser
    /// settings), else <c>vocab.txt</c> with the uncased BERT defaults.
    /// </summary>
    public static WordPieceTokenizer FromDirectory(string directory)
    {
        var json = Path.Combine(directory, "tokenizer.json");
        if (File.Exists(json))
        {
            return FromTokenizerJson(json);
        }

        var vocab = Path.Combine(directory, "vocab.txt");
        if (File.Exists(vocab))
        {
            return FromVocabFile(vocab);
        }

        throw new NotFoundException($"{directory}: no tokenizer.json or vocab.txt found");
    }

    /// <inheritdoc />
    public int CountTokens(string text)
    {
        var sink = new CountingSink();
        Tokenize(text, ref sink);
        return sink.Count;
    }

    /// <summary>The WordPiece ids of <paramref name="text"/>, without special tokens and without truncation.</summary>
    public int[] Tokenize(string text)
    {
        var sink = new ListSink(new List<int>(text.Length / 4 + 4), int.MaxValue);
        Tokenize(text, ref sink);
        return sink.Ids.ToArray();
    }

    /// <inheritdoc />
    public int[] Encode(string text, int maxTokens)
    {
        if (maxTokens < SpecialTokenCount)
        {
            throw new InvalidSettingException("maxTokens", $"must be at least {SpecialTokenCount}, was {maxTokens}");
        }

        var sink = new ListSink(new List<int>(Math.Min(text.Length / 4 + 4, maxTokens)), maxTokens - SpecialTokenCount);
        Tokenize(text, ref sink);
        var ids = new int[sink.Ids.Count + 2];
        ids[0] = ClassifierId;
        sink.Ids.CopyTo(ids, 1);
        ids[^1] = SeparatorId;
        return ids;
    }

    /// <summary>The vocabulary entry of <paramref name="id"/>, for diagnostics; null when the id is unknown.</summary>
    public string? TokenOf(int id)
    {
        foreach (var (token, value) in _vocab)
        {
            if (value == id)
            {
                return token;
            }
        }

        return null;
    }

    private void Tokenize<TSink>(string text, ref TSink sink)
        where TSink : struct, ITokenSink
    {
        ArgumentNullException.ThrowIfNull(text);
        var span = text.AsSpan();
        if (_addedTokenStarts is null)
        {
            TokenizeSegment(span, ref sink);
            return;
        }

        // Added tokens ([CLS], [MASK] …) are matched on the raw text, leftmost then longest, before normalisation.
        var segmentStart = 0;
        var searchFrom = 0;
        while (searchFrom < span.Length && !sink.Full)
        {
            var found = span[searchFrom..].IndexOfAny(_addedTokenStarts);
            if (found < 0)
            {
                break;
            }

            var at = searchFrom + found;
            var matched = -1;
            foreach (var (token, id) in _addedTokens)
            {
                if (span[at..].StartsWith(token, StringComparison.Ordinal))
                {
                    TokenizeSegment(span[segmentStart..at], ref sink);
                    sink.Add(id);
                    matched = token.Length;
                    break;
                }
            }

            if (matched < 0)
            {
                searchFrom = at + 1;
            }
            else
            {
                segmentStart = searchFrom = at + matched;
            }
        }

        TokenizeSegment(span[segmentStart..], ref sink);
    }

    private void TokenizeSegment<TSink>(ReadOnlySpan<char> segment, ref TSink sink)
        where TSink : struct, ITokenSink
    {
        if (segment.IsEmpty || sink.Full)
        {
            return;
        }

        // Clean + CJK padding at most triples the length (one char → space, char, space).
        var cleaned = ArrayPool<char>.Shared.Rent(segment.Length * 3 + 8);
        char[]? decomposed = null;
        char[]? lowered = null;
        try
        {
            var n = CleanText(segment, cleaned, out var nonAscii);
            ReadOnlySpan<char> text = cleaned.AsSpan(0, n);
            var o = _options;
            if (nonAscii && (o.StripAccents || o.Lowercase))
            {
                // Hugging Face's order: strip accents (NFD, drop non-spacing marks), then lowercase.
                if (o.StripAccents && !text.IsNormalized(NormalizationForm.FormD))
                {
                    decomposed = ArrayPool<char>.Shared.Rent(text.GetNormalizedLength(NormalizationForm.FormD));
                    text.TryNormalize(decomposed, out var written, NormalizationForm.FormD);
                    text = decomposed.AsSpan(0, written);
                }

                lowered = ArrayPool<char>.Shared.Rent(text.Length * 2 + 2);
                var m = 0;
                foreach (var rune in text.EnumerateRunes())
                {
                    if (o.StripAccents && Rune.GetUnicodeCategory(rune) == UnicodeCategory.NonSpacingMark)
                    {
                        continue;
                    }

                    if (o.Lowercase && rune.Value == 0x130)
                    {
                        // U+0130 is the one character whose full lowercase mapping (Rust's to_lowercase) is two characters.
                        lowered[m++] = 'i';
                        lowered[m++] = '\u0307';
                        continue;
                    }

                    m += (o.Lowercase ? Rune.ToLowerInvariant(rune) : rune).EncodeToUtf16(lowered.AsSpan(m));
                }

                text = lowered.AsSpan(0, m);
            }

            PreTokenize(text, ref sink);
        }
        finally
        {
            ArrayPool<char>.Shared.Return(cleaned);
            if (decomposed is not null)
            {
                ArrayPool<char>.Shared.Return(decomposed);
            }

            if (lowered is not null)
            {
                ArrayPool<char>.Shared.Return(lowered);
            }
        }
    }

    /// <summary>
    /// BertNormalizer's first two steps: clean text (drop controls, NUL, U+FFFD; whitespace → space) and pad CJK
    /// ideographs with spaces. ASCII is also lowercased here (the common case needs no further pass);
    /// <paramref name="nonAscii"/> says whether the accent and lowercase pass is still needed.
    /// </summary>
    private int CleanText(ReadOnlySpan<char> text, char[] buffer, out bool nonAscii)
    {
        var o = _options;
        var n = 0;
        nonAscii = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c < 0x80)
            {
                if (c is ' ' or '\t' or '\n' or '\r')
                {
                    buffer[n++] = o.CleanText ? ' ' : c;
                }
                else if (c < 0x20 || c == 0x7F)
                {
                    if (!o.CleanText)
                    {
                        buffer[n++] = c;
                    }
                }
                else
                {
                    buffer[n++] = o.Lowercase && c is >= 'A' and <= 'Z' ? (char)(c + 32) : c;
                }

                continue;
            }

            nonAscii = true;
            if (Rune.DecodeFromUtf16(text[i..], out var rune, out var consumed) != OperationStatus.Done)
            {
                // A lone surrogate is category Cs: a control character to clean_text.
                if (!o.CleanText)
                {
                    buffer[n++] = c;
                }

                continue;
            }

            i += consumed - 1;
            if (o.CleanText)
            {
                if (rune.Value == 0xFFFD || IsControl(rune))
                {
                    continue;
                }

                if (Rune.IsWhiteSpace(rune))
                {
                    buffer[n++] = ' ';
                    continue;
                }
            }

            var cjk = o.HandleChineseChars && IsChineseChar(rune.Value);
            if (cjk)
            {
                buffer[n++] = ' ';
            }

            n += rune.EncodeToUtf16(buffer.AsSpan(n));
            if (cjk)
            {
                buffer[n++] = ' ';
            }
        }

        return n;
    }

    /// <summary>BertPreTokenizer: words are runs of non-space, non-punctuation characters; each punctuation character is a word.</summary>
    private void PreTokenize<TSink>(ReadOnlySpan<char> text, ref TSink sink)
        where TSink : struct, ITokenSink
    {
        var i = 0;
        while (i < text.Length && !sink.Full)
        {
            var width = CharWidth(text, i);
            var kind = Classify(text, i);
            if (kind == CharKind.Space)
            {
                i += width;
                continue;
            }

            if (kind == CharKind.Punctuation)
            {
                WordPiece(text.Slice(i, width), ref sink);
                i += width;
                continue;
            }

            var start = i;
            i += width;
            while (i < text.Length)
            {
                if (Classify(text, i) != CharKind.Word)
                {
                    break;
                }

                i += CharWidth(text, i);
            }

            WordPiece(text[start..i], ref sink);
        }
    }

    /// <summary>Greedy longest-match-first WordPiece over one word; any unmatched remainder makes the whole word [UNK].</summary>
    private void WordPiece<TSink>(ReadOnlySpan<char> word, ref TSink sink)
        where TSink : struct, ITokenSink
    {
        // Code points never outnumber UTF-16 units, so the exact count is only needed for long words.
        if (word.Length > _options.MaxInputCharsPerWord && CodePointCount(word) > _options.MaxInputCharsPerWord)
        {
            sink.Add(UnknownId);
            return;
        }

        if (_lookup.TryGetValue(word, out var whole))
        {
            sink.Add(whole);
            return;
        }

        Span<int> pieces = word.Length <= 256 ? stackalloc int[word.Length] : new int[word.Length];
        Span<char> scratch = word.Length <= 256 ? stackalloc char[word.Length + 2] : new char[word.Length + 2];
        scratch[0] = '#';
        scratch[1] = '#';
        var count = 0;
        var start = 0;
        while (start < word.Length)
        {
            var end = word.Length;
            var id = -1;
            while (start < end)
            {
                scoped ReadOnlySpan<char> candidate;
                if (start == 0)
                {
                    candidate = word[..end];
                }
                else
                {
                    word[start..end].CopyTo(scratch[2..]);
                    candidate = scratch[..(end - start + 2)];
                }

                if (_lookup.TryGetValue(candidate, out id))
                {
                    break;
                }

                id = -1;
                end -= end - 2 >= start && char.IsLowSurrogate(word[end - 1]) && char.IsHighSurrogate(word[end - 2]) ? 2 : 1;
            }

            if (id < 0)
            {
                sink.Add(UnknownId);
                return;
            }

            pieces[count++] = id;
            start = end;
        }

        for (var k = 0; k < count; k++)
        {
            sink.Add(pieces[k]);
        }
    }

    private static int CodePointCount(ReadOnlySpan<char> word)
    {
        var count = word.Length;
        for (var i = 1; i < word.Length; i++)
        {
            if (char.IsLowSurrogate(word[i]) && char.IsHighSurrogate(word[i - 1]))
            {
                count--;
            }
        }

        return count;
    }

    private static int CharWidth(ReadOnlySpan<char> text, int i) =>
        char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]) ? 2 : 1;

    private enum CharKind
    {
        Word,
        Space,
        Punctuation,
    }

    private static CharKind Classify(ReadOnlySpan<char> text, int i)
    {
        var c = text[i];
        if (c < 0x80)
        {
            if (c is ' ' or '\t' or '\n' or '\r' or '\v' or '\f')
            {
                return CharKind.Space;
            }

            return c is (>= '!' and <= '/') or (>= ':' and <= '@') or (>= '[' and <= '`') or (>= '{' and <= '~')
                ? CharKind.Punctuation
                : CharKind.Word;
        }

        if (Rune.DecodeFromUtf16(text[i..], out var rune, out _) != OperationStatus.Done)
        {
            return CharKind.Word;
        }

        if (Rune.IsWhiteSpace(rune))
        {
            return CharKind.Space;
        }

        return Rune.GetUnicodeCategory(rune) switch
        {
            UnicodeCategory.ConnectorPunctuation or UnicodeCategory.DashPunctuation or UnicodeCategory.OpenPunctuation
                or UnicodeCategory.ClosePunctuation or UnicodeCategory.InitialQuotePunctuation
                or UnicodeCategory.FinalQuotePunctuation or UnicodeCategory.OtherPunctuation => CharKind.Punctuation,
            _ => CharKind.Word,
        };
    }

    private static bool IsControl(Rune rune) => Rune.GetUnicodeCategory(rune) is UnicodeCategory.Control
        or UnicodeCategory.Format or UnicodeCategory.PrivateUse or UnicodeCategory.Surrogate or UnicodeCategory.OtherNotAssigned;

    /// <summary>The CJK Unified Ideographs blocks BERT isolates (Hangul and kana are not among them).</summary>
    private static bool IsChineseChar(int cp) =>
        cp is (>= 0x4E00 and <= 0x9FFF) or (>= 0x3400 and <= 0x4DBF) or (>= 0x20000 and <= 0x2A6DF)
            or (>= 0x2A700 and <= 0x2B73F) or (>= 0x2B740 and <= 0x2B81F) or (>= 0x2B820 and <= 0x2CEAF)
            or (>= 0xF900 and <= 0xFAFF) or (>= 0x2F800 and <= 0x2FA1F);

    private static bool Flag(JsonElement element, string name, bool fallback) =>
        element.TryGetProperty(name, out var value) && value.ValueKind is JsonValueKind.True or JsonValueKind.False ? value.GetBoolean() : fallback;

    private static int? SpecialId(JsonElement specials, string token) =>
        specials.TryGetProperty(token, out var entry) && entry.TryGetProperty("ids", out var ids) && ids.GetArrayLength() > 0
            ? ids[0].GetInt32()
            : null;

    private static int Required(Dictionary<string, int> vocab, string token, string source) =>
        vocab.TryGetValue(token, out var id) ? id : throw new InvalidSettingException(source, $"the special token '{token}' is not in the vocabulary");

    private interface ITokenSink
    {
        bool Full { get; }

        void Add(int id);
    }

    private struct CountingSink : ITokenSink
    {
        public int Count;

        public readonly bool Full => false;

        public void Add(int id) => Count++;
    }

    private readonly struct ListSink(List<int> ids, int limit) : ITokenSink
    {
        public List<int> Ids { get; } = ids;

        public bool Full => Ids.Count >= limit;

        public void Add(int id)
        {
            if (Ids.Count < limit)
            {
                Ids.Add(id);
            }
        }
    }
}
