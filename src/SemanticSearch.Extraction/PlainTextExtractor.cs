using SemanticSearch.Core.Text;

namespace SemanticSearch.Extraction;

/// <summary>
/// Plain text, reStructuredText, Markdown and CSV: decoded as text (see <see cref="TextEncodingChoice"/>). A Markdown
/// title is its first heading; a plain-text or reST title is its adorned (underlined) section title, else — plain
/// text only — its first line when that line is short and followed by a blank line (the way people write a heading in
/// a .txt file). reST directives, labels and comments are never titles. A Markdown file's outline is its headings
/// (<see cref="MarkdownOutline"/>).
/// </summary>
public sealed class PlainTextExtractor : ITextExtractor
{
    /// <inheritdoc />
    public IReadOnlyList<string> Extensions { get; } = [".txt", ".rst", ".md", ".markdown", ".csv", ".tsv"];

    /// <inheritdoc />
    public ExtractedText Extract(ReadOnlyMemory<byte> content, string fileName)
    {
        var text = TextDecoding.Decode(content.Span, out var encoding);
        var title = Titles.FromFileName(fileName);
        var ext = Path.GetExtension(fileName).ToLowerInvariant();
        var outline = DocumentOutline.Empty;
        if (ext is ".md" or ".markdown")
        {
            outline = new DocumentOutline([], MarkdownOutline.Headings(text));
            if (Titles.FirstMarkdownHeading(text) is { } heading)
            {
                title = heading;
            }
        }
        else if (ext is ".txt" or ".rst" && Titles.PlainTextTitle(text, restructuredText: ext == ".rst") is { } line)
        {
            title = line;
        }
        return new ExtractedText(title, text) { Encoding = encoding, Outline = outline };
    }
}
