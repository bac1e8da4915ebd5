using Microsoft.Extensions.VectorData;
using SemanticSearch.Core.Encoding;

namespace SemanticSearch.VectorData.Tests;

/// <summary>Records whose vector is a string the collection's model embeds (the seeded test BERT through ONNX Runtime).</summary>
public sealed class TextRecordsTests
{
    private static readonly string[] Bodies =
    [
        "The tide pool holds anemones and small crabs at low water.",
        "A recipe for sourdough bread needs flour, water and patience.",
        "Glaciers carve valleys over thousands of years of slow motion.",
        "The orchestra tuned their violins before the symphony began.",
        "Rust and corrosion weaken iron bridges exposed to salt spray.",
        "Migrating geese fly in a V formation to save energy.",
    ];

    private static SemanticSearchVectorStore Store(TempDir dir) =>
        new(dir.Path, new SemanticSearchVectorStoreOptions { Model = TestModels.TestBertDirectory });

    private static List<Passage> Passages() =>
        Bodies.Select((b, i) => new Passage { Key = "p" + i, Body = b, Topic = i % 2 == 0 ? "nature" : "craft", BodyEmbedding = b }).ToList();

    [Fact]
    public async Task SearchByText_RanksAsTheModelsOwnVectorsDo()
    {
        using var dir = new TempDir();
        using var store = Store(dir);
        var collection = store.GetCollection<string, Passage>("passages");
        var passages = Passages();
        await collection.UpsertAsync(passages);

        // the reference: the same model embedding passages and the query itself, ranked by brute-force cosine
        using var encoder = TestModels.OpenTestBert();
        var dims = encoder.Info.Dimensions;
        var embedded = new float[Bodies.Length * dims];
        encoder.Encode(Bodies, TextRole.Passage, embedded);
        var query = "crabs in tide pools";
        var q = new float[dims];
        encoder.Encode([query], TextRole.Query, q);
        var expected = Enumerable.Range(0, Bodies.Length)
            .OrderByDescending(i => BruteForce.Cosine(q, embedded.AsSpan(i * dims, dims))).Select(i => "p" + i).ToList();

        var hits = await collection.SearchAsync(query, Bodies.Length).ToListAsync();
        Assert.Equal(expected, hits.Select(h => h.Record.Key));
        Assert.Equal(passages[0].Body, hits.Single(h => h.Record.Key == "p0").Record.Body);
    }

    [Fact]
    public async Task HybridByText_KeywordAndFilter_FindTheRecord()
    {
        using var dir = new TempDir();
        using var store = Store(dir);
        var collection = store.GetCollection<string, Passage>("passages");
        await collection.UpsertAsync(Passages());
        var hits = await collection.HybridSearchAsync("old bridges", ["corrosion"], 3, new() { Filter = p => p.Topic == "nature" }).ToListAsync();
        Assert.Equal("p4", hits[0].Record.Key);
        Assert.All(hits, h => Assert.Equal("nature", h.Record.Topic));
    }

    [Fact]
    public async Task IncludeVectors_OnATextVector_IsNotSupported()
    {
        using var dir = new TempDir();
        using var store = Store(dir);
        var collection = store.GetCollection<string, Passage>("passages");
        await collection.UpsertAsync(Passages()[0]);
        await Assert.ThrowsAsync<NotSupportedException>(() => collection.GetAsync("p0", new RecordRetrievalOptions { IncludeVectors = true }));
        Assert.Null((await collection.GetAsync("p0"))!.BodyEmbedding);
    }

    [Fact]
    public async Task DeclaredDimensions_OtherThanTheModels_AreRefusedNamingBoth()
    {
        using var dir = new TempDir();
        using var store = Store(dir);
        var definition = new VectorStoreCollectionDefinition
        {
            Properties =
            [
                new VectorStoreKeyProperty("Key", typeof(string)),
                new VectorStoreDataProperty("Body", typeof(string)) { IsFullTextIndexed = true },
                new VectorStoreVectorProperty("BodyEmbedding", typeof(string), 384),
            ],
        };
        var collection = store.GetDynamicCollection("wrong", definition);
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => collection.EnsureCollectionExistsAsync());
        Assert.Contains("384", e.Message, StringComparison.Ordinal);
        Assert.Contains(Passage.TestModelDimensions.ToString(System.Globalization.CultureInfo.InvariantCulture), e.Message, StringComparison.Ordinal);
        Assert.False(await collection.CollectionExistsAsync());
    }

    [Fact]
    public async Task DynamicCollection_StoresDictionariesAndFiltersByIndexer()
    {
        using var dir = new TempDir();
        using var store = Store(dir);
        var definition = new VectorStoreCollectionDefinition
        {
            Properties =
            [
                new VectorStoreKeyProperty("Id", typeof(Guid)),
                new VectorStoreDataProperty("Topic", typeof(string)) { IsIndexed = true },
                new VectorStoreDataProperty("Stars", typeof(int)) { IsIndexed = true },
                new VectorStoreDataProperty("Content", typeof(string)) { IsFullTextIndexed = true },
                new VectorStoreVectorProperty("ContentEmbedding", typeof(string), Passage.TestModelDimensions),
            ],
        };
        var collection = store.GetDynamicCollection("dynamic", definition);
        var ids = Bodies.Select(_ => Guid.NewGuid()).ToList();
        await collection.UpsertAsync(Bodies.Select((b, i) => new Dictionary<string, object?>
        {
            ["Id"] = ids[i], ["Topic"] = i < 3 ? "first" : "second", ["Stars"] = i, ["Content"] = b, ["ContentEmbedding"] = b,
        }));
        var got = await collection.GetAsync(ids[2]);
        Assert.Equal(Bodies[2], got!["Content"]);
        Assert.Equal(2, got["Stars"]);
        Assert.Equal(ids[2], got["Id"]);
        var filtered = await collection.SearchAsync("music", 10, new() { Filter = r => (string)r["Topic"]! == "second" && (int)r["Stars"]! >= 4 }).ToListAsync();
        Assert.Equal(new[] { ids[4], ids[5] }.Order(), filtered.Select(h => (Guid)h.Record["Id"]!).Order());
    }
}
