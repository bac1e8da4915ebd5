using SemanticSearch.Core;
using SemanticSearch.Core.Text;

namespace SemanticSearch.Extraction;

/// <summary>The plain text of a source file and the title found in it.</summary>
/// <param name="Title">The document's own title (metadata, heading), else the file name without extension.</param>
/// <param name="Text">The body text, with paragraphs separated by blank lines.</param>
public sealed record ExtractedText(string Title, string Text)
{
    /// <summary>How a text format's bytes were decoded (txt, md, csv, json, html, rst); null for formats with their own encoding (pdf, docx).</summary>
    public TextEncodingChoice? Encoding { get; init; }

    /// <summary>Where the text's pages (PDF) and headings (HTML, Markdown) begin; empty for formats without them.</summary>
    public DocumentOutline Outline { get; init; } = DocumentOutline.Empty;
}

/// <summary>A file could not be turned into text: corrupt, encrypted, binary in disguise, or too large when unpacked.</summary>
public sealed class ExtractionException : SemanticSearchException
{
    public ExtractionException(string message) : base(message) { }
    public ExtractionException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>Turns the bytes of one file format into text.</summary>
public interface ITextExtractor
{
    /// <summary>File extensions handled, lower case with the dot (".pdf").</summary>
    IReadOnlyList<string> Extensions { get; }

    /// <summary>Extracts text from <paramref name="content"/>; <paramref name="fileName"/> supplies a fallback title.</summary>
    /// <exception cref="ExtractionException">The content is not a readable file of this format.</exception>
    ExtractedText Extract(ReadOnlyMemory<byte> content, string fileName);
}
