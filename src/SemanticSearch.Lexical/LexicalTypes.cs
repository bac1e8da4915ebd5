// The lexical store's public vocabulary: its options, what it stores for a chunk, filters, hits, and the error a
// reader gets when a writer deleted the commit it asked for.
using SemanticSearch.Core;

namespace SemanticSearch.Lexical;

/// <summary>BM25 parameters and analysis of the lexical index (recorded in the index manifest).</summary>
/// <param name="K1">Term-frequency saturation.</param>
/// <param name="B">Length normalisation.</param>
/// <param name="Analyzer">Analysis chain; only <c>english</c> (Porter-stemmed, stop words removed) is built in.</param>
public sealed record LexicalOptions(float K1 = 0.9f, float B = 0.4f, string Analyzer = "english")
{
    /// <summary>Throws <see cref="InvalidSettingException"/> naming the bad setting.</summary>
    public void Validate()
    {
        if (!(K1 >= 0 && K1 <= 10))
        {
            throw new InvalidSettingException("lexical.k1", $"must be between 0 and 10 (got {K1}).");
        }
        if (!(B >= 0 && B <= 1))
        {
            throw new InvalidSettingException("lexical.b", $"must be between 0 and 1 (got {B}).");
        }
        if (Analyzer != "english")
        {
            throw new InvalidSettingException("lexical.analyzer", $"unknown analyzer '{Analyzer}' (known: english).");
        }
    }
}

/// <summary>A chunk as the lexical index stores it: searchable text plus the fields that filters test.</summary>
public sealed record LexicalChunk(
    long ChunkId,
    string DocumentId,
    string Title,
    string Text,
    string Path,
    string FileType,
    DateTime ModifiedUtc,
    IReadOnlyDictionary<string, string> Metadata)
{
    /// <summary>
    /// The hash of the whole document's text (null when it has none): documents with the same text are found by it
    /// (<see cref="LexicalIndex.DocumentIdsWithTextHashes"/>).
    /// </summary>
    public string? TextHash { get; init; }
}

/// <summary>Restricts results to chunks whose document matches every given condition.</summary>
/// <param name="PathPrefix">The document's full path, or its id (the path relative to the indexed folder, with '/'), starts with this.</param>
/// <param name="FileTypes">The extension is one of these.</param>
/// <param name="ModifiedAfterUtc">Modified strictly after this instant.</param>
/// <param name="Metadata">Every key has exactly this value.</param>
/// <param name="ModifiedBeforeUtc">Modified strictly before this instant.</param>
/// <param name="MetadataAnyOf">Every key has one of its listed values (an OR list per key; keys AND together).</param>
public sealed record LexicalFilter(
    string? PathPrefix = null,
    IReadOnlyList<string>? FileTypes = null,
    DateTime? ModifiedAfterUtc = null,
    IReadOnlyDictionary<string, string>? Metadata = null,
    DateTime? ModifiedBeforeUtc = null,
    IReadOnlyDictionary<string, IReadOnlyList<string>>? MetadataAnyOf = null)
{
    /// <summary>A boolean condition on the metadata, ANDed with the fields above; null: none.</summary>
    public SemanticSearch.Core.Filtering.MetadataCondition? Where { get; init; }
}

/// <summary>A lexical match: chunk id, its document and its BM25 score.</summary>
public readonly record struct LexicalHit(long ChunkId, string DocumentId, float Score);

/// <summary>A document-level lexical match: the document and its whole-document BM25 score.</summary>
public readonly record struct LexicalDocumentHit(string DocumentId, float Score);

/// <summary>A read-only open asked for a commit that a writer has since deleted; re-read the manifest and open again.</summary>
public sealed class StaleGenerationException : SemanticSearchException
{
    /// <summary>Creates the exception for <paramref name="path"/> and the generation that was asked for.</summary>
    public StaleGenerationException(string path, long generation)
        : base($"{path}: the commit of generation {generation} is gone (a writer committed since); open again") => Generation = generation;

    /// <summary>Creates the exception for <paramref name="path"/> with the error that showed the commit is gone.</summary>
    public StaleGenerationException(string path, long generation, Exception inner)
        : base($"{path}: the commit of generation {generation} is gone (a writer committed since); open again", inner) => Generation = generation;

    /// <summary>The generation that was asked for.</summary>
    public long Generation { get; }
}
