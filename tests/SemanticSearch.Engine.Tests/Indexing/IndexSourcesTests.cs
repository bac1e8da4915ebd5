using SemanticSearch.Core;
using SemanticSearch.Engine;
using SemanticSearch.Engine.Indexing;
using SemanticSearch.Engine.Search;

namespace SemanticSearch.Tests.Indexing;

/// <summary>
/// Named sources in one index (issue 19): folders indexed into the same index keep their own documents, re-indexing or
/// removing one never touches another's, and an index written before sources existed keeps its ids.
/// </summary>
public sealed class IndexSourcesTests : IDisposable
{
    private static readonly IndexSettings Settings = new() { Chunking = new(MaxTokens: 32, OverlapTokens: 4) };
    private readonly TempDir _tmp = new();

    public void Dispose() => _tmp.Dispose();

    private string IndexDir => Path.Combine(_tmp.Path, "index");

    private string Folder(string name) => Path.Combine(_tmp.Path, name);

    private IndexingReport Run(string folder, string? source = null)
    {
        using var index = SemanticIndex.OpenOrCreate(IndexDir, Settings);
        return new FolderIndexer(index, Settings) { SourceName = source }.Run(folder);
    }

    private List<string> Ids()
    {
        using var index = SemanticIndex.OpenReadOnly(IndexDir);
        return index.Metadata.AllDocuments().Select(d => d.Id).Order(StringComparer.Ordinal).ToList();
    }

    private List<string> Hits(string query)
    {
        using var index = SemanticIndex.OpenReadOnly(IndexDir);
        return new Searcher(index).Search(new SearchRequest(query, K: 10)).Hits.Select(h => h.DocId).Order(StringComparer.Ordinal).ToList();
    }

    // Folders a/ and b/ that share a relative path (README.md), the case the issue reports.
    private void TwoFolders()
    {
        _tmp.File("a/README.md", "# Alpha\nthe alpha readme talks about lighthouses");
        _tmp.File("a/one.txt", "a note on sourdough starters");
        _tmp.File("b/README.md", "# Beta\nthe beta readme talks about submarines");
    }

    [Fact]
    public void Run_SecondFolderWithTheSamePaths_KeepsEveryDocumentOfBothFolders()
    {
        TwoFolders();
        Run(Folder("a"));
        var second = Run(Folder("b"));

        Assert.Equal(1, second.Added);
        Assert.Equal(0, second.Updated);
        Assert.Equal(["README.md", "b/README.md", "one.txt"], Ids());
        Assert.Equal(["README.md"], Hits("lighthouses"));
        Assert.Equal(["b/README.md"], Hits("submarines"));
        Assert.Equal(["one.txt"], Hits("sourdough"));
    }

    [Fact]
    public void Run_FolderAgainAfterDeletingOneOfItsFiles_RemovesOnlyThatDocument()
    {
        TwoFolders();
        Run(Folder("a"));
        Run(Folder("b"));
        File.Delete(Path.Combine(Folder("a"), "one.txt"));

        var again = Run(Folder("a"));

        Assert.Equal((1, 1, 0, 0), (again.Removed, again.Unchanged, again.Added, again.Updated));
        Assert.Equal(["README.md", "b/README.md"], Ids());
        Assert.Equal(["b/README.md"], Hits("submarines"));
        Assert.Equal(["README.md"], Hits("lighthouses"));
        Assert.Empty(Hits("sourdough"));
    }

