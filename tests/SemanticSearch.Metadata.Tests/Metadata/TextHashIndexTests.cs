using LiteDB;
using SemanticSearch.Metadata;

namespace SemanticSearch.Tests.Metadata;

/// <summary>
/// Which documents share a text is found through the lexical index in a new store; a store made before that keeps its
/// own index on the text hash (and is still answered from it). Neither keeps an index on the content hash, which nothing
/// searches by. What LiteDB holds is read back with LiteDB itself, not through the store.
/// </summary>
public sealed class TextHashIndexTests
{
    private static DocumentRecord Doc(string id, string? textHash, params long[] chunks) =>
        new(id, "/src", "/src/" + id, "T " + id, ".txt", 10, new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc), "h" + id,
            new DateTime(2026, 2, 1, 0, 0, 0, DateTimeKind.Utc), chunks, new Dictionary<string, string>())
        { TextHash = textHash };

    // the names of the documents collection's indexes, as LiteDB lists them
    private static SortedSet<string> DocumentIndexes(string path)
    {
        using var db = new LiteDatabase($"Filename={path};Connection=direct;ReadOnly=true");
        var names = db.GetCollection("$indexes").Find(Query.EQ("collection", "documents")).Select(d => d["name"].AsString);
        return new SortedSet<string>(names, StringComparer.Ordinal);
    }

    [Fact]
    public void NewStore_IndexesNeitherHash_AndRefusesTheTextHashLookup()
    {
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "m.db");
        using (var store = MetadataStore.Open(path, readOnly: false))
        {
            store.Upsert(Doc("a", "t1", 1), [new ChunkRecord(1, "a", 0, 0, 5, "hello")]);
            Assert.False(store.IndexesTextHashes);
            Assert.Throws<InvalidOperationException>(() => store.DocumentsWithTextHash("t1"));
        }
        Assert.Equal(["_id", "source"], DocumentIndexes(path));
        using (var reader = MetadataStore.Open(path, readOnly: true))
        {
            Assert.False(reader.IndexesTextHashes);
            Assert.Equal("t1", reader.GetDocument("a")!.TextHash); // the hash is still stored with the document
            Assert.Null(reader.VerifyContent());
        }
    }

    [Fact]
    public void OlderStore_KeepsItsTextHashIndexAndLosesTheContentHashIndex()
    {
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "m.db");
        using (var store = MetadataStore.Open(path, readOnly: false))
        {
            store.Upsert(Doc("a", "twin", 1), [new ChunkRecord(1, "a", 0, 0, 5, "hello")]);
            store.Upsert(Doc("b", "twin", 2), [new ChunkRecord(2, "b", 0, 0, 5, "hello")]);
            store.Upsert(Doc("c", "other", 3), [new ChunkRecord(3, "c", 0, 0, 5, "world")]);
        }
        // the shape a store written before this change has: both hash indexes, no note that text hashes live elsewhere
        using (var db = new LiteDatabase($"Filename={path};Connection=direct"))
        {
            var docs = db.GetCollection("documents");
            docs.EnsureIndex("hash");
            docs.EnsureIndex("thash");
            Assert.True(db.GetCollection("state").Delete("textHashes"));
            db.Checkpoint();
        }
        Assert.Equal(["_id", "hash", "source", "thash"], DocumentIndexes(path));
        using (var reader = MetadataStore.Open(path, readOnly: true))
        {
            Assert.True(reader.IndexesTextHashes);
            Assert.Equal(["a", "b"], reader.DocumentsWithTextHash("twin").Select(d => d.Id));
        }
        using (var store = MetadataStore.Open(path, readOnly: false))
        {
            Assert.True(store.IndexesTextHashes);
            store.Upsert(Doc("d", "twin", 4), [new ChunkRecord(4, "d", 0, 0, 5, "hello")]);
            store.Delete("a");
            Assert.Equal(["b", "d"], store.DocumentsWithTextHash("twin").Select(d => d.Id));
            Assert.Equal(["c"], store.DocumentsWithTextHash("other").Select(d => d.Id));
            Assert.Null(store.VerifyContent());
        }
        Assert.Equal(["_id", "source", "thash"], DocumentIndexes(path));
    }
}
