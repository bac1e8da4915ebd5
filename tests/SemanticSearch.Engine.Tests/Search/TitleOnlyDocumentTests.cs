using SemanticSearch.Engine;
using SemanticSearch.Engine.Indexing;
using SemanticSearch.Engine.Search;
using SemanticSearch.Engine.Storage;
using static SemanticSearch.Tests.Search.DocumentBm25Tests;

namespace SemanticSearch.Tests.Search;

/// <summary>
/// A document whose text is empty but whose title is not (half of some BEIR collections; an HTML page with only a
/// title) gets one chunk, its title, and is found lexically and densely; a file whose only "title" is its file name
/// still has no text.
/// </summary>
public sealed class TitleOnlyDocumentTests
{
    [Fact]
    public void Write_TitleOnlyDocument_FindableLexicallyAndDensely()
    {
        using var root = new TempDir();
        using var encoder = TestModels.OpenTestBert();
        var dir = Path.Combine(root.Path, "idx");
        using (var index = SemanticIndex.OpenOrCreate(dir, SmallChunks, encoder))
        {
            index.BeginBatch();
            foreach (var (id, title, text) in Corpus)
            {
                index.Write(Doc(id, title, text));
            }
            Assert.Equal(1, index.Write(Doc("t1", "Quokka census of Rottnest island", "")));
            index.Commit();
        }
        using var read = SemanticIndex.OpenReadOnly(dir, _ => encoder);
        var searcher = new Searcher(read);
        var lexical = searcher.Search(new SearchRequest("quokka census", K: 3)).Hits;
        Assert.Equal("t1", lexical[0].DocId);
        Assert.Equal("Quokka census of Rottnest island", lexical[0].Snippet);
        var dense = searcher.Search(new SearchRequest("Quokka census of Rottnest island", K: 3, Mode: SearchMode.Dense)).Hits;
        Assert.Equal("t1", dense[0].DocId);
        Assert.True(IndexVerifier.Verify(dir).Clean);
    }

    [Fact]
    public void Write_TitleOnlyDocument_ScoresItsTitleOnce()
    {
        // The title chunk is indexed as the title alone, so its chunk-level score equals its document-level score.
        using var root = new TempDir();
        using var index = SemanticIndex.OpenOrCreate(Path.Combine(root.Path, "idx"), SmallChunks);
        index.BeginBatch();
        index.Write(Doc("t1", "zebra crossing", ""));
        index.Write(Doc("t2", "lion", "a lion sleeps"));
        index.Commit();
        var document = Assert.Single(index.Lexical.SearchDocuments("zebra", 10));
        var chunk = Assert.Single(index.Lexical.Search("zebra", 10));
        Assert.Equal(document.Score, chunk.Score, 5);
    }

    [Fact]
    public void Chunk_FileWhoseOnlyTitleIsItsFileName_HasNoChunks()
    {
        using var root = new TempDir();
        using var index = SemanticIndex.OpenOrCreate(Path.Combine(root.Path, "idx"), SmallChunks);
        Assert.Empty(index.Chunk(Doc("w", "whitespace", " \n ", path: "/x/whitespace.md", type: ".md")));
        Assert.Single(index.Chunk(Doc("h", "Quokka census", " ", path: "/x/page.html", type: ".html")));
    }

    [Fact]
    public void Run_HtmlFileWithOnlyATitle_IsIndexedAndFound()
    {
        using var root = new TempDir();
        var folder = Path.Combine(root.Path, "files");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "page.html"), "<html><head><title>Quokka census</title></head><body> </body></html>");
        File.WriteAllText(Path.Combine(folder, "other.txt"), "Nothing about marsupials here.");
        using var index = SemanticIndex.OpenOrCreate(Path.Combine(root.Path, "idx"), SmallChunks);
        var report = new FolderIndexer(index, SmallChunks).Run(folder);
        Assert.Empty(report.Skipped);
        Assert.Equal("page.html", new Searcher(index).Search(new SearchRequest("quokka")).Hits[0].DocId);
    }
}
