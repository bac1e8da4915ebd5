using SemanticSearch.Core.Text;

namespace SemanticSearch.Engine.Indexing;

/// <summary>A document ready to be chunked and written: text already extracted.</summary>
/// <param name="Id">Stable id (relative path for folder files, client id for API documents, corpus id for BEIR).</param>
/// <param name="Source">The folder or channel it came from; deletions of vanished files are scoped to it.</param>
/// <param name="Path">Full path of the file, or empty.</param>
/// <param name="Title">Title.</param>
/// <param name="Text">Extracted body text.</param>
/// <param name="FileType">Lower-case extension with the dot, or empty.</param>
/// <param name="SizeBytes">Source size in bytes.</param>
/// <param name="ModifiedUtc">Source modification time.</param>
/// <param name="ContentHash">Hash of the source bytes.</param>
/// <param name="Metadata">Custom key/values.</param>
public sealed record SourceDocument(
    string Id,
    string Source,
    string Path,
    string Title,
    string Text,
    string FileType,
    long SizeBytes,
    DateTime ModifiedUtc,
    string ContentHash,
    IReadOnlyDictionary<string, string> Metadata)
{
    /// <summary>Where the text's pages and headings begin (what the extractor found; empty for API and BEIR documents).</summary>
    public DocumentOutline Outline { get; init; } = DocumentOutline.Empty;
}
