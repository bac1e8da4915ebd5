using SemanticSearch.Engine;
using SemanticSearch.Tests.Cli;

namespace SemanticSearch.Tests.Reliability;

/// <summary>The commit protocol's write lock as the program reports it: the CLI side of CommitProtocolTests.</summary>
public sealed class CommitProtocolCliTests
{
    [Fact]
    public void IndexCommand_IndexHeldByAnotherProcess_PrintsOneLineAndExits1()
    {
        using var root = new TempDir();
        using var src = new TempDir();
        src.File("a.txt", "some words to index");
        var dir = Path.Combine(root.Path, "held");
        using (SemanticIndex.OpenOrCreate(dir, new IndexSettings()))
        {
            var result = CliRunner.Run(root.Path, "index", src.Path, "--index", "held", "--model", "none");
            Assert.Equal(1, result.ExitCode);
            var lines = result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Single(lines);
            Assert.Contains("locked by another writer", lines[0]);
            Assert.Contains($"pid {Environment.ProcessId}", lines[0]);
            Assert.Contains(dir, lines[0]);
        }
    }
}
