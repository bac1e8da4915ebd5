using System.Buffers.Binary;
using System.IO.Hashing;
using SemanticSearch.Core;
using SemanticSearch.VectorIndex;
using Xunit;

namespace SemanticSearch.VectorIndex.Tests;

/// <summary>The persisted format: damaged, foreign and future files are refused with a clear message.</summary>
public sealed class IndexFileTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly string _hnswPath;
    private readonly string _flatPath;

    public IndexFileTests()
    {
        const int dims = 8;
        float[] data = new TestVectors(6001).Clustered(200, dims, 5, 1.0);
        long[] ids = TestVectors.Ids(200);
        var hnsw = new HnswIndex(dims, new HnswParameters(M: 4, EfConstruction: 32));
        hnsw.AddMany(ids, data, 1);
        _hnswPath = _dir.File("hnsw.ssv");
        hnsw.Save(_hnswPath);
        var flat = new FlatVectorIndex(dims);
        flat.AddMany(ids, data, 1);
        _flatPath = _dir.File("flat.ssv");
        flat.Save(_flatPath);
    }

    public void Dispose() => _dir.Dispose();

    private string Variant(string source, Func<byte[], byte[]> change)
    {
        string path = _dir.File(Guid.NewGuid().ToString("N"));
        File.WriteAllBytes(path, change(File.ReadAllBytes(source)));
        return path;
    }

    private static void AssertCorrupt(string path, string expectedFragment, Func<string, IVectorIndex> open)
    {
        var e = Assert.Throws<CorruptDataException>(() => open(path));
        Assert.Contains(expectedFragment, e.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Contains(Path.GetFileName(path), e.Message);
    }

    public static TheoryData<string> Kinds => new() { "hnsw", "flat" };

    private Func<string, IVectorIndex> Opener(string kind) => kind == "hnsw" ? p => HnswIndex.Open(p) : p => FlatVectorIndex.Open(p);
    private string PathOf(string kind) => kind == "hnsw" ? _hnswPath : _flatPath;

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Open_TruncatedFile_ThrowsCorruptNamingTruncation(string kind)
    {
        AssertCorrupt(Variant(PathOf(kind), b => b[..(b.Length / 2)]), "truncated", Opener(kind));
        AssertCorrupt(Variant(PathOf(kind), b => b[..^1]), "truncated", Opener(kind));
        AssertCorrupt(Variant(PathOf(kind), b => b[..20]), "truncated", Opener(kind));
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Open_FlippedByte_ThrowsChecksumMismatch(string kind)
    {
        AssertCorrupt(Variant(PathOf(kind), b => { b[b.Length / 2] ^= 0x40; return b; }), "checksum", Opener(kind));
        AssertCorrupt(Variant(PathOf(kind), b => { b[IndexFile.HeaderSize + 3] ^= 0x01; return b; }), "checksum", Opener(kind));
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Open_ForeignFile_ThrowsUnknownMagic(string kind)
    {
        string path = _dir.File("notes.txt");
        File.WriteAllText(path, "This is a text file, not a vector index. It is long enough to hold a header and footer....");
        AssertCorrupt(path, "magic", Opener(kind));
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Open_FutureVersion_ThrowsUnsupportedVersion(string kind)
    {
        string path = Variant(PathOf(kind), b => { BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(8), 2); return b; });
        AssertCorrupt(path, "unsupported format version 2", Opener(kind));
    }

    [Fact]
    public void Open_FlatFileAsHnsw_ThrowsWrongKind()
    {
        AssertCorrupt(_flatPath, "expected a HNSW index", p => HnswIndex.Open(p));
        AssertCorrupt(_hnswPath, "expected a flat index", p => FlatVectorIndex.Open(p));
    }

    [Fact]
    public void Open_MissingFile_ThrowsNotFound()
    {
        var e = Assert.Throws<NotFoundException>(() => HnswIndex.Open(_dir.File("absent.ssv")));
        Assert.Contains("absent.ssv", e.Message);
    }

    [Fact]
    public void Open_LinkOutOfRangeWithValidChecksum_ThrowsInvalidNode()
    {
        // A well-formed file from a buggy writer: the checksum matches, the structure does not.
        string path = Variant(_hnswPath, b =>
        {
            const int n = 200, dims = 8;
            int links0 = IndexFile.HeaderSize + n * 8 + n + n + n * dims * 4;
            BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(links0), 1);          // node 0: one link ...
            BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(links0 + 4), 999_999); // ... to a node that does not exist
            int payload = b.Length - IndexFile.FooterSize;
            BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(payload + 8), XxHash64.HashToUInt64(b.AsSpan(0, payload)));
            return b;
        });
        AssertCorrupt(path, "invalid node 999999", p => HnswIndex.Open(p));
    }

    [Fact]
    public void Save_OverExistingFile_ReplacesItAndLeavesNoTempFile()
    {
        var small = new HnswIndex(8);
        small.Add(1, new TestVectors(6002).UnitVector(8));
        small.Save(_hnswPath);
        Assert.False(File.Exists(_hnswPath + ".tmp"));
        Assert.Equal(1, HnswIndex.Open(_hnswPath).Count);
    }

    [Fact]
    public void SaveOpen_EmptyIndex_RoundTrips()
    {
        string path = _dir.File("empty.ssv");
        new HnswIndex(16).Save(path);
        HnswIndex reopened = HnswIndex.Open(path);
        Assert.Equal(0, reopened.Count);
        Assert.Empty(reopened.Search(new TestVectors(6003).UnitVector(16), 3));
        reopened.Add(5, new TestVectors(6004).UnitVector(16));
        Assert.Equal(5, reopened.Search(new TestVectors(6004).UnitVector(16), 1)[0].Id);
    }
}

