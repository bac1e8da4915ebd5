namespace SemanticSearch.Embeddings.Tests;

/// <summary>The shared files these tests read, under <see cref="RepoPaths"/>.</summary>
internal static class TestPaths
{
    public static string RepositoryRoot => RepoPaths.Root;

    public static string Shared => RepoPaths.Shared;

    public static string TokenizerJson => Path.Combine(Shared, "models", "tokenizers", "e5-small-v2-tokenizer.json");

    public static string VocabTxt => Path.Combine(Shared, "models", "tokenizers", "bert-base-uncased-vocab.txt");

    public static string SciFactCorpus => Path.Combine(Shared, "datasets", "scifact", "corpus.jsonl");
}

/// <summary>A temporary directory deleted on dispose.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "semsearch-emb-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
