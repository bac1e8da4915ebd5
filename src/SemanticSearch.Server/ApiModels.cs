using SemanticSearch.Engine.Indexing;
using SemanticSearch.Engine.Search;

namespace SemanticSearch.Server;

// The wire contract. Requests hold nullable primitives (strings for enums) so that the service, not the JSON
// binder, decides what a missing or wrong value means and names the field in its 400 answer.

/// <summary>Body of <c>POST /indexes/{name}/search</c>.</summary>
public sealed record SearchBody(
    string? Query,
    int? K = null,
    int? Offset = null,
    string? Mode = null,
    FilterBody? Filter = null,
    bool? PerChunk = null,
    FusionBody? Fusion = null,
    IReadOnlyList<string>? Spaces = null,
    bool? CollapseDuplicates = null,
    bool? RelevanceFloor = null,
    bool? Facets = null,
    IReadOnlyList<float>? Vector = null);

/// <summary>Metadata conditions of a search; a hit meets every one given.</summary>
/// <param name="PathPrefix">The full path, or the id (the path relative to the indexed folder), starts with this.</param>
/// <param name="FileTypes">The extension is one of these (".pdf", "md").</param>
/// <param name="ModifiedAfter">Modified strictly after this instant.</param>
/// <param name="Metadata">Per key, a string (that value) or an array of strings (any of them).</param>
/// <param name="ModifiedBefore">Modified strictly before this instant.</param>
public sealed record FilterBody(
    string? PathPrefix = null,
    IReadOnlyList<string>? FileTypes = null,
    DateTime? ModifiedAfter = null,
    IReadOnlyDictionary<string, System.Text.Json.JsonElement>? Metadata = null,
    DateTime? ModifiedBefore = null);

/// <summary>
/// Fusion fields of a hybrid search: the shape of a response's <c>fusion</c> (<see cref="FusionOptions"/>), every
/// field optional, so a response's <c>fusion</c> is a valid request. A field left out keeps the index's value.
/// </summary>
/// <param name="Method">rrf or convex.</param>
/// <param name="K">RRF's rank constant.</param>
/// <param name="LexicalWeight">Weight of the BM25 ranking.</param>
/// <param name="DenseWeight">Weight of the vector ranking.</param>
/// <param name="Depth">Candidates taken from each retriever.</param>
/// <param name="Weights">The earlier request shape of the two weights, still accepted; not with lexicalWeight/denseWeight.</param>
/// <param name="SpaceWeights">Weights of named vector spaces; a space not named weighs denseWeight.</param>
public sealed record FusionBody(
    string? Method = null,
    double? K = null,
    double? LexicalWeight = null,
    double? DenseWeight = null,
    int? Depth = null,
    WeightsBody? Weights = null,
    IReadOnlyDictionary<string, double>? SpaceWeights = null);

/// <summary>Per-retriever fusion weights in the earlier request shape (<c>weights: {lexical, dense}</c>).</summary>
public sealed record WeightsBody(double? Lexical = null, double? Dense = null);

/// <summary>Answer of a search.</summary>
/// <remarks>
/// Hits are the engine's <see cref="SearchHit"/>: <c>lexical</c>/<c>dense</c> are null where that retriever did not find
/// the hit, and <c>spaces</c> holds the rank and score of every vector space that did (the explanation of a fused rank).
/// <c>understood</c> says how the query's syntax was read (phrases, +required, -excluded, what was read as text);
/// <c>didYouMean</c> is the corrected query whose hits these are, when the query as typed had no lexical match.
/// <c>total</c> counts the query's hits (<see cref="SearchResponse.Total"/>: exact when <c>totalExact</c>, lexically;
/// a lower bound in dense and hybrid mode); <c>facets</c> counts them by file type, folder and source when asked.
/// Each hit carries its document's <c>metadata</c>.
/// </remarks>
public sealed record SearchResult(IReadOnlyList<SearchHit> Hits, string Mode, int K, int Offset, double TookMs, FusionOptions? Fusion, IReadOnlyList<string>? Spaces = null,
    QueryUnderstanding? Understood = null, string? DidYouMean = null, long Total = 0, bool TotalExact = false, SearchFacets? Facets = null);

/// <summary>Body of <c>PUT /indexes/{name}</c>: the models of its vector spaces (default: the server's configured model; ["none"]: BM25 only).</summary>
public sealed record CreateIndexBody(IReadOnlyList<string>? Models = null);

/// <summary>Body of <c>POST /indexes/{name}/documents</c>.</summary>
public sealed record DocumentsBody(IReadOnlyList<DocumentBody?>? Documents);

/// <summary>A document sent by a client: upserted by id.</summary>
public sealed record DocumentBody(
    string? Id,
    string? Title,
    string? Text,
    IReadOnlyDictionary<string, string>? Metadata = null,
    DateTime? ModifiedUtc = null);

/// <summary>Answer of a document upsert.</summary>
public sealed record DocumentsWritten(string Index, int Documents, int Chunks);

