using System.IO.Compression;
using System.Text;
using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Wordprocessing;

namespace SemanticSearch.Extraction;

/// <summary>
/// DOCX via DocumentFormat.OpenXml: body paragraphs (tables included) as lines. The zip directory is checked first:
/// a package whose parts would unpack to more than <see cref="MaxUnpackedBytes"/> or with a compression ratio above
/// <see cref="MaxCompressionRatio"/> is refused as a likely zip bomb before anything is inflated.
/// </summary>
public sealed class DocxTextExtractor : ITextExtractor
{
    /// <summary>Largest total uncompressed size accepted (256 MiB).</summary>
    public const long MaxUnpackedBytes = 256L * 1024 * 1024;

    /// <summary>Largest uncompressed/compressed ratio accepted for the package as a whole.</summary>
    public const long MaxCompressionRatio = 200;

    /// <inheritdoc />
    public IReadOnlyList<string> Extensions { get; } = [".docx"];

    /// <inheritdoc />
    public ExtractedText Extract(ReadOnlyMemory<byte> content, string fileName)
    {
        var bytes = content.ToArray();
        CheckZip(bytes);
        try
        {
            using var stream = new MemoryStream(bytes, writable: false);
            using var doc = WordprocessingDocument.Open(stream, false);
            var body = doc.MainDocumentPart?.Document?.Body
                ?? throw new ExtractionException("DOCX has no document body");
            var sb = new StringBuilder();
            string? firstHeading = null;
            foreach (var p in body.Descendants<Paragraph>())
            {
                var line = p.InnerText;
                if (string.IsNullOrWhiteSpace(line))
                {
                    continue;
                }
                var style = p.ParagraphProperties?.ParagraphStyleId?.Val?.Value;
                if (firstHeading is null && style is not null && (style.Equals("Title", StringComparison.OrdinalIgnoreCase) || style.StartsWith("Heading", StringComparison.OrdinalIgnoreCase)))
                {
                    firstHeading = line.Trim();
                }
                sb.Append(line).Append("\n\n");
            }
            var title = doc.PackageProperties.Title;
            if (string.IsNullOrWhiteSpace(title))
            {
                title = firstHeading ?? Titles.FromFileName(fileName);
            }
            return new ExtractedText(Titles.Clip(title), sb.ToString().TrimEnd());
        }
        catch (Exception e) when (e is not ExtractionException and not OutOfMemoryException)
        {
            throw new ExtractionException($"corrupt DOCX: {e.Message}", e);
        }
    }

    private static void CheckZip(byte[] bytes)
    {
        try
        {
            using var zip = new ZipArchive(new MemoryStream(bytes, writable: false), ZipArchiveMode.Read);
            long total = 0;
            foreach (var entry in zip.Entries)
            {
                total += entry.Length;
            }
            if (total > MaxUnpackedBytes || total > Math.Max(bytes.Length, 1) * MaxCompressionRatio)
            {
                throw new ExtractionException($"DOCX would unpack to {total:N0} bytes from {bytes.Length:N0} (likely a zip bomb); refused");
            }
        }
        catch (InvalidDataException e)
        {
            throw new ExtractionException($"corrupt DOCX (not a zip package): {e.Message}", e);
        }
    }
}
