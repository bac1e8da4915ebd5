// A decompression-bomb guard for PDFs. PdfPig inflates a FlateDecode content stream whole into memory, so a 500 KB
// file whose page stream inflates to 512 MB costs 1.4 GB of RSS. Before PdfPig sees a file, every Flate stream that
// text extraction may decode (content, object, font and form streams; image streams are never decoded to extract text,
// so they are left alone) is inflated into a counter, in constant memory, and the file is refused once the total
// passes the budget. The scan is lexical (the keywords `obj`, `stream`, `endstream`), which is enough for a bound: a
// stream it misreads is at worst not counted, and PdfPig's own parser still decides what the file contains.
using System.IO.Compression;

namespace SemanticSearch.Extraction;

internal static class PdfInflateBudget
{
    private static readonly byte[] StreamKeyword = "stream"u8.ToArray();
    private static readonly byte[] EndStreamKeyword = "endstream"u8.ToArray();
    private static readonly byte[] ObjKeyword = "obj"u8.ToArray();
    private static readonly byte[] FlateDecode = "/FlateDecode"u8.ToArray();
    private static readonly byte[] Image = "/Image"u8.ToArray();

    // How far back from `stream` the object's dictionary is looked for.
    private const int DictionaryWindow = 64 * 1024;

    /// <summary>
    /// Bytes the file's non-image Flate streams inflate to, counted up to just past <paramref name="limit"/> (the count
    /// stops there, so a bomb costs no more than the limit in CPU and nothing in memory).
    /// </summary>
    public static long InflatedBytes(ReadOnlySpan<byte> pdf, long limit)
    {
        long total = 0;
        var buffer = new byte[64 * 1024];
        var pos = 0;
        var previousEnd = 0; // dictionary windows never reach back past the previous stream: the scan stays linear
        while (total <= limit)
        {
            var k = pdf[pos..].IndexOf(StreamKeyword);
            if (k < 0)
            {
                break;
            }
            var at = pos + k;
            pos = at + StreamKeyword.Length;
            if (at >= 3 && pdf.Slice(at - 3, 3).SequenceEqual("end"u8))
            {
                continue; // the tail of `endstream`
            }
            // Stream data starts after the keyword and one end-of-line (CRLF or LF).
            var start = pos;
            if (start < pdf.Length && pdf[start] == '\r')
            {
                start++;
            }
            if (start < pdf.Length && pdf[start] == '\n')
            {
                start++;
            }
            if (start == pos)
            {
                continue; // `stream` inside some other token
            }
            var end = pdf[start..].IndexOf(EndStreamKeyword);
            if (end < 0)
            {
                break;
            }
            end += start;
            pos = end + EndStreamKeyword.Length;

            var windowStart = Math.Max(previousEnd, at - DictionaryWindow);
            previousEnd = pos;
            var window = pdf[windowStart..at];
            var obj = window.LastIndexOf(ObjKeyword);
            var dictionary = obj < 0 ? window : window[obj..];
            if (dictionary.IndexOf(FlateDecode) < 0 || dictionary.IndexOf(Image) >= 0)
            {
                continue;
            }
            total += Inflate(pdf[start..end].ToArray(), buffer, limit - total + 1);
        }
        return total;
    }

    // Inflates zlib data into the void, counting at most `max` bytes; corrupt data counts what inflated before it.
    private static long Inflate(byte[] data, byte[] buffer, long max)
    {
        long count = 0;
        try
        {
            using var z = new ZLibStream(new MemoryStream(data, writable: false), CompressionMode.Decompress);
            int n;
            while (count < max && (n = z.Read(buffer)) > 0)
            {
                count += n;
            }
        }
        catch (InvalidDataException)
        {
            // not zlib (or damaged): PdfPig will report the file if it matters
        }
        return count;
    }
}
