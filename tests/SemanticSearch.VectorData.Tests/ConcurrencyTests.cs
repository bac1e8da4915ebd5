using Microsoft.Extensions.VectorData;
using SemanticSearch.Engine.Storage;

namespace SemanticSearch.VectorData.Tests;

/// <summary>Writers and readers side by side: in one store, and two stores (as two processes would) on one root.</summary>
public sealed class ConcurrencyTests
{
    private static Note NoteOf(int i) => new()
    {
        Id = new Guid(i + 1, 7, 7, new byte[8]),
        Text = $"note {i} about {(i % 2 == 0 ? "otters" : "herons")}",
        Category = i % 3 == 0 ? "a" : "b",
        Embedding = Vectors.Random(new Random(i), Note.Dimensions),
    };

    [Fact]
    public async Task ParallelUpsertsAndSearches_InOneStore_LoseNothingAndLeaveAVerifiedIndex()
    {
        using var dir = new TempDir();
        using var store = new SemanticSearchVectorStore(dir.Path);
        await store.GetCollection<Guid, Note>("busy").EnsureCollectionExistsAsync();
        var writers = Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
        {
            var collection = store.GetCollection<Guid, Note>("busy"); // a collection object per writer, one index behind them
            for (var b = 0; b < 5; b++)
            {
                await collection.UpsertAsync(Enumerable.Range(0, 6).Select(i => NoteOf((w * 100) + (b * 10) + i)));
            }
        })).ToList();
        var readers = Enumerable.Range(0, 2).Select(r => Task.Run(async () =>
        {
            var collection = store.GetCollection<Guid, Note>("busy");
            var query = Vectors.Random(new Random(1000 + r), Note.Dimensions);
            while (!writers.All(w => w.IsCompleted))
            {
                var hits = await collection.SearchAsync(query, 5, new() { Filter = n => n.Category == "a" }).ToListAsync();
                Assert.All(hits, h => Assert.Equal("a", h.Record.Category));
            }
        })).ToList();
        await Task.WhenAll(writers.Concat(readers));

        var all = store.GetCollection<Guid, Note>("busy");
        var expected = Enumerable.Range(0, 4).SelectMany(w => Enumerable.Range(0, 5).SelectMany(b => Enumerable.Range(0, 6).Select(i => NoteOf((w * 100) + (b * 10) + i).Id))).ToList();
        Assert.Equal(expected.Count, (await all.GetAsync(expected).ToListAsync()).Count);
        store.Dispose();
        var report = IndexVerifier.Verify(Path.Combine(dir.Path, "busy"));
        Assert.True(report.Clean, string.Join("; ", report.Problems.Select(p => p.Message)));
    }

    [Fact]
    public async Task TwoStoresOnOneRoot_TheSecondReadsBesideTheFirstsWriter_AndItsWriteNamesTheHolder()
    {
        using var dir = new TempDir();
        using var first = new SemanticSearchVectorStore(dir.Path);
        var mine = first.GetCollection<Guid, Note>("shared");
        await mine.UpsertAsync(Enumerable.Range(0, 5).Select(NoteOf));

        using var second = new SemanticSearchVectorStore(dir.Path, new() { WriterWait = TimeSpan.FromMilliseconds(200) });
        var theirs = second.GetCollection<Guid, Note>("shared");
        // reads see the first store's last commit, without waiting for its writer
        Assert.Equal(NoteOf(3).Text, (await theirs.GetAsync(NoteOf(3).Id))!.Text);
        Assert.Equal(5, (await theirs.SearchAsync(NoteOf(0).Embedding, 10).ToListAsync()).Count);
        await mine.UpsertAsync(NoteOf(5));
        Assert.NotNull(await theirs.GetAsync(NoteOf(5).Id));

        // a write waits for the writer as long as WriterWait, then fails naming who holds it; nothing is written
        var e = await Assert.ThrowsAsync<VectorStoreException>(() => theirs.UpsertAsync(NoteOf(6)));
        Assert.Contains("VectorData collection shared", e.Message, StringComparison.Ordinal);
        Assert.Equal("Upsert", e.OperationName);
        Assert.Null(await mine.GetAsync(NoteOf(6).Id));

        // once the first store lets go, the second writes
        first.Dispose();
        await theirs.UpsertAsync(NoteOf(6));
        Assert.NotNull(await theirs.GetAsync(NoteOf(6).Id));
    }
}
