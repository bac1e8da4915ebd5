using System.Buffers.Binary;
using System.Text.Json;
using SemanticSearch.Metadata;

namespace SemanticSearch.Tests.Metadata;

/// <summary>
/// The read-only open: LiteDB over the files in place (no copy), consistent beside a writer that keeps committing and
/// checkpointing (the checkpoint sequence in <c>metadata.checkpoints</c>), and still able to read stores written
/// before that sequence existed.
/// </summary>
public sealed class ReadOnlyViewTests
{
    private const long Size = 1000;

    private static (DocumentRecord, IReadOnlyList<ChunkRecord>) Doc(string id, long generation, ref long next, int chunkChars = 1500, string? textHash = null)
    {
        var chunks = new List<ChunkRecord>();
        var ids = new List<long>();
        for (var k = 0; k < 4; k++)
        {
            var text = $"{id} generation {generation} chunk {k} " + new string((char)('a' + (int)((generation + k) % 26)), chunkChars);
            chunks.Add(new ChunkRecord(next, id, k, k * text.Length, text.Length, text));
            ids.Add(next++);
        }
        var doc = new DocumentRecord(id, "/src", "/src/" + id, "T " + id, ".txt", Size, new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc), $"h{id}.{generation}",
            new DateTime(2026, 2, 1, 0, 0, 0, DateTimeKind.Utc), ids, new Dictionary<string, string> { ["gen"] = generation.ToString(System.Globalization.CultureInfo.InvariantCulture) })
        { TextHash = textHash };
        return (doc, chunks);
    }

    [Fact]
    public async Task OpenReadOnly_BesideAWriterThatKeepsCommitting_EveryReadSeesOneCommittedState()
    {
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "metadata.db");
        const int Commits = 60;
        long next = 1;
        using var writer = MetadataStore.Open(path, readOnly: false);
        writer.BeginTransaction();
        writer.UpsertMany([Doc("a", 0, ref next, textHash: "twin"), Doc("b", 0, ref next, textHash: "twin")]);
        writer.NextChunkId = next;
        writer.Commit();

        using var reader = MetadataStore.Open(path, readOnly: true);
        var done = 0;
        var writing = Task.Run(() =>
        {
            for (var g = 1; g <= Commits; g++)
            {
                // each commit replaces both twins (new chunk ids: the old ones' pages are freed and reused) and adds one
                writer.BeginTransaction();
                writer.UpsertMany([Doc("a", g, ref next, textHash: "twin"), Doc("n" + g, g, ref next), Doc("b", g, ref next, textHash: "twin")]);
                writer.NextChunkId = next;
                writer.Generation = g;
                writer.Commit();
                // a pause between commits, as real writers have (they commit every 1,000 documents or 10 s): a read
                // that a checkpoint overlapped opens the newer state only between two commits, and 60 commits back to
                // back in 0.3 s left the readers two states to see (CI, 2026-12-03: "saw only generations 46, 60")
                Thread.Sleep(5);
            }
            Volatile.Write(ref done, 1);
        });
        var seen = new System.Collections.Concurrent.ConcurrentDictionary<long, bool>();
        void Read()
        {
            long lastGeneration = 0;
            var reads = 0;
            while (Volatile.Read(ref done) == 0 || reads < 5)
            {
                reads++;
                var counts = reader.Counts();
                Assert.Equal(4 * counts.Documents, counts.Chunks);
                Assert.Equal(Size * counts.Documents, counts.Bytes);
                // one index query (by source) reads both twins, which every commit replaces together
                var hashes = reader.HashesFromSource("/src");
                var twinGeneration = hashes["a"].Split('.')[1];
                Assert.Equal(twinGeneration, hashes["b"].Split('.')[1]);
                var generation = reader.Generation;
                Assert.True(generation >= lastGeneration, $"generation went back from {lastGeneration} to {generation}");
                lastGeneration = generation;
                seen[long.Parse(twinGeneration, System.Globalization.CultureInfo.InvariantCulture)] = true;
                var twin = reader.GetDocument("a")!;
                var chunks = reader.GetChunks(twin.ChunkIds);
                Assert.True(chunks.Count is 0 or 4, $"{chunks.Count} of a document's 4 chunks"); // 0: a later commit replaced them
                if (reads % 10 == 0)
                {
                    Assert.Null(reader.VerifyContent());
                }
            }
        }
        Parallel.Invoke(Read, Read);
        await writing;

        // the reader followed the commits (it is not pinned at its open), and after the last one reads it
        Assert.True(seen.Count >= 3, $"the readers saw only generations {string.Join(", ", seen.Keys)}");
        Assert.Equal(Commits, reader.Generation);
        Assert.Equal(new MetadataCounts(2 + Commits, 4 * (2 + Commits), Size * (2 + Commits)), reader.Counts());
        Assert.Equal(2 + Commits, reader.AllDocuments().Count());
        Assert.Equal(4 * (2 + Commits), reader.AllChunks().Count());
        Assert.Null(reader.VerifyContent());
        Assert.True(reader.ReadsInPlace);
    }

    [Fact]
    public async Task OpenSnapshot_BesideAWriterThatKeepsCommitting_EachCopyIsOneCommittedState()
    {
        // 'verify' copies the store beside a writer: the log and the data file are copied one after the other, and a
        // checkpoint between the two (it folds the log into the data file and empties it) would pair a newer data file
        // with an older log, whose pages then overwrite newer ones: a copy no commit ever wrote
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "metadata.db");
        const int Commits = 150;
        long next = 1;
        using var writer = MetadataStore.Open(path, readOnly: false);
        writer.BeginTransaction();
        writer.UpsertMany([Doc("a", 0, ref next), Doc("b", 0, ref next)]);
        writer.NextChunkId = next;
        writer.Commit();
        var done = 0;
        var writing = Task.Run(() =>
        {
            for (var g = 1; g <= Commits; g++)
            {
                writer.BeginTransaction();
                writer.Delete("b"); // a deletion and two replacements: freed pages are reused by the same commit
                writer.UpsertMany([Doc("a", g, ref next), Doc("n" + g, g, ref next), Doc("b", g, ref next)]);
                writer.NextChunkId = next;
                writer.Generation = g;
                writer.Commit();
            }
            Volatile.Write(ref done, 1);
        });
        var copies = 0;
        var generations = new HashSet<long>();
        while (Volatile.Read(ref done) == 0)
        {
            using var copy = MetadataStore.OpenSnapshot(path);
            var generation = copy.Generation;
            var documents = copy.AllDocuments().ToList();
            // generation g holds a, b and one new document per commit: the count is fixed by the generation
            Assert.Equal(2 + generation, documents.Count);
            Assert.All(documents.Where(d => d.Id is "a" or "b"), d => Assert.Equal(generation.ToString(System.Globalization.CultureInfo.InvariantCulture), d.Metadata["gen"]));
            Assert.Equal(4 * documents.Count, copy.AllChunks().Count());
            Assert.Null(copy.VerifyContent());
            generations.Add(generation);
            copies++;
        }
        await writing;
        Assert.True(generations.Count >= 3, $"{copies} copies saw only generations {string.Join(", ", generations)}");
    }

    [Fact]
    public void OpenReadOnly_StoreOfTensOfMegabytes_AllocatesFarLessThanTheFile()
    {
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "metadata.db");
        long next = 1;
        using (var writer = MetadataStore.Open(path, readOnly: false))
        {
            writer.BeginTransaction();
            for (var d = 0; d < 1200; d += 100)
            {
                var batch = new List<(DocumentRecord, IReadOnlyList<ChunkRecord>)>();
                for (var i = d; i < d + 100; i++)
                {
                    batch.Add(Doc("d" + i, i, ref next, chunkChars: 6000));
                }
                writer.UpsertMany(batch);
            }
            writer.NextChunkId = next;
            writer.Commit();
        }
        var fileSize = new FileInfo(path).Length;
        Assert.True(fileSize > 25_000_000, $"the store is only {fileSize:N0} bytes");

        long Allocated(Func<MetadataStore> open, bool lazy)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            using var store = open();
            Assert.Equal(lazy, store.ReadsInPlace);
            Assert.Equal(1200, store.Counts().Documents);
            var chunks = store.GetChunks([1, 777, 2222, 4000]);
            Assert.Equal(4, chunks.Count);
            Assert.NotNull(store.GetDocument(chunks[2222].DocumentId));
            return GC.GetAllocatedBytesForCurrentThread() - before;
        }
        var inPlace = Allocated(() => MetadataStore.Open(path, readOnly: true), lazy: true);
        var copied = Allocated(() => MetadataStore.OpenSnapshot(path), lazy: false);
        Assert.True(copied > fileSize, $"the snapshot allocated {copied:N0} bytes for a {fileSize:N0}-byte store"); // the measure sees a copy
        Assert.True(inPlace < fileSize / 4, $"a read-only open and a page of reads allocated {inPlace:N0} bytes for a {fileSize:N0}-byte store");
    }

    [Fact]
    public void OpenReadOnly_StoreWrittenBeforeTheCheckpointSequence_ReadsInPlaceThenAWriterTakesItOver()
    {
        using var dir = new TempDir();
        var fixture = Path.Combine(RepoPaths.Tests, "SemanticSearch.Engine.Tests", "Fixtures", "index-v1");
        var path = Path.Combine(dir.Path, "metadata.db");
        File.Copy(Path.Combine(fixture, "metadata.db"), path);
        using var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(fixture, "manifest.json")));
        var counts = manifest.RootElement.GetProperty("counts");
        var expected = new MetadataCounts(counts.GetProperty("documents").GetInt64(), counts.GetProperty("chunks").GetInt64(), counts.GetProperty("bytes").GetInt64());
        var sequenceFile = Path.Combine(dir.Path, "metadata.checkpoints");

        using (var reader = MetadataStore.Open(path, readOnly: true))
        {
            Assert.True(reader.ReadsInPlace);
            Assert.Equal(expected, reader.Counts());
            Assert.Null(reader.VerifyContent());
            Assert.Equal(expected.Chunks, reader.AllChunks().Count());
        }
        Assert.False(File.Exists(sequenceFile), "a reader wrote beside the store");

        using var old = MetadataStore.Open(path, readOnly: true); // opened before any writer of this version
        long next;
        using (var writer = MetadataStore.Open(path, readOnly: false))
        {
            next = writer.NextChunkId;
            writer.BeginTransaction();
            writer.UpsertMany([Doc("added", 1, ref next)]);
            writer.NextChunkId = next;
            writer.Commit();
        }
        Assert.True(File.Exists(sequenceFile));
        Assert.Equal(expected.Documents + 1, old.Counts().Documents); // it saw the writer's checkpoint and moved on
        using var fresh = MetadataStore.Open(path, readOnly: true);
        Assert.Equal(new MetadataCounts(expected.Documents + 1, expected.Chunks + 4, expected.Bytes + Size), fresh.Counts());
        Assert.Null(fresh.VerifyContent());
    }

    [Fact]
    public void OpenReadOnly_SequenceLeftOddByAKilledWriter_ReadsAPrivateCopy()
    {
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "metadata.db");
        long next = 1;
        using (var writer = MetadataStore.Open(path, readOnly: false))
        {
            writer.BeginTransaction();
            writer.UpsertMany([Doc("a", 0, ref next)]);
            writer.Commit();
        }
        // as a writer killed inside a checkpoint leaves it
        var sequenceFile = Path.Combine(dir.Path, "metadata.checkpoints");
        var bytes = File.ReadAllBytes(sequenceFile);
        Assert.Equal(16, bytes.Length);
        Assert.Equal(0, BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(8)) % 2);
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(8), BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(8)) + 1);
        File.WriteAllBytes(sequenceFile, bytes);

        using (var reader = MetadataStore.Open(path, readOnly: true))
        {
            Assert.False(reader.ReadsInPlace);
            Assert.Equal(new MetadataCounts(1, 4, Size), reader.Counts());
            Assert.Equal(4, reader.GetChunks([1, 2, 3, 4]).Count);
        }
        // the next writer's open makes it even again
        using (MetadataStore.Open(path, readOnly: false))
        {
        }
        Assert.Equal(0, BinaryPrimitives.ReadInt64LittleEndian(File.ReadAllBytes(sequenceFile).AsSpan(8)) % 2);
    }

    [Fact]
    public void OpenReadOnly_StoreMovedAwayAfterItsWriterCloses_ReadsFailAsNotFound()
    {
        using var dir = new TempDir();
        var folder = Path.Combine(dir.Path, "index");
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, "metadata.db");
        long next = 1;
        var writer = MetadataStore.Open(path, readOnly: false);
        writer.BeginTransaction();
        writer.UpsertMany([Doc("a", 0, ref next)]);
        writer.Commit();
        using var reader = MetadataStore.Open(path, readOnly: true);
        Assert.Equal(1, reader.Counts().Documents);

        // as the server deletes an index: the folder is moved to a tombstone, then the writer closes
        Directory.Move(folder, folder + ".deleted");
        writer.Dispose();

        Assert.Throws<SemanticSearch.Core.NotFoundException>(() => reader.Counts());
    }
}
