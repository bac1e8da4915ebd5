using SemanticSearch.Core;
using SemanticSearch.VectorIndex;
using Xunit;

namespace SemanticSearch.VectorIndex.Tests;

/// <summary>
/// The change log: a file plus its committed records opens as the very graph that wrote them (compared byte for byte
/// through a whole save of each), a record costs the change, and damaged, foreign or torn logs are refused.
/// </summary>
public sealed class ChangeLogTests : IDisposable
{
    private const int Dims = 16;
    private readonly TempDir _dir = new();
    private readonly TestVectors _rng = new(7101);

    public void Dispose() => _dir.Dispose();

    private HnswIndex Built(int count, out string basePath)
    {
        var index = new HnswIndex(Dims, new HnswParameters(M: 6, EfConstruction: 40));
        index.AddMany(TestVectors.Ids(count), _rng.Clustered(count, Dims, 8, 1.0), 2);
        basePath = _dir.File("base.hnsw");
        index.Save(basePath);
        return index;
    }

    // Adds, replaces and deletes a little, as a commit's batch does.
    private void Change(HnswIndex index, long firstNewId, int added)
    {
        index.AddMany(TestVectors.Ids(added, firstNewId), _rng.Clustered(added, Dims, 8, 1.0), 2);
        index.Add(firstNewId / 2, _rng.UnitVector(Dims)); // replaces an older vector
        index.MarkDeleted(firstNewId / 3);
    }

    private byte[] WholeFileOf(HnswIndex index)
    {
        var path = _dir.File(Guid.NewGuid().ToString("N") + ".hnsw");
        index.Save(path);
        var bytes = File.ReadAllBytes(path);
        // the header and payload, without the footer; the same graph saved twice is the same bytes
        return bytes[..^24];
    }

    [Fact]
    public void Open_FileAndRecords_IsTheGraphThatWroteThem()
    {
        var index = Built(600, out var basePath);
        var log = _dir.File("base.hlog");
        long length = 0;
        var lengths = new List<(long Length, int Count, int Deleted)>();
        for (var round = 0; round < 4; round++)
        {
            Change(index, 1000 + round * 100, 40 + round * 10);
            length = index.AppendChanges(log, length, generation: 2 + round);
            lengths.Add((length, index.Count, index.DeletedCount));
            AssertSameGraph(index, HnswIndex.Open(basePath, log, length));
        }
        // an earlier committed length still opens as that generation, although the log has grown since
        foreach (var (committed, count, deleted) in lengths)
        {
            var reopened = HnswIndex.Open(basePath, log, committed);
            Assert.Equal((count, deleted), (reopened.Count, reopened.DeletedCount));
        }
        // and the last one is, byte for byte, the graph the writer holds
        Assert.Equal(WholeFileOf(HnswIndex.Open(basePath, log, length)), WholeFileOf(index));
    }

    private void AssertSameGraph(HnswIndex expected, HnswIndex actual)
    {
        Assert.Equal((expected.Count, expected.DeletedCount), (actual.Count, actual.DeletedCount));
        foreach (var id in expected.LiveIds())
        {
            Assert.Equal(expected.Layer0NeighboursOf(id), actual.Layer0NeighboursOf(id));
        }
        for (var i = 0; i < 5; i++)
        {
            var q = _rng.UnitVector(Dims);
            Assert.Equal(expected.Search(q, 10, 64), actual.Search(q, 10, 64));
        }
    }

    [Fact]
    public void AppendChanges_CostsTheChangeNotTheIndex()
    {
        var index = Built(5000, out var basePath);
        var log = _dir.File("base.hlog");
        Change(index, 10_000, 20);
        var pending = index.PendingChangeBytes;
        var length = index.AppendChanges(log, 0, 2);
        var record = length - ChangeLog.HeaderSize;
        Assert.True(record < new FileInfo(basePath).Length / 20, $"a record of 20 added vectors took {record} bytes beside a {new FileInfo(basePath).Length}-byte file");
        Assert.InRange(record, pending / 2, pending * 2); // the estimate a commit decides by is of the right size
        Assert.Equal(24 + 24 + 8, index.AppendChanges(log, length, 3) - length); // nothing changed: a record header, its counts and checksum
    }

