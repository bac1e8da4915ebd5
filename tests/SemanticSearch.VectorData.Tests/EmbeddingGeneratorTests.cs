using Microsoft.Extensions.AI;
using Microsoft.Extensions.VectorData;
using SemanticSearch.Core.Encoding;
using SemanticSearch.Engine.Storage;

namespace SemanticSearch.VectorData.Tests;

public sealed class EmbeddingGeneratorTests
{
    [Fact]
    public async Task EngineEncoder_AsGenerator_GivesTheEncodersVectorsInItsRole()
    {
        using var encoder = TestModels.OpenTestBert();
        using var queries = new SemanticSearchEmbeddingGenerator(encoder, TextRole.Query);
        using var passages = new SemanticSearchEmbeddingGenerator(encoder, TextRole.Passage);
        string[] texts = ["first text", "a second, longer text about tides"];
        var dims = encoder.Info.Dimensions;
        foreach (var (generator, role) in new[] { (queries, TextRole.Query), (passages, TextRole.Passage) })
        {
            var expected = new float[texts.Length * dims];
            encoder.Encode(texts, role, expected);
            var got = await generator.GenerateAsync(texts);
            Assert.Equal(texts.Length, got.Count);
            for (var i = 0; i < texts.Length; i++)
            {
                Assert.Equal(expected.AsSpan(i * dims, dims).ToArray(), got[i].Vector.ToArray());
                Assert.Equal(encoder.Info.ModelId, got[i].ModelId);
            }
        }
        var metadata = queries.GetService<EmbeddingGeneratorMetadata>()!;
        Assert.Equal(dims, metadata.DefaultModelDimensions);
        await Assert.ThrowsAsync<NotSupportedException>(() => queries.GenerateAsync(texts, new EmbeddingGenerationOptions { Dimensions = dims + 1 }));
    }

    [Fact]
    public async Task RegisteredGenerator_IsTheCollectionsModel_RecordedInTheManifest()
    {
        using var dir = new TempDir();
        var generator = new WordHashGenerator();
        using (var store = new SemanticSearchVectorStore(dir.Path, new() { EmbeddingGenerator = generator }))
        {
            var collection = store.GetCollection<string, HashedPassage>("hashed");
            await collection.UpsertAsync([
                new HashedPassage { Key = "a", Body = "red apples", Vector = "red apples" },
                new HashedPassage { Key = "b", Body = "green pears", Vector = "green pears" },
            ]);
            var hits = await collection.SearchAsync("pears", 2).ToListAsync();
            Assert.Equal("b", hits[0].Record.Key); // the generator's own geometry: shared words are near
            Assert.True(generator.Calls > 0);
        }
        var recorded = IndexManifest.Read(Path.Combine(dir.Path, "hashed")).Spaces.Single().Model;
        Assert.Equal("generator:word-hash/v1", recorded.ModelId);
        Assert.Equal(WordHashGenerator.Dimensions, recorded.Dimensions);

        // reopened without the generator, the collection says which one it needs; with it, it works
        using (var bare = new SemanticSearchVectorStore(dir.Path))
        {
            var e = await Assert.ThrowsAsync<InvalidOperationException>(() => bare.GetCollection<string, HashedPassage>("hashed").GetAsync("a"));
            Assert.Contains("generator:word-hash/v1", e.Message, StringComparison.Ordinal);
        }
        using var again = new SemanticSearchVectorStore(dir.Path, new() { EmbeddingGenerator = new WordHashGenerator() });
        Assert.Equal("red apples", (await again.GetCollection<string, HashedPassage>("hashed").GetAsync("a"))!.Body);
    }

    [Fact]
    public async Task GivenVectors_WithAGenerator_AnswerTextQueriesThroughIt()
    {
        using var dir = new TempDir();
        var generator = new WordHashGenerator();
        using var store = new SemanticSearchVectorStore(dir.Path, new() { EmbeddingGenerator = generator });
        var collection = store.GetCollection<string, HashedVectors>("given");
        var texts = new[] { "blue whale", "grey heron", "red fox" };
        var vectors = await generator.GenerateAsync(texts);
        await collection.UpsertAsync(texts.Select((t, i) => new HashedVectors { Key = t, Vector = vectors[i].Vector }));
        var hits = await collection.SearchAsync("heron", 1).ToListAsync();
        Assert.Equal("grey heron", hits[0].Record.Key);
    }

    public sealed class HashedPassage
    {
        [VectorStoreKey]
        public string Key { get; set; } = string.Empty;

        [VectorStoreData(IsFullTextIndexed = true)]
        public string Body { get; set; } = string.Empty;

        [VectorStoreVector(WordHashGenerator.Dimensions)]
        public string? Vector { get; set; }
    }

    public sealed class HashedVectors
    {
        [VectorStoreKey]
        public string Key { get; set; } = string.Empty;

        [VectorStoreVector(WordHashGenerator.Dimensions)]
        public ReadOnlyMemory<float> Vector { get; set; }
    }
}

/// <summary>
/// A stand-in for a remote embedding service (the system boundary): each word adds 1 to a bucket chosen by a stable
/// hash, so texts that share words are near.
/// </summary>
internal sealed class WordHashGenerator : IEmbeddingGenerator<string, Embedding<float>>
{
    public const int Dimensions = 64;

    public int Calls { get; private set; }

    public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        Calls++;
        var result = new GeneratedEmbeddings<Embedding<float>>();
        foreach (var text in values)
        {
            var v = new float[Dimensions];
            v[Dimensions - 1] = 0.01f; // never all zeros
            foreach (var word in text.ToLowerInvariant().Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                var h = 17u;
                foreach (var ch in word)
                {
                    h = h * 31 + ch;
                }
                v[h % (Dimensions - 1)] += 1;
            }
            result.Add(new Embedding<float>(v));
        }
        return Task.FromResult(result);
    }

    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceType == typeof(EmbeddingGeneratorMetadata) ? new EmbeddingGeneratorMetadata("word-hash", null, "v1", Dimensions) : null;

    public void Dispose()
    {
    }
}