    [Fact]
    public void RemoveSource_SecondFolder_RemovesItsDocumentsAndNothingElse()
    {
        TwoFolders();
        _tmp.File("b/more/deep.txt", "the beta folder also keeps notes on tide pools");
        Run(Folder("a"));
        Run(Folder("b"));
        using (var index = SemanticIndex.OpenOrCreate(IndexDir, Settings))
        {
            var generation = index.Manifest.Generation;
            var removed = index.RemoveSource("b");
            Assert.Equal((2, generation + 1), (removed.Documents, index.Manifest.Generation)); // one commit
        }

        Assert.Equal(["README.md", "one.txt"], Ids());
        Assert.Empty(Hits("submarines"));
        Assert.Empty(Hits("tide pools"));
        Assert.Equal(["README.md"], Hits("lighthouses"));
        using var reopened = SemanticIndex.OpenReadOnly(IndexDir);
        Assert.Equal(["a"], reopened.Sources().Select(s => s.Name));
        Assert.Equal(reopened.Metadata.AllChunks().Count(), reopened.Lexical.AllChunkIds().Count);
    }

    [Fact]
    public void RemoveSource_FolderWithASkippedFile_ItsSkipIsNewWhenTheFolderIsIndexedAgain()
    {
        TwoFolders();
        _tmp.File("a/empty.txt", string.Empty);
        Assert.False(Assert.Single(Run(Folder("a")).Skipped).Known);
        Assert.True(Assert.Single(Run(Folder("a")).Skipped).Known);
        using (var index = SemanticIndex.OpenOrCreate(IndexDir, Settings))
        {
            index.RemoveSource("a");
        }

        var again = Run(Folder("a"));

        Assert.Equal(2, again.Added);
        Assert.False(Assert.Single(again.Skipped).Known);
    }

    [Fact]
    public void RemoveSource_UnknownName_ThrowsNotFoundNamingTheSources()
    {
        TwoFolders();
        Run(Folder("a"));
        using var index = SemanticIndex.OpenOrCreate(IndexDir, Settings);
        var e = Assert.Throws<NotFoundException>(() => index.RemoveSource("c"));
        Assert.Contains("no source 'c' (its sources: a)", e.Message);
    }

    [Fact]
    public void Sources_TwoFoldersAndAnApiDocument_ListsEachWithItsOwnCounts()
    {
        TwoFolders();
        _tmp.File("a/two.md", "# Two\nwords about gardens and bees");
        Run(Folder("a"));
        Run(Folder("b"), source: "beta");
        using (var index = SemanticIndex.OpenOrCreate(IndexDir, Settings))
        {
            index.Write(new SourceDocument("sent-1", "api", string.Empty, "Sent", "a document sent over the api about owls", string.Empty, 40,
                DateTime.UtcNow, "h", new Dictionary<string, string>()));
            index.Commit();
        }

        using var reopened = SemanticIndex.OpenReadOnly(IndexDir);
        var sources = reopened.Stats().Sources;
        Assert.Equal(["a", "api", "beta"], sources.Select(s => s.Name));
        Assert.Equal(["folder", "api", "folder"], sources.Select(s => s.Kind));
        Assert.Equal([Folder("a"), null, Folder("b")], sources.Select(s => s.Path));
        Assert.Equal([3L, 1L, 1L], sources.Select(s => s.Documents));
        Assert.Equal(["", "", "beta/"], sources.Select(s => s.IdPrefix));
        foreach (var s in sources)
        {
            var chunks = reopened.Metadata.AllDocuments().Where(d => d.Source == s.Key).Sum(d => d.ChunkIds.Count);
            Assert.True(chunks > 0 && chunks == s.Chunks, $"{s.Name}: {s.Chunks} chunks listed, its documents have {chunks}");
            Assert.NotNull(s.LastIndexedUtc);
        }
        Assert.Equal(reopened.Stats().Chunks, sources.Sum(s => s.Chunks));
    }

    [Fact]
    public void Run_DefaultNameWhosePrefixTheFirstFolderUses_TakesTheNextName()
    {
        _tmp.File("a/b/inside.txt", "a file of folder a under its b subfolder, about comets");
        _tmp.File("b/inside.txt", "a file of folder b about volcanoes");
        Run(Folder("a"));

        var second = Run(Folder("b"));

        Assert.Equal(("b-2", "b-2/"), (second.Source, second.IdPrefix));
        Assert.Equal(["b-2/inside.txt", "b/inside.txt"], Ids());
        Assert.Equal(["b/inside.txt"], Hits("comets"));
    }

