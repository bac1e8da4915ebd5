using Microsoft.Extensions.VectorData;
using Microsoft.SemanticKernel.Data;
using SemanticSearch.Core.Encoding;

namespace SemanticSearch.VectorData.Tests;

/// <summary>Semantic Kernel's VectorStoreTextSearch answering from a collection of the provider.</summary>
public sealed class SemanticKernelTests
{
    private static readonly string[] Bodies =
    [
        "Sourdough bread rises slowly with a wild yeast starter.",
        "Basalt columns form when thick lava cools and cracks.",
        "A sonnet has fourteen lines and a strict rhyme scheme.",
        "Espresso is brewed by forcing hot water through fine coffee.",
        "Tectonic plates drift a few centimetres every year.",
    ];

    public sealed class Fact
    {
        [VectorStoreKey]
        [TextSearchResultName]
        public string Id { get; set; } = string.Empty;

        [VectorStoreData(IsFullTextIndexed = true)]
        [TextSearchResultValue]
        public string Text { get; set; } = string.Empty;

        [VectorStoreData(IsIndexed = true)]
        public string Field { get; set; } = string.Empty;

        [VectorStoreVector(Passage.TestModelDimensions)]
        public string? Embedding { get; set; }
    }

    [Xunit.Fact]
    public async Task VectorStoreTextSearch_AnswersInTheModelsRanking_AndHonoursItsFilter()
    {
        using var dir = new TempDir();
        using var store = new SemanticSearchVectorStore(dir.Path, new() { Model = TestModels.TestBertDirectory });
        var collection = store.GetCollection<string, Fact>("facts");
        await collection.UpsertAsync(Bodies.Select((b, i) => new Fact { Id = "f" + i, Text = b, Field = i is 1 or 4 ? "geology" : "other", Embedding = b }));

        ITextSearch<Fact> textSearch = new VectorStoreTextSearch<Fact>(collection);
        var query = "how do volcanic rocks form";

        // the reference ranking: the test model's own vectors, brute force
        using var encoder = TestModels.OpenTestBert();
        var dims = encoder.Info.Dimensions;
        var passages = new float[Bodies.Length * dims];
        encoder.Encode(Bodies, TextRole.Passage, passages);
        var q = new float[dims];
        encoder.Encode([query], TextRole.Query, q);
        var expected = Enumerable.Range(0, Bodies.Length).OrderByDescending(i => BruteForce.Cosine(q, passages.AsSpan(i * dims, dims))).Take(2).Select(i => Bodies[i]).ToList();

        var answers = await textSearch.SearchAsync(query, new TextSearchOptions<Fact> { Top = 2 });
        Assert.Equal(expected, await answers.Results.ToListAsync());

        var results = await textSearch.GetTextSearchResultsAsync(query, new TextSearchOptions<Fact> { Top = 5, Filter = f => f.Field == "geology" });
        var geology = await results.Results.ToListAsync();
        Assert.Equal(["f1", "f4"], geology.Select(r => r.Name).Order());
        Assert.All(geology, r => Assert.Contains(r.Value, new[] { Bodies[1], Bodies[4] }));
    }
}
