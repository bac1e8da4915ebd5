using System.Text;
using UglyToad.PdfPig;
using UglyToad.PdfPig.Exceptions;

namespace SemanticSearch.Extraction;

/// <summary>
/// PDF via PdfPig: page text in reading order, pages separated by blank lines; title from the info dictionary. A file
/// whose compressed streams would inflate past <see cref="MaxInflatedBytes"/> is refused as a likely decompression
/// bomb before PdfPig reads it.
/// </summary>
public sealed class PdfTextExtractor : ITextExtractor
{
    /// <summary>Most bytes the streams that text extraction decodes may inflate to (256 MiB).</summary>
    public const long MaxInflatedBytes = 256L * 1024 * 1024;

    /// <inheritdoc />
    public IReadOnlyList<string> Extensions { get; } = [".pdf"];

    /// <inheritdoc />
    public ExtractedText Extract(ReadOnlyMemory<byte> content, string fileName)
    {
        if (PdfInflateBudget.InflatedBytes(content.Span, MaxInflatedBytes) > MaxInflatedBytes)
        {
            throw new ExtractionException($"PDF streams would inflate to more than {MaxInflatedBytes:N0} bytes from {content.Length:N0} (likely a decompression bomb); refused");
        }
        try
        {
            using var pdf = PdfDocument.Open(content.ToArray(), new ParsingOptions { UseLenientParsing = false });
            var sb = new StringBuilder();
            foreach (var page in pdf.GetPages())
            {
                var pageText = string.Join(' ', page.GetWords().Select(w => w.Text));
                if (pageText.Length > 0)
                {
                    if (sb.Length > 0)
                    {
                        sb.Append("\n\n");
                    }
                    sb.Append(pageText);
                }
            }
            var title = pdf.Information.Title;
            return new ExtractedText(string.IsNullOrWhiteSpace(title) ? Titles.FromFileName(fileName) : Titles.Clip(title), sb.ToString());
        }
        catch (PdfDocumentEncryptedException e)
        {
            throw new ExtractionException("encrypted PDF (no password given)", e);
        }
        catch (Exception e) when (e is not ExtractionException and not OutOfMemoryException)
        {
            throw new ExtractionException($"corrupt PDF: {e.Message}", e);
        }
    }
}
