namespace SemanticSearch.Extraction;

/// <summary>
/// Plain text, Markdown and CSV: decoded as text. A Markdown title is its first heading; a plain-text title is its
/// first line when that line is short and followed by a blank line (the way people write a heading in a .txt file).
/// </summary>
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
        else if (ext == ".txt" && Titles.HeadingLine(text) is { } line)
        {
            title = line;
        }
        return new ExtractedText(title, text);
    }
}
