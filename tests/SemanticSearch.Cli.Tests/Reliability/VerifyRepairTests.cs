using System.Text;
using SemanticSearch.Core.Encoding;
using SemanticSearch.Engine;
using SemanticSearch.Engine.Indexing;
using SemanticSearch.Engine.Search;
using SemanticSearch.Engine.Storage;
using SemanticSearch.Tests.Cli;

namespace SemanticSearch.Tests.Reliability;

/// <summary>'semsearch verify' finds one flipped byte in each store; 'semsearch repair' rebuilds a damaged derived store.</summary>
public sealed class VerifyRepairTests : IDisposable
{
    private static readonly IndexSettings Settings = new() { Chunking = new(MaxTokens: 64, OverlapTokens: 8) };
    private readonly ITextEncoder _encoder = TestModels.OpenTestBert();

    public void Dispose() => _encoder.Dispose();

    private string Build(TempDir root)
    {
        var corpus = Path.Combine(root.Path, "corpus");
        GeneratedCorpus.Write(corpus, 40, seed: 3);
        File.WriteAllText(Path.Combine(corpus, "marker.txt"), "Zanzibarquux is a marker word that appears once.");
        var dir = Path.Combine(root.Path, "indexes", "v");
        using var index = SemanticIndex.OpenOrCreate(dir, Settings, _encoder);
        new FolderIndexer(index, Settings with { CommitEveryDocuments = 10 }).Run(corpus);
        return dir;
    }

    private static void FlipByte(string path, long offset)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
        fs.Position = offset;
        var b = fs.ReadByte();
        fs.Position = offset;
        fs.WriteByte((byte)(b ^ 0x20));
    }

    private static long IndexOf(byte[] haystack, byte[] needle)
    {
        for (var i = 0; i <= haystack.Length - needle.Length; i++)
        {
            if (haystack.AsSpan(i, needle.Length).SequenceEqual(needle))
            {
                return i;
            }
        }
        return -1;
    }

    [Fact]
    public void Verify_CleanIndex_ExitsZero()
    {
        using var root = new TempDir();
        Build(root);
        var result = CliRunner.Run(Path.Combine(root.Path, "indexes"), "verify", "--index", "v", "--json");
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("\"clean\": true", result.Stdout);
    }

    [Theory]
    [InlineData("manifest")]
    [InlineData("vectors")]
    [InlineData("lexical")]
    [InlineData("metadata")]
    public void Verify_OneFlippedByte_ReportsThatStore(string store)
    {
        using var root = new TempDir();
        var dir = Build(root);
        var manifest = IndexManifest.Read(dir);
        switch (store)
        {
            case "manifest":
                var text = File.ReadAllBytes(Path.Combine(dir, IndexManifest.FileName));
                FlipByte(Path.Combine(dir, IndexManifest.FileName), IndexOf(text, "\"tokenCounter\": \"model\""u8.ToArray()) + 18);
                break;
            case "vectors":
                var vectors = Path.Combine(dir, manifest.VectorFile!);
                FlipByte(vectors, new FileInfo(vectors).Length / 2);
                break;
            case "lexical":
                var segment = Directory.GetFiles(Path.Combine(dir, "lexical"), "*.cfs").OrderByDescending(f => new FileInfo(f).Length).First();
                FlipByte(segment, new FileInfo(segment).Length / 2);
                break;
            case "metadata":
                var db = Path.Combine(dir, "metadata.db");
                var offset = IndexOf(File.ReadAllBytes(db), Encoding.UTF8.GetBytes("Zanzibarquux"));
                Assert.True(offset >= 0, "the marker chunk text should be in metadata.db");
                FlipByte(db, offset + 3);
                break;
        }
        var result = CliRunner.Run(Path.Combine(root.Path, "indexes"), "verify", "--index", "v", "--json");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"\"store\": \"{store}\"", result.Stdout);
    }

    [Theory]
    [InlineData("lexical")]
    [InlineData("vectors")]
    public void Repair_DamagedDerivedStore_VerifiesCleanAndSearchesAsBefore(string store)
    {
        using var root = new TempDir();
        var dir = Build(root);
        List<(string, long, double)> Results(SemanticSearch.Engine.Search.SearchMode mode)
        {
            using var index = SemanticIndex.OpenReadOnly(dir, _ => _encoder);
            var searcher = new Searcher(index);
            var all = new List<(string, long, double)>();
            foreach (var q in GeneratedCorpus.Queries)
            {
                all.AddRange(searcher.Search(new SearchRequest(q, K: 10, Mode: mode)).Hits.Select(h => (h.DocId, h.ChunkId, Math.Round(h.Score, 4))));
            }
            return all;
        }
        var mode = store == "lexical" ? SearchMode.Lexical : SearchMode.Dense;
        var before = Results(mode);
        Assert.NotEmpty(before);

        if (store == "lexical")
        {
            Directory.Delete(Path.Combine(dir, "lexical"), recursive: true);
        }
        else
        {
            var vectors = Path.Combine(dir, IndexManifest.Read(dir).VectorFile!);
            FlipByte(vectors, new FileInfo(vectors).Length / 3);
        }
        Assert.False(IndexVerifier.Verify(dir).Clean);

        var rebuilt = SemanticIndex.Repair(dir, _encoder);
        Assert.Equal([store], rebuilt);
        var after = IndexVerifier.Verify(dir);
        Assert.True(after.Clean, string.Join("\n", after.Problems));
        Assert.Equal(before, Results(mode));
    }
}
