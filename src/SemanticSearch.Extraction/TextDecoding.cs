using System.Text;

namespace SemanticSearch.Extraction;

/// <summary>
/// Decodes the bytes of a "text" file: honours a UTF-8/UTF-16/UTF-32 byte-order mark, else reads UTF-8 with
/// replacement characters for invalid sequences. Rejects content that is binary in disguise (NUL bytes or a high
/// share of control characters in the first 8 KiB), so that a renamed executable never pollutes the index.
/// </summary>
internal static class TextDecoding
{
    private const int SniffLength = 8192;

    public static string Decode(ReadOnlySpan<byte> bytes)
    {
        if (bytes.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
        {
            return CheckDecoded(new UTF8Encoding(false, false).GetString(bytes[3..]));
        }
        if (bytes.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE, 0x00, 0x00]))
        {
            return CheckDecoded(new UTF32Encoding(false, false, false).GetString(bytes[4..]));
        }
        if (bytes.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE]))
        {
            return CheckDecoded(new UnicodeEncoding(false, false, false).GetString(bytes[2..]));
        }
        if (bytes.StartsWith((ReadOnlySpan<byte>)[0xFE, 0xFF]))
        {
            return CheckDecoded(new UnicodeEncoding(true, false, false).GetString(bytes[2..]));
        }

        var sniff = bytes[..Math.Min(bytes.Length, SniffLength)];
        if (sniff.IndexOf((byte)0) >= 0)
        {
            throw new ExtractionException("binary content (NUL bytes) in a text file");
        }
        return CheckDecoded(new UTF8Encoding(false, false).GetString(bytes));
    }

    // After decoding: a text with many control characters (other than tab/newline/CR/form feed) is binary.
    private static string CheckDecoded(string text)
    {
        var sniff = text.AsSpan(0, Math.Min(text.Length, SniffLength));
        var control = 0;
        foreach (var c in sniff)
        {
            if (c == '\0' || (char.IsControl(c) && c is not ('\t' or '\n' or '\r' or '\f')))
            {
                control++;
            }
        }
        if (sniff.Length > 0 && control * 20 > sniff.Length)
        {
            throw new ExtractionException("binary content (control characters) in a text file");
        }
        return text.Replace("\0", string.Empty, StringComparison.Ordinal);
    }
}
