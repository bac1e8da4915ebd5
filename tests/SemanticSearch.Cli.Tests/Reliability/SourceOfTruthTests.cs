using System.Security.Cryptography;
using SemanticSearch.Engine.Storage;
using SemanticSearch.Tests.Cli;

namespace SemanticSearch.Tests.Reliability;

/// <summary>
/// Issue 15, finding 4: metadata.db is the source of truth. A missing or unreadable one under a manifest that records
/// documents is a fatal error naming it for index, repair and search alike; it is never recreated empty, repair never
/// publishes a generation that lost documents, and a failed repair leaves every file as it was.
/// </summary>
public sealed class SourceOfTruthTests
{
    private static (TempDir Root, TempDir Source, string Dir) Build()
    {
        var root = new TempDir();
        var src = new TempDir();
        GeneratedCorpus.Write(src.Path, 30, seed: 4);
        var r = CliRunner.Run(root.Path, "index", src.Path, "--index", "truth", "--model", "none", "--commit-every", "10");
        Assert.True(r.ExitCode == 0, r.Stderr);
        return (root, src, Path.Combine(root.Path, "truth"));
    }

    private static Dictionary<string, string> Hashes(string dir) =>
        Directory.GetFiles(dir, "*", SearchOption.AllDirectories)
            .Where(f => Path.GetFileName(f) != IndexWriteLock.FileName)
            .ToDictionary(f => Path.GetRelativePath(dir, f), f => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f))));

    private static void AssertFatalNamingMetadata(CliRunner.Result r)
    {
        Assert.Equal(1, r.ExitCode);
        var lines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith("indexing:", StringComparison.Ordinal)).ToList();
        Assert.True(lines.Count == 1, r.Stderr);
        Assert.Contains("metadata.db", lines[0]);
        Assert.Contains("30 documents", lines[0]);
        Assert.DoesNotContain("unexpected error", lines[0]);
    }

    [Theory]
    [InlineData("index")]
    [InlineData("repair")]
    [InlineData("search")]
    [InlineData("stats")]
    public void Command_MetadataDeleted_FailsNamingItAndRecreatesNothing(string command)
    {
        var (root, src, dir) = Build();
        using (root)
        using (src)
        {
            File.Delete(Path.Combine(dir, "metadata.db"));
            File.Delete(Path.Combine(dir, "metadata-log.db"));
            var before = Hashes(dir);
            var r = command switch
            {
                "index" => CliRunner.Run(root.Path, "index", src.Path, "--index", "truth"),
                "search" => CliRunner.Run(root.Path, "search", "river honey", "--index", "truth"),
                _ => CliRunner.Run(root.Path, command, "--index", "truth"),
            };
            AssertFatalNamingMetadata(r);
            Assert.False(File.Exists(Path.Combine(dir, "metadata.db")), "metadata.db was recreated");
            Assert.Equal(before, Hashes(dir));
        }
    }

    [Fact]
    public void Repair_TruncatedMetadata_FailsAndLeavesEveryFileAsItWas()
    {
        var (root, src, dir) = Build();
        using (root)
        using (src)
        {
            var metadata = Path.Combine(dir, "metadata.db");
            using (var fs = new FileStream(metadata, FileMode.Open, FileAccess.ReadWrite))
            {
                fs.SetLength(fs.Length / 3);
            }
            // and the lexical store damaged too, so repair has something it would rebuild
            foreach (var f in Directory.GetFiles(Path.Combine(dir, "lexical"), "*.cfs"))
            {
                File.WriteAllBytes(f, new byte[16]);
            }
            var before = Hashes(dir);
            var r = CliRunner.Run(root.Path, "repair", "--index", "truth");
            Assert.Equal(1, r.ExitCode);
            Assert.Contains("metadata.db", r.Stderr);
            Assert.DoesNotContain("unexpected error", r.Stderr);
            Assert.Equal(before, Hashes(dir));
        }
    }
}
