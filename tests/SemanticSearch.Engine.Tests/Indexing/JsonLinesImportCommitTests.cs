using System.Text;
using SemanticSearch.Core.Encoding;
using SemanticSearch.Engine;
using SemanticSearch.Engine.Indexing;
using SemanticSearch.Engine.Storage;

namespace SemanticSearch.Tests.Indexing;

/// <summary>
/// When a bulk import commits: every CommitEveryDocuments written documents, and once at the end for what is left,
/// never an empty commit after the last full batch (at a million chunks each commit costs seconds).
/// </summary>
public sealed class JsonLinesImportCommitTests : IDisposable
{
    private readonly ITextEncoder _encoder = TestModels.OpenTestBert();

    public void Dispose() => _encoder.Dispose();

    [Theory]
    [InlineData(10, 2)] // two full batches: the input ends right after the second commit
    [InlineData(12, 3)] // two full batches and a partial one
    [InlineData(4, 1)]
    public void Run_LinesAgainstACommitEvery5_OneCommitPerBatchStarted(int lines, int commits)
    {
        using var root = new TempDir();
        var dir = Path.Combine(root.Path, "idx");
        var settings = new IndexSettings { CommitEveryDocuments = 5 };
        long before;
        using (var index = SemanticIndex.OpenOrCreate(dir, settings, _encoder))
        {
            before = IndexManifest.Read(dir).Generation;
            var report = new JsonLinesImport(index, settings).Run(Lines(0, lines));
            Assert.Equal(lines, report.Added);
            Assert.Equal(commits, report.Commits);
        }
        // what the manifest records, apart from what the importer counted: one generation per commit
        Assert.Equal(before + commits, IndexManifest.Read(dir).Generation);
        using var reopened = SemanticIndex.OpenOrCreate(dir, settings, _encoder);
        Assert.Equal(lines, reopened.Stats().Documents);
    }

    [Fact]
    public void Run_NothingToWrite_StillEndsInOneCommit()
    {
        using var root = new TempDir();
        var dir = Path.Combine(root.Path, "idx");
        var settings = new IndexSettings { CommitEveryDocuments = 5 };
        using var index = SemanticIndex.OpenOrCreate(dir, settings, _encoder);
        new JsonLinesImport(index, settings).Run(Lines(0, 3));
        var again = new JsonLinesImport(index, settings).Run(Lines(0, 3));
        Assert.Equal(3, again.Unchanged);
        Assert.Equal(1, again.Commits);
        Assert.Equal(3, index.Stats().Documents);
    }

    private static MemoryStream Lines(int from, int count)
    {
        var text = new StringBuilder();
        for (var i = from; i < from + count; i++)
        {
            text.Append($$"""{"id":"doc{{i}}","title":"Document {{i}}","text":"Document {{i}} is about river {{i % 7}} and honey {{i % 5}}."}""").Append('\n');
        }
        return new MemoryStream(Encoding.UTF8.GetBytes(text.ToString()));
    }
}
