namespace SemanticSearch.Extraction;

/// <summary>Chooses the extractor for a file by its extension; the set of supported types is the union of theirs.</summary>
public sealed class DocumentExtractor
{
    private readonly Dictionary<string, ITextExtractor> _byExtension = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>An extractor for every built-in format: txt, md, csv, tsv, json, html, pdf, docx.</summary>
    public DocumentExtractor()
        : this([new PlainTextExtractor(), new JsonTextExtractor(), new HtmlTextExtractor(), new PdfTextExtractor(), new DocxTextExtractor()])
    {
    }

    /// <summary>An extractor over the given format extractors (later ones win on a shared extension).</summary>
    public DocumentExtractor(IEnumerable<ITextExtractor> extractors)
    {
        foreach (var e in extractors)
        {
            foreach (var ext in e.Extensions)
            {
                _byExtension[ext] = e;
            }
        }
    }

    /// <summary>The supported extensions, lower case with the dot.</summary>
    public IReadOnlyCollection<string> Extensions => _byExtension.Keys;

    /// <summary>Whether a file of this name would be extracted (otherwise it is not a document and is ignored).</summary>
    public bool Supports(string path) => _byExtension.ContainsKey(Path.GetExtension(path));

    /// <summary>Extracts text from <paramref name="content"/> of the file <paramref name="fileName"/>.</summary>
    /// <exception cref="ExtractionException">Unsupported type, or unreadable content.</exception>
    public ExtractedText Extract(ReadOnlyMemory<byte> content, string fileName)
    {
        if (!_byExtension.TryGetValue(Path.GetExtension(fileName), out var extractor))
        {
            throw new ExtractionException($"unsupported file type '{Path.GetExtension(fileName)}'");
        }
        return extractor.Extract(content, fileName);
    }
}