    [Fact]
    public void Open_BytesAfterTheCommittedLength_AreIgnoredAndCutByTheNextAppend()
    {
        var index = Built(300, out var basePath);
        var log = _dir.File("base.hlog");
        Change(index, 1000, 30);
        var committed = index.AppendChanges(log, 0, 2);
        var expected = WholeFileOf(HnswIndex.Open(basePath, log, committed));
        File.AppendAllText(log, "half a record of an interrupted commit");
        Assert.Equal(expected, WholeFileOf(HnswIndex.Open(basePath, log, committed)));
        Assert.Null(ChangeLog.LengthThrough(log, committed, 3)); // no whole record of generation 3 there
        Assert.Equal(committed, ChangeLog.LengthThrough(log, ChangeLog.HeaderSize, 2));
        Assert.Null(ChangeLog.LengthThrough(log, ChangeLog.HeaderSize, 5)); // the record there is generation 2's

        var reopened = HnswIndex.Open(basePath, log, committed);
        Change(reopened, 2000, 10);
        var next = reopened.AppendChanges(log, committed, 3);
        Assert.Equal(next, new FileInfo(log).Length); // the garbage is gone, the new record follows the committed ones
        Assert.Equal(next, ChangeLog.LengthThrough(log, committed, 3));
        Assert.Equal(reopened.Count, HnswIndex.Open(basePath, log, next).Count);

        ChangeLog.Truncate(log, committed);
        Assert.Equal(committed, new FileInfo(log).Length);
    }

    [Fact]
    public void Open_DamagedForeignOrShortLog_ThrowsCorruptNamingTheLog()
    {
        var index = Built(300, out var basePath);
        var log = _dir.File("base.hlog");
        Change(index, 1000, 30);
        var length = index.AppendChanges(log, 0, 2);

        var flipped = _dir.File("flipped.hlog");
        var bytes = File.ReadAllBytes(log);
        bytes[bytes.Length / 2] ^= 0x40;
        File.WriteAllBytes(flipped, bytes);
        AssertCorrupt(() => HnswIndex.Open(basePath, flipped, length), "flipped.hlog", "checksum");

        AssertCorrupt(() => HnswIndex.Open(basePath, log, length + 10), "base.hlog", "truncated");
        AssertCorrupt(() => HnswIndex.Open(basePath, log, length - 10), "base.hlog", "truncated or damaged");

        var other = Built(300, out _); // same shape, another graph: the log does not continue its file
        var otherPath = _dir.File("other.hnsw");
        other.Add(99_999, _rng.UnitVector(Dims));
        other.Save(otherPath);
        AssertCorrupt(() => HnswIndex.Open(otherPath, log, length), "base.hlog", "another vector file");

        Assert.Throws<NotFoundException>(() => HnswIndex.Open(basePath, _dir.File("missing.hlog"), length));
    }

    [Fact]
    public void AppendChanges_NeverSavedIndex_RefusesAndLeavesNoLog()
    {
        var index = new HnswIndex(Dims);
        index.Add(1, _rng.UnitVector(Dims));
        var log = _dir.File("never.hlog");
        Assert.Null(index.BaseChecksum);
        Assert.Throws<InvalidOperationException>(() => index.AppendChanges(log, 0, 1));
        Assert.False(File.Exists(log));
        Assert.Null(index.Compact().BaseChecksum);
    }

    private static void AssertCorrupt(Func<HnswIndex> open, string file, string fragment)
    {
        var e = Assert.Throws<CorruptDataException>(open);
        Assert.Contains(file, e.Message, StringComparison.Ordinal);
        Assert.Contains(fragment, e.Message, StringComparison.OrdinalIgnoreCase);
    }
}