/// <summary>Answer of <c>POST /indexes/{name}/documents:bulk</c>.</summary>
/// <param name="Index">The index.</param>
/// <param name="Lines">Lines read (blank ones included).</param>
/// <param name="Accepted">Documents written: <paramref name="Added"/> + <paramref name="Updated"/>.</param>
/// <param name="Added">Documents whose id was new.</param>
/// <param name="Updated">Documents whose id was held with other content, re-written.</param>
/// <param name="Skipped">Documents already held with the same content (id and hash of title, text, metadata and vector), not written again.</param>
/// <param name="RejectedCount">Lines rejected in all.</param>
/// <param name="Rejected">The first 1000 rejected lines, each with its 1-based number and what is wrong with it.</param>
/// <param name="Chunks">Chunks written.</param>
/// <param name="TookMs">Time spent, in milliseconds.</param>
public sealed record BulkImported(string Index, long Lines, long Accepted, long Added, long Updated, long Skipped, long RejectedCount,
    IReadOnlyList<RejectedLine> Rejected, long Chunks, double TookMs);

/// <summary>One source of an index, as <c>GET /indexes/{name}/sources</c> lists it.</summary>
/// <param name="Name">Its name (unique in the index, case-insensitively); <c>api</c> for uploads.</param>
/// <param name="Kind"><c>folder</c>, <c>api</c> or <c>beir</c>.</param>
/// <param name="Path">The folder's full path, or null.</param>
/// <param name="IdPrefix">What its document ids start with (empty for the index's first folder and for uploads).</param>
/// <param name="Documents">Its documents in the index.</param>
/// <param name="Chunks">Their chunks.</param>
/// <param name="Bytes">Their source bytes.</param>
/// <param name="LastIndexedUtc">When it was last indexed, or null.</param>
public sealed record SourceSummary(string Name, string Kind, string? Path, string IdPrefix, long Documents, long Chunks, long Bytes, DateTime? LastIndexedUtc);

/// <summary>Body of <c>POST /indexes/{name}/jobs</c>.</summary>
public sealed record JobBody(string? Folder);

/// <summary>An entry of <c>GET /indexes</c>; <c>Error</c> is set (and counts are 0) when the manifest cannot be read.</summary>
public sealed record IndexSummary(string Name, long Documents, long Chunks, long Bytes, string? Model, DateTime UpdatedUtc, string? Error = null);

/// <summary>Answer of <c>GET /indexes/{name}</c>.</summary>
public sealed record IndexDetails(string Name, long Documents, long Chunks, long Bytes, string? Model, DateTime CreatedUtc, DateTime UpdatedUtc,
    int FormatVersion, IReadOnlyList<string> Modes, Engine.Storage.IndexManifest Manifest);

/// <summary>
/// Answer of <c>GET /indexes/{name}/documents/{id}</c>: the document as the index stores it. <c>Source</c> is the
/// indexed folder or <c>api</c>; <c>Path</c> is empty for uploaded documents; <c>Metadata</c> is what an upload gave.
/// </summary>
public sealed record DocumentDetails(
    string Id,
    string Source,
    string Path,
    string Title,
    string FileType,
    long SizeBytes,
    DateTime ModifiedUtc,
    DateTime IndexedUtc,
    int ChunkCount,
    IReadOnlyDictionary<string, string> Metadata,
    IReadOnlyList<ChunkDetails> Chunks);

/// <summary>One chunk of a document: its id, position, character offsets in the extracted text, and text.</summary>
public sealed record ChunkDetails(long Id, int Ordinal, int Start, int Length, string Text);

internal static class ApiMapping
{
    public static SourceSummary ToSummary(SourceInfo s) =>
        new(s.Name, s.Kind, s.Path, s.IdPrefix, s.Documents, s.Chunks, s.Bytes, s.LastIndexedUtc);

    public static DocumentDetails ToDetails(Metadata.DocumentRecord d, IReadOnlyList<Metadata.ChunkRecord> chunks) =>
        new(d.Id, d.Source, d.Path, d.Title, d.FileType, d.SizeBytes, d.ModifiedUtc, d.IndexedUtc, chunks.Count, d.Metadata,
            chunks.Select(c => new ChunkDetails(c.Id, c.Ordinal, c.Start, c.Length, c.Text)).ToList());

    public static SourceDocument ToSource(DocumentBody d, DateTime now)
    {
        var title = d.Title ?? string.Empty;
        var text = d.Text!;
        var bytes = System.Text.Encoding.UTF8.GetBytes(title + "\n" + text);
        var hash = Convert.ToHexStringLower(System.IO.Hashing.XxHash128.Hash(bytes));
        return new SourceDocument(d.Id!, "api", string.Empty, title, text, string.Empty,
            System.Text.Encoding.UTF8.GetByteCount(text), d.ModifiedUtc?.ToUniversalTime() ?? now, hash,
            d.Metadata ?? new Dictionary<string, string>());
    }
}
