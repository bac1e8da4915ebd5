namespace SemanticSearch.Onnx.Tests;

internal sealed class TempDir : IDisposable
{
    public TempDir() => Directory.CreateDirectory(Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "semsearch-onnx-" + Guid.NewGuid().ToString("N")));

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

internal static class SharedData
{
    /// <summary>/work/shared, found by walking up to the folder holding SemanticSearch.sln and taking ../shared.</summary>
    public static string Root
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !System.IO.File.Exists(Path.Combine(dir.FullName, "SemanticSearch.sln"))) dir = dir.Parent;
            if (dir?.Parent is null) throw new DirectoryNotFoundException("SemanticSearch.sln not found above " + AppContext.BaseDirectory);
            return Path.Combine(dir.Parent.FullName, "shared");
        }
    }

    public static string BertVocab => Path.Combine(Root, "models", "tokenizers", "bert-base-uncased-vocab.txt");
}
