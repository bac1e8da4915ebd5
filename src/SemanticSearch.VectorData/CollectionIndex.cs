using SemanticSearch.Core.Encoding;
using SemanticSearch.Engine;
using SemanticSearch.Engine.Search;
using SemanticSearch.Engine.Storage;

namespace SemanticSearch.VectorData;

/// <summary>
/// One collection's index, opened once per store and shared by every collection object of that name: the engine takes
/// one writer per index, and searches run beside it on the same instance. Writes go one at a time through <see cref="Gate"/>.
/// </summary>
internal sealed class CollectionIndex : IDisposable
{
    public CollectionIndex(SemanticIndex index, ITextEncoder? encoder)
    {
        Index = index;
        Encoder = encoder;
        Searcher = new Searcher(index);
    }

    public SemanticIndex Index { get; }

    public Searcher Searcher { get; }

    /// <summary>The model of the index's one vector space (null: lexical only).</summary>
    public ITextEncoder? Encoder { get; }

    public SemaphoreSlim Gate { get; } = new(1, 1);

    public bool CanEmbedText => Encoder is not null and not GivenVectorsEncoder;

    public void Dispose()
    {
        Index.Dispose();
        Encoder?.Dispose();
        Gate.Dispose();
    }

    /// <summary>The model recorded by an existing index, if it has one.</summary>
    public static EncoderInfo? RecordedModel(string directory) =>
        File.Exists(Path.Combine(directory, IndexManifest.FileName)) && IndexManifest.Read(directory).Spaces is [var first, ..] ? first.Model : null;

    public static bool Exists(string directory) => File.Exists(Path.Combine(directory, IndexManifest.FileName));
}

/// <summary>An index to read from, disposed after the read only when it was opened for that read alone.</summary>
internal readonly struct ReadLease(CollectionIndex? index, bool transient) : IDisposable
{
    public CollectionIndex? Index { get; } = index;

    public void Dispose()
    {
        if (transient)
        {
            Index?.Dispose();
        }
    }
}
