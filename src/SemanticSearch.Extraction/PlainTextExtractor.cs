namespace SemanticSearch.Extraction;

/// <summary>Plain text, Markdown and CSV: decoded as text; a Markdown title is its first heading.</summary>
public sealed class PlainTextExtractor : ITextExtractor
{
    /// <inheritdoc />
    public IReadOnlyList<string> Extensions { get; } = [".txt", ".md", ".markdown", ".csv", ".tsv"];

    /// <inheritdoc />
    public ExtractedText Extract(ReadOnlyMemory<byte> content, string fileName)
    {
        var text = TextDecoding.Decode(content.Span);
        var title = Titles.FromFileName(fileName);
        var ext = Path.GetExtension(fileName).ToLowerInvariant();
        if (ext is ".md" or ".markdown" && Titles.FirstMarkdownHeading(text) is { } heading)
        {
            title = heading;
        }
        return new ExtractedText(title, text);
    }
}
