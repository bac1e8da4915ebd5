namespace SemanticSearch.Testing;

/// <summary>
/// Locates the repository root (the folder holding SemanticSearch.sln, found by walking up from the test binaries) and
/// the read-only shared data beside it (<c>../shared</c>). The one finder every test and benchmark project uses.
/// </summary>
public static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    public static string Samples => Path.Combine(Root, "samples");

    /// <summary>The test sources beside the projects (<c>tests/</c>).</summary>
    public static string Tests => Path.Combine(Root, "tests");

    public static string SampleDocs => Path.Combine(Root, "samples", "docs");

    /// <summary>The read-only shared folder beside the checkout; tests fail (not skip) without it.</summary>
    public static string Shared
    {
        get
        {
            var shared = Path.GetFullPath(Path.Combine(Root, "..", "shared"));
            if (!Directory.Exists(shared))
            {
                throw new DirectoryNotFoundException($"../shared not found beside the checkout ({shared}); it holds the evaluation datasets.");
            }
            return shared;
        }
    }

    /// <summary>A path under the shared folder, e.g. <c>SharedPath("models", "tokenizers", "bert-base-uncased-vocab.txt")</c>.</summary>
    public static string SharedPath(params string[] parts) => Path.Combine([Shared, .. parts]);

    /// <summary>The bert-base-uncased WordPiece vocabulary (30,522 entries) the seeded test encoder is built over.</summary>
    public static string BertVocabTxt => SharedPath("models", "tokenizers", "bert-base-uncased-vocab.txt");

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "SemanticSearch.sln")))
        {
            dir = dir.Parent;
        }
        return dir?.FullName ?? throw new DirectoryNotFoundException("SemanticSearch.sln not found above " + AppContext.BaseDirectory);
    }
}

