// Decoding the bytes of a "text" file, with a declared order of evidence:
//   1. a byte-order mark (UTF-8, UTF-16 LE/BE, UTF-32 LE) names the encoding;
//   2. else bytes that are valid UTF-8 throughout are UTF-8 (ASCII included: it is both);
//   3. else the file is read as Windows-1252, the superset of ISO-8859-1 that Latin-1 text on Windows and the web
//      really is; every byte decodes, so no replacement character is ever invented. The choice is returned, so the
//      folder job can name every file that was read by this fallback.
// Content that is binary in disguise (NUL bytes or a high share of control characters in the first 8 KiB) is refused,
// so that a renamed executable never pollutes the index.
using System.Text;
using System.Text.Unicode;

namespace SemanticSearch.Extraction;

/// <summary>How the bytes of a text file were turned into characters.</summary>
/// <param name="Name">The encoding: <c>utf-8</c>, <c>utf-16le</c>, <c>utf-16be</c>, <c>utf-32le</c> or <c>windows-1252</c>.</param>
/// <param name="Evidence">Why: <c>bom</c> (a byte-order mark), <c>valid</c> (valid UTF-8 throughout) or <c>fallback</c> (not valid UTF-8).</param>
public sealed record TextEncodingChoice(string Name, string Evidence)
{
    /// <summary>True when the file was not valid UTF-8 and had no byte-order mark, so Windows-1252 was assumed.</summary>
    public bool IsFallback => Evidence == "fallback";

    /// <inheritdoc />
    public override string ToString() => $"{Name} ({Evidence})";
}

/// <summary>Decodes a text file's bytes (see <see cref="TextEncodingChoice"/>): the decoding every text extractor uses, and the server when it shows a text file.</summary>
public static class TextDecoding
{
    private const int SniffLength = 8192;

    internal static readonly TextEncodingChoice Utf8Bom = new("utf-8", "bom");
    internal static readonly TextEncodingChoice Utf8Valid = new("utf-8", "valid");
    internal static readonly TextEncodingChoice Windows1252Fallback = new("windows-1252", "fallback");

    // Windows-1252's bytes 0x80–0x9F; the five it leaves undefined keep their C1 code point (as the WHATWG decoder does).
    private static readonly char[] High1252 =
    [
        '\u20AC', '\u0081', '\u201A', '\u0192', '\u201E', '\u2026', '\u2020', '\u2021', '\u02C6', '\u2030', '\u0160', '\u2039', '\u0152', '\u008D', '\u017D', '\u008F',
        '\u0090', '\u2018', '\u2019', '\u201C', '\u201D', '\u2022', '\u2013', '\u2014', '\u02DC', '\u2122', '\u0161', '\u203A', '\u0153', '\u009D', '\u017E', '\u0178',
    ];

    /// <summary>Decodes <paramref name="bytes"/> by the rules above and says which encoding was used, and why.</summary>
    public static string Decode(ReadOnlySpan<byte> bytes, out TextEncodingChoice encoding)
    {
        if (bytes.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
        {
            encoding = Utf8Bom;
            return CheckDecoded(new UTF8Encoding(false, false).GetString(bytes[3..]));
        }
        if (bytes.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE, 0x00, 0x00]))
        {
            encoding = new("utf-32le", "bom");
            return CheckDecoded(new UTF32Encoding(false, false, false).GetString(bytes[4..]));
        }
        if (bytes.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE]))
        {
            encoding = new("utf-16le", "bom");
            return CheckDecoded(new UnicodeEncoding(false, false, false).GetString(bytes[2..]));
        }
        if (bytes.StartsWith((ReadOnlySpan<byte>)[0xFE, 0xFF]))
        {
            encoding = new("utf-16be", "bom");
            return CheckDecoded(new UnicodeEncoding(true, false, false).GetString(bytes[2..]));
        }

        var sniff = bytes[..Math.Min(bytes.Length, SniffLength)];
        if (sniff.IndexOf((byte)0) >= 0)
        {
            throw new ExtractionException("binary content (NUL bytes) in a text file");
        }
        if (Utf8.IsValid(bytes))
        {
            encoding = Utf8Valid;
            return CheckDecoded(Encoding.UTF8.GetString(bytes));
        }
        encoding = Windows1252Fallback;
        return CheckDecoded(DecodeWindows1252(bytes));
    }

    /// <summary>Windows-1252 to text: every byte is one character.</summary>
    internal static string DecodeWindows1252(ReadOnlySpan<byte> bytes)
    {
        var chars = new char[bytes.Length];
        for (var i = 0; i < bytes.Length; i++)
        {
            var b = bytes[i];
            chars[i] = b is >= 0x80 and <= 0x9F ? High1252[b - 0x80] : (char)b;
        }
        return new string(chars);
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
