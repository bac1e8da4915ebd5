// The same k = 10 searches over the same 10,000 records (384-dimensional vectors given with them, 12-word texts) through
// the VectorData provider and through the engine's Searcher on an index written directly: the ratio is what the
// abstraction costs (record mapping, filter translation, JSON of the stored properties).
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.VectorData;
using SemanticSearch.Core.Chunking;
using SemanticSearch.Core.Encoding;
using SemanticSearch.Core.Filtering;
using SemanticSearch.Engine;
using SemanticSearch.Engine.Indexing;
using SemanticSearch.Engine.Search;

namespace SemanticSearch.VectorData.Benchmarks;

[MemoryDiagnoser]
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "BenchmarkDotNet owns the lifetime: GlobalCleanup disposes the store and the index")]
public class ProviderOverheadBenchmarks
{
    public const int Records = 10_000;
    public const int Dimensions = 384;
    private static readonly string[] Words = ["harbor", "lantern", "meadow", "quartz", "river", "saffron", "tundra", "violet", "ember", "glacier", "orchid", "pylon"];

    private string _root = string.Empty;
    private SemanticSearchVectorStore _store = null!;
    private SemanticSearchCollection<int, BenchRecord> _collection = null!;
    private SemanticIndex _engine = null!;
    private Searcher _searcher = null!;
    private float[] _query = [];

    public sealed class BenchRecord
    {
        [VectorStoreKey] public int Id { get; set; }
        [VectorStoreData(IsFullTextIndexed = true)] public string Text { get; set; } = string.Empty;
        [VectorStoreData(IsIndexed = true)] public string Tag { get; set; } = string.Empty;
        [VectorStoreVector(Dimensions)] public ReadOnlyMemory<float> Vector { get; set; }
    }

    [GlobalSetup]
    public void Setup()
    {
        _root = Path.Combine(Path.GetTempPath(), "semsearch-vd-bench-" + Environment.ProcessId);
        var rng = new Random(42);
        var records = Enumerable.Range(0, Records).Select(i => new BenchRecord
        {
            Id = i,
            Text = string.Join(' ', Enumerable.Range(0, 12).Select(_ => Words[rng.Next(Words.Length)])),
            Tag = "t" + (i % 10),
            Vector = Enumerable.Range(0, Dimensions).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray(),
        }).ToList();
        _query = Enumerable.Range(0, Dimensions).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();

        _store = new SemanticSearchVectorStore(Path.Combine(_root, "provider"));
        _collection = _store.GetCollection<int, BenchRecord>("bench");
        foreach (var batch in records.Chunk(1000))
        {
            _collection.UpsertAsync(batch).GetAwaiter().GetResult();
        }

        _engine = SemanticIndex.OpenOrCreate(Path.Combine(_root, "engine", "bench"), new IndexSettings(), new VectorsOnly());
        _engine.BeginBatch();
        var docs = records.Select(r => new SourceDocument(r.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), "bench", string.Empty, string.Empty,
            r.Text, string.Empty, r.Text.Length, DateTime.UtcNow, "h" + r.Id, new Dictionary<string, string> { ["tag"] = r.Tag })).ToList();
        _engine.WriteWithVectors(docs.Select(d => (d, _engine.Chunk(d))).ToList(), records.Select(r => r.Vector).ToList());
        _engine.Commit();
        _searcher = new Searcher(_engine);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _store.Dispose();
        _engine.Dispose();
        Directory.Delete(_root, recursive: true);
    }

    [Benchmark(Baseline = true)]
    public int Engine_Dense() =>
        _searcher.Search(new SearchRequest(string.Empty, K: 10, Mode: SearchMode.Dense) { QueryVector = _query, CollapseDuplicates = false, RelevanceFloor = false }).Hits.Count;

    [Benchmark]
    public int Provider_Dense() => _collection.SearchAsync(_query, 10).ToListAsync().AsTask().GetAwaiter().GetResult().Count;

    [Benchmark]
    public int Engine_DenseFiltered() =>
        _searcher.Search(new SearchRequest(string.Empty, K: 10, Mode: SearchMode.Dense, Filter: new SearchFilter { Where = new MetadataCondition.Equal("tag", "t3") })
        { QueryVector = _query, CollapseDuplicates = false, RelevanceFloor = false }).Hits.Count;

    [Benchmark]
    public int Provider_DenseFiltered() => _collection.SearchAsync(_query, 10, new() { Filter = r => r.Tag == "t3" }).ToListAsync().AsTask().GetAwaiter().GetResult().Count;

    [Benchmark]
    public int Engine_Hybrid() =>
        _searcher.Search(new SearchRequest("lantern quartz", K: 10, Mode: SearchMode.Hybrid) { QueryVector = _query, CollapseDuplicates = false, RelevanceFloor = false }).Hits.Count;

    [Benchmark]
    public int Provider_Hybrid() => _collection.HybridSearchAsync(_query, ["lantern", "quartz"], 10).ToListAsync().AsTask().GetAwaiter().GetResult().Count;

    // The provider's own stand-in for a collection without a model, so both indexes record the same kind of space.
    private sealed class VectorsOnly : ITextEncoder
    {
        public EncoderInfo Info { get; } = new("given-vectors", "1", Dimensions, "given", string.Empty, string.Empty, 512);

        public ITokenCounter TokenCounter => WhitespaceTokenCounter.Instance;

        public int PassageOverheadTokens => 0;

        public void Encode(IReadOnlyList<string> texts, TextRole role, Span<float> output) => throw new NotSupportedException("vectors are given");

        public void Dispose()
        {
        }
    }
}
