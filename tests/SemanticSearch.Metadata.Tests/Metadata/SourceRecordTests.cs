using SemanticSearch.Metadata;

namespace SemanticSearch.Tests.Metadata;

/// <summary>The sources collection of the metadata store and the per-source totals (issue 19).</summary>
public sealed class SourceRecordTests
{
    private static DocumentRecord Doc(string id, string source, long size, DateTime indexed, params long[] chunks) =>
        new(id, source, "/x/" + id, "T", ".txt", size, indexed, "h" + id, indexed, chunks, new Dictionary<string, string>());

    [Fact]
    public void PutSource_CommittedThenReopened_RoundTripsAndARolledBackOneIsGone()
    {
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "m.db");
        var created = new DateTime(2026, 12, 2, 10, 0, 0, DateTimeKind.Utc);
        var a = new SourceRecord("a", "folder", "/data/a", string.Empty, created, null);
        var b = new SourceRecord("b", "folder", "/data/b", "b/", created, created.AddHours(1));
        using (var store = MetadataStore.Open(path, readOnly: false))
        {
            store.BeginTransaction();
            store.PutSource(b);
            store.PutSource(a);
            store.Commit();
            store.BeginTransaction();
            store.PutSource(new SourceRecord("c", "folder", "/data/c", "c/", created, null));
            store.Rollback();
        }
        using var reopened = MetadataStore.Open(path, readOnly: true);
        Assert.Equal([a, b], reopened.Sources());
    }

    [Fact]
    public void RemoveSource_Recorded_IsGoneAndAnUnknownNameIsFalse()
    {
        using var dir = new TempDir();
        using var store = MetadataStore.Open(Path.Combine(dir.Path, "m.db"), readOnly: false);
        store.PutSource(new SourceRecord("a", "folder", "/data/a", string.Empty, DateTime.UnixEpoch, null));
        Assert.False(store.RemoveSource("zzz"));
        Assert.True(store.RemoveSource("a"));
        Assert.Empty(store.Sources());
    }

    [Fact]
    public void TotalsBySource_DocumentsOfThreeSources_CountsEachApart()
    {
        using var dir = new TempDir();
        using var store = MetadataStore.Open(Path.Combine(dir.Path, "m.db"), readOnly: false);
        var t1 = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        store.Upsert(Doc("x", "/a", 10, t1, 1, 2), [new ChunkRecord(1, "x", 0, 0, 1, "p"), new ChunkRecord(2, "x", 1, 2, 1, "q")]);
        store.Upsert(Doc("y", "/a", 5, t1.AddDays(1), 3), [new ChunkRecord(3, "y", 0, 0, 1, "r")]);
        store.Upsert(Doc("b/x", "/b", 7, t1, 4), [new ChunkRecord(4, "b/x", 0, 0, 1, "s")]);
        store.Upsert(Doc("sent", "api", 3, t1), []);

        var totals = store.TotalsBySource();

        Assert.Equal(new SourceTotals(2, 3, 15, t1.AddDays(1)), totals["/a"]);
        Assert.Equal(new SourceTotals(1, 1, 7, t1), totals["/b"]);
        Assert.Equal(new SourceTotals(1, 0, 3, t1), totals["api"]);
        Assert.Equal(3, totals.Count);
    }

    [Fact]
    public void DocumentIdWithPrefix_OtherSourcesIdsOnly_FindsTheClash()
    {
        using var dir = new TempDir();
        using var store = MetadataStore.Open(Path.Combine(dir.Path, "m.db"), readOnly: false);
        store.Upsert(Doc("b/inside.txt", "/a", 1, DateTime.UnixEpoch), []);
        store.Upsert(Doc("bees.txt", "/a", 1, DateTime.UnixEpoch), []);

        Assert.Equal("b/inside.txt", store.DocumentIdWithPrefix("b/", "/c"));
        Assert.Null(store.DocumentIdWithPrefix("b/", "/a"));
        Assert.Null(store.DocumentIdWithPrefix("be/", "/c"));
    }
}
