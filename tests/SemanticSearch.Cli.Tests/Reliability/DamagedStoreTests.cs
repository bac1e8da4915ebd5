using SemanticSearch.Engine.Storage;
using SemanticSearch.Tests.Cli;

namespace SemanticSearch.Tests.Reliability;

/// <summary>
/// Issue 15, finding 9: errors on a damaged index name the store and the file and say what works (repair where it
/// can, re-index where it cannot); a damaged vector file leaves lexical search working.
/// </summary>
public sealed class DamagedStoreTests
{
    private static (TempDir Root, TempDir Source, string Dir) Build()
    {
        var root = new TempDir();
        var src = new TempDir();
        GeneratedCorpus.Write(src.Path, 20, seed: 9);
        var r = CliRunner.Run(root.Path, "index", src.Path, "--index", "dmg", "--model", TestModels.TestBertDirectory, "--chunk-tokens", "64", "--chunk-overlap", "8");
        Assert.True(r.ExitCode == 0, r.Stderr);
        return (root, src, Path.Combine(root.Path, "dmg"));
    }

    private static string OneLine(CliRunner.Result r)
    {
        Assert.Equal(1, r.ExitCode);
        var lines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, r.Stderr);
        Assert.DoesNotContain("unexpected error", lines[0]);
        return lines[0];
    }

    private static void FlipMiddle(string path)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
        fs.Position = fs.Length / 2;
        var b = fs.ReadByte();
        fs.Position = fs.Length / 2;
        fs.WriteByte((byte)(b ^ 0x5a));
    }

    [Fact]
    public void Search_VectorFileDamaged_LexicalWorksHybridNamesTheFileAndRepair()
    {
        var (root, src, dir) = Build();
        using (root)
        using (src)
        {
            var vectors = Directory.GetFiles(dir, "vectors.*.hnsw").Single(f => f.EndsWith(IndexManifest.Read(dir).VectorFile!, StringComparison.Ordinal));
            FlipMiddle(vectors);
            var lexical = CliRunner.Run(root.Path, "search", "river honey", "--index", "dmg", "--mode", "lexical", "--model", TestModels.TestBertDirectory, "--json");
            Assert.True(lexical.ExitCode == 0, lexical.Stderr);
            Assert.Contains("\"docId\"", lexical.Stdout);
            var hybrid = OneLine(CliRunner.Run(root.Path, "search", "river honey", "--index", "dmg", "--model", TestModels.TestBertDirectory));
            Assert.Contains(Path.GetFileName(vectors), hybrid);
            Assert.Contains("semsearch repair", hybrid);
            Assert.Contains("--mode lexical", hybrid);
        }
    }

    [Fact]
    public void Search_LexicalCommitFileDeleted_NamesTheLexicalStoreAndRepairNotAnotherWriter()
    {
        var (root, src, dir) = Build();
        using (root)
        using (src)
        {
            foreach (var f in Directory.GetFiles(Path.Combine(dir, "lexical"), "*.cfs"))
            {
                File.Delete(f);
            }
            var line = OneLine(CliRunner.Run(root.Path, "search", "river honey", "--index", "dmg", "--mode", "lexical", "--model", TestModels.TestBertDirectory));
            Assert.Contains("lexical", line);
            Assert.Contains("semsearch repair", line);
            Assert.DoesNotContain("writer", line);
        }
    }

    [Fact]
    public void Search_MetadataPageDamaged_NamesMetadataAndSaysRepairCannotRebuildIt()
    {
        var (root, src, dir) = Build();
        using (root)
        using (src)
        {
            var db = Path.Combine(dir, "metadata.db");
            var bytes = File.ReadAllBytes(db);
            // one 8 KiB LiteDB page in the middle overwritten: a structural fault LiteDB finds only when it reads there
            var page = bytes.Length / 2 / 8192 * 8192;
            Array.Fill(bytes, (byte)0xff, page, Math.Min(8192, bytes.Length - page));
            File.WriteAllBytes(db, bytes);
            var failures = 0;
            foreach (var query in GeneratedCorpus.Queries)
            {
                var r = CliRunner.Run(root.Path, "search", query, "--index", "dmg", "--mode", "lexical", "-k", "50", "--model", TestModels.TestBertDirectory);
                if (r.ExitCode != 0)
                {
                    var line = OneLine(r);
                    Assert.Contains("metadata.db", line);
                    Assert.Contains("index the sources again", line);
                    failures++;
                }
            }
            var verify = CliRunner.Run(root.Path, "verify", "--index", "dmg");
            Assert.Equal(1, verify.ExitCode);
            Assert.Contains("metadata", verify.Stdout);
            Assert.True(failures > 0 || !verify.Stdout.Contains("unexpected", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void Verify_ManifestDamaged_DoesNotSuggestRepairWhichCannotRebuildIt()
    {
        var (root, src, dir) = Build();
        using (root)
        using (src)
        {
            FlipMiddle(Path.Combine(dir, IndexManifest.FileName));
            var r = CliRunner.Run(root.Path, "verify", "--index", "dmg");
            Assert.Equal(1, r.ExitCode);
            Assert.Contains("manifest", r.Stdout);
            Assert.DoesNotContain("semsearch repair", r.Stdout);
            Assert.Contains("index the sources again", r.Stdout);
        }
    }
}
