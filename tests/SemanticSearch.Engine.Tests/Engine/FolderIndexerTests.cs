using SemanticSearch.Core;
using SemanticSearch.Engine;
using SemanticSearch.Engine.Indexing;
using SemanticSearch.Engine.Search;

namespace SemanticSearch.Tests.Engine;

public sealed class FolderIndexerTests
{
    private static readonly IndexSettings Settings = new() { Chunking = new(MaxTokens: 32, OverlapTokens: 4) };

    private static IndexingReport Run(string indexDir, string folder, IndexSettings? settings = null)
    {
        using var index = SemanticIndex.OpenOrCreate(indexDir, settings ?? Settings);
        return new FolderIndexer(index, settings ?? Settings).Run(folder);
    }

    private static void AssertStoresAgree(string indexDir)
    {
        using var index = SemanticIndex.OpenReadOnly(indexDir);
        var lexical = index.Lexical.AllChunkIds().Order().ToList();
        var metadata = index.Metadata.AllChunks().Select(c => c.Id).Order().ToList();
        var fromDocs = index.Metadata.AllDocuments().SelectMany(d => d.ChunkIds).Order().ToList();
        Assert.Equal(metadata, lexical);
        Assert.Equal(metadata, fromDocs);
        Assert.Equal(index.Manifest.Counts.Chunks, metadata.Count);
    }

    [Fact]
    public void Run_Samples_IndexesEverySupportedFileAndStoresAgree()
    {
        using var dir = new TempDir();
        var report = Run(dir.Path, RepoPaths.SampleDocs);
        var expected = Directory.GetFiles(RepoPaths.SampleDocs, "*", SearchOption.AllDirectories).Length;
        Assert.Equal(expected, report.FilesSeen);
        Assert.Equal(expected, report.Added);
        Assert.Empty(report.Skipped);
        AssertStoresAgree(dir.Path);
    }

    [Fact]
    public void Run_Twice_SecondRunChangesNothing()
    {
        using var dir = new TempDir();
        var first = Run(dir.Path, RepoPaths.SampleDocs);
        List<long> idsBefore;
        using (var index = SemanticIndex.OpenReadOnly(dir.Path))
        {
            idsBefore = index.Metadata.AllChunks().Select(c => c.Id).ToList();
        }
        var second = Run(dir.Path, RepoPaths.SampleDocs);
        Assert.Equal(first.FilesSeen, second.Unchanged);
        Assert.Equal(0, second.Added + second.Updated + second.Removed);
        Assert.Equal(0, second.ChunksWritten);
        using var reopened = SemanticIndex.OpenReadOnly(dir.Path);
        Assert.Equal(idsBefore, reopened.Metadata.AllChunks().Select(c => c.Id).ToList());
    }

    [Fact]
    public void Run_ChangedAndDeletedFiles_AreReplacedAndRemoved()
    {
        using var src = new TempDir();
        using var dir = new TempDir();
        src.File("keep.txt", "the lighthouse keeper lit the lamp");
        src.File("change.txt", "original words about gardens");
        src.File("sub/remove.md", "# Gone\nthis file will disappear");
        Run(dir.Path, src.Path);

        src.File("change.txt", "replacement words about submarines");
        File.Delete(Path.Combine(src.Path, "sub", "remove.md"));
        var report = Run(dir.Path, src.Path);
        Assert.Equal((1, 1, 1, 0), (report.Unchanged, report.Updated, report.Removed, report.Added));
        AssertStoresAgree(dir.Path);

        using var index = SemanticIndex.OpenReadOnly(dir.Path);
        var searcher = new Searcher(index);
        Assert.Empty(searcher.Search(new SearchRequest("gardens")).Hits);
        Assert.Equal("change.txt", Assert.Single(searcher.Search(new SearchRequest("submarines")).Hits).DocId);
        Assert.Empty(searcher.Search(new SearchRequest("disappear")).Hits);
        Assert.Null(index.GetDocument("sub/remove.md"));
    }