    [Fact]
    public void Run_GivenNameWhosePrefixIsTaken_RefusesBeforeWriting()
    {
        _tmp.File("a/b/inside.txt", "a file of folder a under its b subfolder");
        _tmp.File("c/inside.txt", "a file of folder c");
        Run(Folder("a"));

        var e = Assert.Throws<InvalidSettingException>(() => Run(Folder("c"), source: "b"));

        Assert.Equal("source", e.Setting);
        Assert.Contains("b/inside.txt", e.Message);
        Assert.Equal(["b/inside.txt"], Ids());
    }

    [Fact]
    public void Run_RecordedFolderUnderAnotherName_IsRefused()
    {
        TwoFolders();
        Run(Folder("a"));
        Run(Folder("b"), source: "beta");

        var rename = Assert.Throws<InvalidSettingException>(() => Run(Folder("b"), source: "other"));
        var taken = Assert.Throws<InvalidSettingException>(() => Run(Folder("a"), source: "beta"));
        var invalid = Assert.Throws<InvalidSettingException>(() => Run(Folder("a"), source: "no/slash"));

        Assert.Contains("is source 'beta'", rename.Message);
        Assert.Contains("is source 'a'", taken.Message);
        _tmp.File("c/new.txt", "a folder new to the index");
        Assert.Contains("cannot name a source", Assert.Throws<InvalidSettingException>(() => Run(Folder("c"), source: "no/slash")).Message);
        Assert.Contains("is source 'a'", invalid.Message); // a recorded folder keeps its name whatever is asked
        Assert.Equal(["README.md", "beta/README.md", "one.txt"], Ids());
    }

    [Fact]
    public void Run_FirstFolderGainsAPathAnotherSourceHolds_SkipsItAndKeepsTheOtherDocument()
    {
        TwoFolders();
        Run(Folder("a"));
        Run(Folder("b"));
        _tmp.File("a/b/README.md", "# Intruder\nfolder a now has a b subfolder about glaciers");

        var again = Run(Folder("a"));

        var skip = Assert.Single(again.Skipped);
        Assert.Equal(SkippedFile.IdTaken, skip.Kind);
        Assert.Contains("b/README.md", skip.Reason);
        Assert.Equal(["b/README.md"], Hits("submarines"));
        Assert.Empty(Hits("glaciers"));
    }

    [Fact]
    public void Run_IndexWrittenBeforeSources_KeepsItsIdsAndWritesNothingTwice()
    {
        // The old scheme, as builds before sources wrote it: ids relative to the folder, the folder's path as source,
        // and no source record.
        TwoFolders();
        var a = Folder("a");
        var files = new[] { "README.md", "one.txt" };
        using (var index = SemanticIndex.OpenOrCreate(IndexDir, Settings))
        {
            foreach (var f in files)
            {
                var path = Path.Combine(a, f);
                var text = File.ReadAllText(path);
                index.Write(new SourceDocument(f, a, path, f, text, Path.GetExtension(f), text.Length, File.GetLastWriteTimeUtc(path), "old-" + f,
                    new Dictionary<string, string>()));
            }
            index.Commit();
        }
        using (var legacy = SemanticIndex.OpenReadOnly(IndexDir))
        {
            var listed = Assert.Single(legacy.Sources());
            Assert.Equal(("a", "folder", a, 2L), (listed.Name, listed.Kind, listed.Path, listed.Documents));
        }

        var second = Run(Folder("b"));
        var again = Run(a);

        Assert.Equal("b/", second.IdPrefix);
        Assert.Equal(("a", "", 0, 2, 0), (again.Source, again.IdPrefix, again.Added, again.Updated, again.Removed));
        Assert.Equal(["README.md", "b/README.md", "one.txt"], Ids());
        var third = Run(a);
        Assert.Equal(2, third.Unchanged);
    }
}
