using System.Text;
using UglyToad.PdfPig;
using UglyToad.PdfPig.Exceptions;

namespace SemanticSearch.Extraction;

/// <summary>PDF via PdfPig: page text in reading order, pages separated by blank lines; title from the info dictionary.</summary>
public sealed class PdfTextExtractor : ITextExtractor
{
    /// <inheritdoc />
    public IReadOnlyList<string> Extensions { get; } = [".pdf"];

    /// <inheritdoc />
    public ExtractedText Extract(ReadOnlyMemory<byte> content, string fileName)
    {
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