    [Fact]
    public void Run_BadFiles_AreSkippedWithReasonsAndTheRestIndexed()
    {
        using var src = new TempDir();
        using var dir = new TempDir();
        src.File("good.txt", "perfectly ordinary text");
        src.File("empty.txt", string.Empty);
        src.Bytes("fake.txt", [0x7F, (byte)'E', (byte)'L', (byte)'F', 0, 0, 1, 2, 0, 0]);
        src.Bytes("broken.pdf", System.Text.Encoding.ASCII.GetBytes("%PDF-1.7\n1 0 obj << /Type /Catalog >> garbage"));
        src.File("big.txt", new string('a', 3000) + " words");
        src.File("ignored.bin", "not a document type");
        src.File(".hidden/secret.txt", "hidden folders are not indexed");

        var settings = Settings with { MaxFileBytes = 2000 };
        var report = Run(dir.Path, src.Path, settings);
        Assert.Equal(1, report.Added);
        var reasons = report.Skipped.ToDictionary(s => Path.GetFileName(s.Path), s => s.Reason);
        Assert.Equal(["big.txt", "broken.pdf", "empty.txt", "fake.txt"], reasons.Keys.Order());
        Assert.Contains("empty", reasons["empty.txt"]);
        Assert.Contains("binary", reasons["fake.txt"]);
        Assert.Contains("PDF", reasons["broken.pdf"]);
        Assert.Contains("maxFileBytes", reasons["big.txt"]);
        AssertStoresAgree(dir.Path);
    }

    [Fact]
    public void Run_MissingFolder_ThrowsNotFoundNamingIt()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<NotFoundException>(() => Run(dir.Path, "/definitely/not/here"));
        Assert.Contains("/definitely/not/here", e.Message);
    }

    [Fact]
    public void Search_ManyChunksPerDocument_ShowsBestChunkAndPagesStably()
    {
        using var src = new TempDir();
        using var dir = new TempDir();
        for (var d = 0; d < 12; d++)
        {
            // every document has several chunks that mention the query word a different number of times
            var paragraphs = Enumerable.Range(0, 5).Select(p => string.Join(' ', Enumerable.Repeat("filler", 20)) + " " + string.Join(' ', Enumerable.Repeat("nebula", 1 + ((d + p) % 4))) + ".");
            // the document's number keeps the twelve texts distinct (identical texts would collapse into one hit)
            src.File($"d{d:D2}.txt", $"Document {d}.\n\n" + string.Join("\n\n", paragraphs));
        }
        Run(dir.Path, src.Path);
        using var index = SemanticIndex.OpenReadOnly(dir.Path);
        var searcher = new Searcher(index);
        var all = searcher.Search(new SearchRequest("nebula", K: 12)).Hits;
        Assert.Equal(12, all.Count);
        Assert.Equal(12, all.Select(h => h.DocId).Distinct().Count());
        var pages = Enumerable.Range(0, 4).SelectMany(p => searcher.Search(new SearchRequest("nebula", K: 3, Offset: p * 3)).Hits).ToList();
        Assert.Equal(all.Select(h => h.DocId), pages.Select(h => h.DocId));

        var perChunk = searcher.Search(new SearchRequest("nebula", K: 30, PerChunk: true)).Hits;
        Assert.True(perChunk.Select(h => h.DocId).Distinct().Count() < perChunk.Count, "per-chunk results repeat documents");
        // a document hit is ranked by whole-document BM25 and shows its best-scoring chunk
        foreach (var hit in all)
        {
            var best = perChunk.Where(h => h.DocId == hit.DocId).Max(h => h.Score);
            var shown = Assert.Single(perChunk, h => h.ChunkId == hit.ChunkId);
            Assert.Equal(best, shown.Score, 5);
        }
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(1001, 0)]
    [InlineData(10, -1)]
    public void Search_BadPaging_ThrowsNamingTheField(int k, int offset)
    {
        using var dir = new TempDir();
        Run(dir.Path, RepoPaths.SampleDocs);
        using var index = SemanticIndex.OpenReadOnly(dir.Path);
        var e = Assert.Throws<InvalidSettingException>(() => new Searcher(index).Search(new SearchRequest("x", k, offset)));
        Assert.Contains(e.Setting, new[] { "k", "offset" });
    }
}
