using SemanticSearch.Core.Text;
using SemanticSearch.Metadata;

namespace SemanticSearch.Tests.Metadata;

public sealed class MetadataStoreTests
{
    private static DocumentRecord Doc(string id, long size, params long[] chunks) =>
        new(id, "/src", "/src/" + id, "T " + id, ".txt", size, new DateTime(2024, 5, 6, 7, 8, 9, DateTimeKind.Utc), "h" + id,
            new DateTime(2024, 6, 1, 0, 0, 0, DateTimeKind.Utc), chunks, new Dictionary<string, string> { ["k"] = "v" });

    [Fact]
    public void Upsert_ThenReopen_RoundTripsDocumentsAndChunks()
    {
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "m.db");
        using (var store = MetadataStore.Open(path, readOnly: false))
        {
            store.Upsert(Doc("a", 100, 1, 2), [new ChunkRecord(1, "a", 0, 0, 5, "hello"), new ChunkRecord(2, "a", 1, 6, 5, "world")]);
            store.NextChunkId = 3;
        }
        using (var store = MetadataStore.Open(path, readOnly: true))
        {
            Assert.Equal(Doc("a", 100, 1, 2) with { ChunkIds = [1, 2] }, store.GetDocument("a"), new DocComparer());
            var chunks = store.GetChunks([2, 1, 99]);
            Assert.Equal(2, chunks.Count);
            Assert.Equal(new ChunkRecord(2, "a", 1, 6, 5, "world"), chunks[2]);
            Assert.Equal(3, store.NextChunkId);
            Assert.Equal(new MetadataCounts(1, 2, 100), store.Counts());
        }
    }

    [Fact]
    public void Upsert_ThenReopen_RoundTripsTheOutline()
    {
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "m.db");
        PageStart[] pages = [new(0, 1), new(120, 3), new(400, 4)];
        SectionHeading[] heads = [new(0, 1, "Intro", "intro"), new(50, 2, "Déjà vu — “quotes”", null), new(130, 3, "Deep", "sect.deep")];
        using (var store = MetadataStore.Open(path, readOnly: false))
        {
            store.Upsert(Doc("a", 10, 1) with { Outline = new DocumentOutline(pages, heads) }, [new ChunkRecord(1, "a", 0, 0, 5, "hello")]);
            store.Upsert(Doc("b", 10, 2) with { Outline = DocumentOutline.Empty }, [new ChunkRecord(2, "b", 0, 0, 5, "world")]);
            store.Upsert(Doc("c", 10, 3), [new ChunkRecord(3, "c", 0, 0, 5, "third")]);
        }
        using (var store = MetadataStore.Open(path, readOnly: true))
        {
            var outline = store.GetDocument("a")!.Outline!;
            Assert.Equal(pages, outline.Pages);
            Assert.Equal(heads, outline.Headings);
            Assert.Null(store.GetDocument("b")!.Outline); // an empty outline is not stored
            Assert.Null(store.GetDocument("c")!.Outline);
        }
    }

    [Fact]
    public void Upsert_ExistingDocument_ReplacesChunksAndBytes()
    {
        using var dir = new TempDir();
        using var store = MetadataStore.Open(Path.Combine(dir.Path, "m.db"), readOnly: false);
        store.Upsert(Doc("a", 100, 1, 2), [new ChunkRecord(1, "a", 0, 0, 1, "x"), new ChunkRecord(2, "a", 1, 2, 1, "y")]);
        var removed = store.Upsert(Doc("a", 40, 3), [new ChunkRecord(3, "a", 0, 0, 1, "z")]);
        Assert.Equal([1L, 2L], removed.Order());
        Assert.Equal([3L], store.AllChunks().Select(c => c.Id));
        Assert.Equal(new MetadataCounts(1, 1, 40), store.Counts());
    }

    [Fact]
    public void UpsertMany_SameStoreAsOneUpsertAtATime()
    {
        // a new document, a replaced one, and one named twice in the batch (its second version replaces its first)
        (DocumentRecord, IReadOnlyList<ChunkRecord>)[] batch =
        [
            (Doc("b", 30, 4), [new ChunkRecord(4, "b", 0, 0, 1, "p")]),
            (Doc("a", 40, 5, 6), [new ChunkRecord(5, "a", 0, 0, 1, "q"), new ChunkRecord(6, "a", 1, 2, 1, "r")]),
            (Doc("c", 7, 7), [new ChunkRecord(7, "c", 0, 0, 1, "s")]),
            (Doc("c", 9, 8), [new ChunkRecord(8, "c", 0, 0, 1, "t")]),
        ];
        using var dir = new TempDir();
        using var single = MetadataStore.Open(Path.Combine(dir.Path, "single.db"), readOnly: false);
        using var many = MetadataStore.Open(Path.Combine(dir.Path, "many.db"), readOnly: false);
        foreach (var store in new[] { single, many })
        {
            store.Upsert(Doc("a", 100, 1, 2), [new ChunkRecord(1, "a", 0, 0, 1, "x"), new ChunkRecord(2, "a", 1, 2, 1, "y")]);
        }

        var removedOneByOne = batch.Select(d => single.Upsert(d.Item1, d.Item2).Order().ToArray()).ToArray();
        var removedTogether = many.UpsertMany(batch).Select(r => r.Order().ToArray()).ToArray();

        Assert.Equal([[], [1L, 2L], [], [7L]], removedOneByOne);
        Assert.Equal(removedOneByOne, removedTogether);
        Assert.Equal(new MetadataCounts(3, 4, 30 + 40 + 9), many.Counts());
        Assert.Equal(single.Counts(), many.Counts());
        Assert.Equal(single.AllChunks().OrderBy(c => c.Id), many.AllChunks().OrderBy(c => c.Id));
        Assert.Null(many.VerifyContent()); // the running checksum equals one computed from the records
    }

    [Fact]
    public void Delete_RemovesDocumentChunksAndBytes()
    {
        using var dir = new TempDir();
        using var store = MetadataStore.Open(Path.Combine(dir.Path, "m.db"), readOnly: false);
        store.Upsert(Doc("a", 10, 1), [new ChunkRecord(1, "a", 0, 0, 1, "x")]);
        store.Upsert(Doc("b", 20, 2), [new ChunkRecord(2, "b", 0, 0, 1, "y")]);
        Assert.Equal([1L], store.Delete("a"));
        Assert.Empty(store.Delete("a"));
        Assert.Null(store.GetDocument("a"));
        Assert.Equal(new MetadataCounts(1, 1, 20), store.Counts());
        Assert.Equal(["b"], store.DocumentIdsFromSource("/src"));
    }

    [Fact]
    public void Rollback_DiscardsUncommittedWrites()
    {
        using var dir = new TempDir();
        using var store = MetadataStore.Open(Path.Combine(dir.Path, "m.db"), readOnly: false);
        store.BeginTransaction();
        store.Upsert(Doc("a", 10, 1), [new ChunkRecord(1, "a", 0, 0, 1, "x")]);
        store.Rollback();
        Assert.Null(store.GetDocument("a"));
        Assert.Empty(store.AllChunks());
    }

    [Fact]
    public void Counts_AfterUpsertsReplacementsDeletesAndARollback_EqualTheRecordsThemselves()
    {
        // the counts are kept beside the records (counting a LiteDB collection loads every record); checked here
        // against the records enumerated, across a reopen
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "m.db");
        var random = new Random(7);
        long next = 1;
        (DocumentRecord, IReadOnlyList<ChunkRecord>) Make(string id)
        {
            var n = random.Next(0, 4);
            var chunks = Enumerable.Range(0, n).Select(k => new ChunkRecord(next + k, id, k, 0, 1, "x")).ToList();
            var doc = Doc(id, 10, chunks.Select(c => c.Id).ToArray());
            next += n;
            return (doc, chunks);
        }
        void Check(MetadataStore store)
        {
            var counts = store.Counts();
            Assert.Equal(store.AllDocuments().Count(), counts.Documents);
            Assert.Equal(store.AllChunks().Count(), counts.Chunks);
        }
        using (var store = MetadataStore.Open(path, readOnly: false))
        {
            for (var round = 0; round < 20; round++)
            {
                store.BeginTransaction();
                store.UpsertMany(Enumerable.Range(0, 5).Select(_ => Make("d" + random.Next(0, 12))).ToList());
                store.Delete("d" + random.Next(0, 12));
                store.Delete("never-held");
                if (round % 4 == 3)
                {
                    store.Rollback();
                }
                else
                {
                    store.Commit();
                }
                Check(store);
            }
        }
        using var reopened = MetadataStore.Open(path, readOnly: true);
        Check(reopened);
    }

    private sealed class DocComparer : IEqualityComparer<DocumentRecord?>
    {
        public bool Equals(DocumentRecord? x, DocumentRecord? y) =>
            x is not null && y is not null && x.Id == y.Id && x.Source == y.Source && x.Path == y.Path && x.Title == y.Title
            && x.FileType == y.FileType && x.SizeBytes == y.SizeBytes && x.ModifiedUtc == y.ModifiedUtc && x.ContentHash == y.ContentHash
            && x.IndexedUtc == y.IndexedUtc && x.ChunkIds.SequenceEqual(y.ChunkIds) && x.Metadata.OrderBy(k => k.Key).SequenceEqual(y.Metadata.OrderBy(k => k.Key));

        public int GetHashCode(DocumentRecord? obj) => obj?.Id.GetHashCode(StringComparison.Ordinal) ?? 0;
    }
}
