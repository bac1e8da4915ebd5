using System.Text.Json;
using SemanticSearch.Engine;
using SemanticSearch.Engine.Indexing;
using SemanticSearch.Engine.Storage;
using SemanticSearch.UseLite;

namespace SemanticSearch.Tests.Cli;

/// <summary>
/// use-lite lower-cases its input for new indexes since issue 14; an index built before, recorded without the
/// lower-casing revision, must keep opening and being embedded the way it was built.
/// </summary>
public sealed class UseLiteVariantTests
{
    [Fact]
    public async Task SearchAndIndex_IndexBuiltWithoutLowercasing_KeepItsVariant()
    {
        using var root = new TempDir();
        var modelDir = await UseLiteModel.EnsureAsync(TestModels.CacheRoot);
        var folder = Path.Combine(root.Path, "docs");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "tides.txt"), "Tide pools hold sea anemones, crabs and small fish when the ocean goes out.");
        File.WriteAllText(Path.Combine(folder, "bread.txt"), "Sourdough bread needs a starter of wild yeast fed with flour and water.");
        var indexDir = Path.Combine(root.Path, "old");
        string revision;
        using (var exact = UseLiteModel.OpenEncoder(modelDir, lowercase: false))
        using (var index = SemanticIndex.OpenOrCreate(indexDir, new IndexSettings(), exact))
        {
            new FolderIndexer(index, new IndexSettings()).Run(folder);
            revision = exact.Info.Revision;
        }
        Assert.False(UseLiteModel.IsLowercaseRevision(revision));

        var search = CliRunner.Run(root.Path, "search", "creatures left behind by the sea", "--index", indexDir, "--mode", "dense", "--json");
        File.WriteAllText(Path.Combine(folder, "more.txt"), "Hermit crabs swap shells as they grow.");
        var reindex = CliRunner.Run(root.Path, "index", folder, "--index", indexDir);

        Assert.True(search.ExitCode == 0, search.Stderr);
        using var hits = JsonDocument.Parse(search.Stdout);
        Assert.EndsWith("tides.txt", hits.RootElement.GetProperty("hits")[0].GetProperty("path").GetString());
        Assert.True(reindex.ExitCode == 0, reindex.Stderr);
        Assert.Equal(revision, IndexManifest.Read(indexDir).Model!.Revision);
    }

    [Fact]
    public void Index_NewUseLiteIndex_RecordsTheLowercasingRevision()
    {
        using var root = new TempDir();
        var folder = Path.Combine(root.Path, "docs");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "tides.txt"), "Tide pools hold sea anemones.");
        var indexDir = Path.Combine(root.Path, "new");

        var result = CliRunner.Run(root.Path, "index", folder, "--index", indexDir, "--model", "use-lite");

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.True(UseLiteModel.IsLowercaseRevision(IndexManifest.Read(indexDir).Model!.Revision));
    }
}
