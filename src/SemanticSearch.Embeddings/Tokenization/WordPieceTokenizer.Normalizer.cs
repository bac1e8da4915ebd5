// BertNormalizer and BertPreTokenizer as Hugging Face `tokenizers` runs them: clean text (drop controls, NUL,
// U+FFFD; whitespace to space), pad CJK ideographs, NFD + drop non-spacing marks, lowercase; then split on whitespace
// with every punctuation character its own word. The words go on to the WordPiece loop in WordPieceTokenizer.cs.
using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using SemanticSearch.Core;
using SemanticSearch.Models;

namespace SemanticSearch.Embeddings.Tokenization;

public sealed partial class WordPieceTokenizer
{
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
}
