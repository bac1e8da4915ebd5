namespace SemanticSearch.Embeddings.Tests;

/// <summary>Locates the repository and the read-only shared data next to it.</summary>
internal static class TestPaths
{
    public static string RepositoryRoot { get; } = FindRoot();

    public static string Shared => Path.GetFullPath(Path.Combine(RepositoryRoot, "..", "shared"));

    public static string TokenizerJson => Path.Combine(Shared, "models", "tokenizers", "e5-small-v2-tokenizer.json");

    public static string VocabTxt => Path.Combine(Shared, "models", "tokenizers", "bert-base-uncased-vocab.txt");

    public static string SciFactCorpus => Path.Combine(Shared, "datasets", "scifact", "corpus.jsonl");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "SemanticSearch.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"no SemanticSearch.sln above {AppContext.BaseDirectory}");
    }
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