/// <summary>
/// Frozen format-version-1 files committed under Fixtures/: every later build must keep reading them. They were
/// written once by <see cref="FrozenFixture.Write"/> (set SEMSEARCH_REGENERATE_FIXTURES=1 to rewrite them, which
/// should only ever be needed for a new format version, never to make this test pass).
/// </summary>
public sealed class FrozenFixtureTests
{
    [Fact]
    public void Open_FrozenHnswV1_AnswersAsBruteForceOverRegeneratedVectors()
    {
        string path = Path.Combine(TestFixtures.Root, "hnsw-v1.ssv");
        if (Environment.GetEnvironmentVariable("SEMSEARCH_REGENERATE_FIXTURES") == "1") FrozenFixture.Write(TestFixtures.Root);
        HnswIndex index = HnswIndex.Open(path);
        Assert.Equal(new HnswParameters(M: 8, EfConstruction: 40, EfSearch: 20, Seed: 7), index.Parameters);
        FrozenFixture.Verify(index);
    }

    [Fact]
    public void Open_FrozenFlatV1_AnswersAsBruteForceOverRegeneratedVectors()
    {
        string path = Path.Combine(TestFixtures.Root, "flat-v1.ssv");
        FrozenFixture.Verify(FlatVectorIndex.Open(path));
    }
}

internal static class FrozenFixture
{
    public const int Dims = 16;
    public const int Count = 300;

    public static (float[] Data, long[] Ids) Data() =>
        (new TestVectors(77).Clustered(Count, Dims, clusters: 6, spread: 1.0), TestVectors.Ids(Count, offset: 5000));

    public static bool IsDeleted(long id) => id % 10 == 3;

    public static void Write(string directory)
    {
        var (data, ids) = Data();
        var hnsw = new HnswIndex(Dims, new HnswParameters(M: 8, EfConstruction: 40, EfSearch: 20, Seed: 7));
        hnsw.AddMany(ids, data, 1);
        var flat = new FlatVectorIndex(Dims);
        flat.AddMany(ids, data, 1);
        foreach (long id in ids.Where(IsDeleted))
        {
            hnsw.MarkDeleted(id);
            flat.MarkDeleted(id);
        }
        hnsw.Save(Path.Combine(directory, "hnsw-v1.ssv"));
        flat.Save(Path.Combine(directory, "flat-v1.ssv"));
    }

    public static void Verify(IVectorIndex index)
    {
        var (data, ids) = Data();
        Assert.Equal(Dims, index.Dimensions);
        Assert.Equal(270, index.Count);
        Assert.Equal(30, index.DeletedCount);
        foreach (long id in ids) Assert.Equal(!IsDeleted(id), index.Contains(id));
        var gen = new TestVectors(78);
        for (int q = 0; q < 25; q++)
        {
            float[] query = gen.UnitVector(Dims);
            long[] expected = TestVectors.BruteForce(data, Dims, ids, query, 5, id => !IsDeleted(id));
            TestVectors.AssertSameTopK(data, Dims, id => (int)(id - 5000), query, expected, index.Search(query, 5, ef: 400));
        }
        for (int i = 0; i < Count; i += 11)
        {
            if (IsDeleted(ids[i])) continue;
            Assert.Equal(ids[i], index.Search(TestVectors.Row(data, Dims, i), 1)[0].Id);
        }
    }
}
