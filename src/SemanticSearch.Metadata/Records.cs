using SemanticSearch.Core.Text;

namespace SemanticSearch.Metadata;

/// <summary>One source document as the index knows it.</summary>
/// <param name="Id">Stable document id: the path relative to the indexed folder, or the id a client gave.</param>
/// <param name="Source">Where it came from: the indexed folder's full path, or <c>api</c>/<c>beir:&lt;name&gt;</c>.</param>
/// <param name="Path">Full path of the file, or empty for documents sent over the API.</param>
/// <param name="Title">Title found in the document.</param>
/// <param name="FileType">Lower-case extension with the dot, or empty.</param>
/// <param name="SizeBytes">Size of the source in bytes.</param>
/// <param name="ModifiedUtc">Last write time of the source.</param>
/// <param name="ContentHash">Hash of the source bytes (hex), used to skip unchanged documents.</param>
/// <param name="IndexedUtc">When this version was written.</param>
/// <param name="ChunkIds">Ids of the document's chunks, in order.</param>
/// <param name="Metadata">Custom key/values given at ingestion.</param>
public sealed record DocumentRecord(
    string Id,
    string Source,
    string Path,
    string Title,
    string FileType,
    long SizeBytes,
    DateTime ModifiedUtc,
    string ContentHash,
    DateTime IndexedUtc,
    IReadOnlyList<long> ChunkIds,
    IReadOnlyDictionary<string, string> Metadata)
{
    /// <summary>
    /// SHA-256 (hex) of the extracted text: documents with the same one are duplicates, collapsed into one hit. Null
    /// when the text is empty (title-only documents are never duplicates of each other) or the document was written
    /// before text hashes were kept (its duplicates are collapsed once it is indexed again).
    /// </summary>
    public string? TextHash { get; init; }

    /// <summary>
    /// Where the extracted text's pages (PDF) and headings (HTML, Markdown) begin, so a hit can name its page and
    /// section; null when the format has neither or the document was written before outlines were kept.
    /// </summary>
    public DocumentOutline? Outline { get; init; }
}

/// <summary>One chunk of a document: the unit that is retrieved.</summary>
/// <param name="Id">Chunk id, unique within the index and never reused.</param>
/// <param name="DocumentId">The owning document.</param>
/// <param name="Ordinal">Position within the document, from 0.</param>
/// <param name="Start">Character offset of the chunk in the extracted text.</param>
/// <param name="Length">Character length of the chunk.</param>
/// <param name="Text">The chunk text.</param>
public sealed record ChunkRecord(long Id, string DocumentId, int Ordinal, int Start, int Length, string Text);

/// <summary>Totals over the metadata store.</summary>
public sealed record MetadataCounts(long Documents, long Chunks, long Bytes);

/// <summary>
/// A named source of documents, as the index records it: a folder (its documents carry the folder's full path as
/// their <see cref="DocumentRecord.Source"/>) and the prefix its document ids carry.
/// </summary>
/// <param name="Name">The source's name, unique in the index (case-insensitively).</param>
/// <param name="Kind">What it is: <c>folder</c>.</param>
/// <param name="Key">The <see cref="DocumentRecord.Source"/> value of its documents (a folder's full path).</param>
/// <param name="IdPrefix">What its document ids start with before the path relative to the folder: empty, or the name and a slash.</param>
/// <param name="CreatedUtc">When it was first indexed into this index.</param>
/// <param name="IndexedUtc">When its last indexing job finished, or null before the first one did.</param>
public sealed record SourceRecord(string Name, string Kind, string Key, string IdPrefix, DateTime CreatedUtc, DateTime? IndexedUtc);

/// <summary>Totals over the documents of one <see cref="DocumentRecord.Source"/> value.</summary>
/// <param name="Documents">Documents stored.</param>
/// <param name="Chunks">Their chunks.</param>
/// <param name="Bytes">Their source bytes.</param>
/// <param name="LastIndexedUtc">When the most recent of them was written.</param>
public sealed record SourceTotals(long Documents, long Chunks, long Bytes, DateTime LastIndexedUtc);
