using System.Text.Json;
using SemanticSearch.Engine;
using SemanticSearch.Engine.Search;
using SemanticSearch.Tests.Cli;

namespace SemanticSearch.Tests.Hostile;

/// <summary>
/// Issue #8: the real <c>semsearch index</c> over the hostile corpus finishes, indexes every readable file (its
/// planted word finds it and only it), lists every other file as skipped with a reason, never lists what it must not
/// follow, and a second run changes nothing.
/// </summary>
public sealed class HostileCorpusTests
{
    private sealed record Report(int FilesSeen, int Added, int Updated, int Unchanged, int Removed, Dictionary<string, string> Skipped);

    private static Report Parse(CliRunner.Result run)
    {
        using var json = JsonDocument.Parse(run.Stdout);
        var r = json.RootElement;
        var skipped = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var s in r.GetProperty("skipped").EnumerateArray())
        {
            skipped.Add(s.GetProperty("path").GetString()!, s.GetProperty("reason").GetString()!);
        }
        return new Report(r.GetProperty("filesSeen").GetInt32(), r.GetProperty("added").GetInt32(), r.GetProperty("updated").GetInt32(),
            r.GetProperty("unchanged").GetInt32(), r.GetProperty("removed").GetInt32(), skipped);
    }

    [Fact]
    public void Index_HostileCorpus_EveryFileIndexedOrSkippedWithAReasonAndReRunChangesNothing()
    {
        using var indexes = new TempDir();
        var source = Path.Combine(Path.GetTempPath(), "semsearch-tests", "hostile-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(source);
        try
        {
            var corpus = HostileCorpus.Write(source);
            var indexed = corpus.Where(e => e.Expected == Outcome.Indexed).ToList();
            var skippedExpected = corpus.Where(e => e.Expected == Outcome.Skipped).ToList();

            var first = CliRunner.Run(indexes.Path, "index", source, "--index", "hostile", "--model", "none", "--json");
            // Exit 2 is the documented "finished, some files skipped"; anything else is a crash or a refusal.
            Assert.True(first.ExitCode == 2, $"exit {first.ExitCode}\nstdout: {first.Stdout}\nstderr: {first.Stderr}");
            var report = Parse(first);

            foreach (var e in skippedExpected)
            {
                Assert.True(report.Skipped.TryGetValue(Path.Combine(source, e.Id), out var reason), $"{e.What} ({Show(e.Id)}) is not listed as skipped; skipped: {string.Join(", ", report.Skipped.Keys.Select(Show))}");
                Assert.Contains(e.Reason!, reason, StringComparison.OrdinalIgnoreCase);
            }
            Assert.Equal(skippedExpected.Select(e => Path.Combine(source, e.Id)).Order(StringComparer.Ordinal), report.Skipped.Keys.Order(StringComparer.Ordinal));
            Assert.Equal(indexed.Count, report.Added);
            Assert.Equal(indexed.Count + skippedExpected.Count, report.FilesSeen);
            Assert.Equal(0, report.Updated + report.Unchanged + report.Removed);

            using (var index = SemanticIndex.OpenReadOnly(Path.Combine(indexes.Path, "hostile")))
            {
                // Exactly the indexed entries are documents of this folder: nothing reached through a link, no hidden file.
                Assert.Equal(indexed.Select(e => e.Id).Order(StringComparer.Ordinal),
                    index.Metadata.DocumentIdsFromSource(Path.GetFullPath(source)).Order(StringComparer.Ordinal));
                var searcher = new Searcher(index);
                foreach (var e in indexed)
                {
                    var hits = searcher.Search(new SearchRequest(e.Word!, K: 5, Mode: SearchMode.Lexical)).Hits;
                    Assert.True(hits.Count == 1 && hits[0].DocId == e.Id,
                        $"'{e.Word}' should find only {e.What} ({Show(e.Id)}); found [{string.Join(", ", hits.Select(h => Show(h.DocId)))}]");
                }
                // Words planted in files that must be skipped are not searchable.
                foreach (var word in new[] { "hostiletruncatedpdf", "hostilenotazip", "hostilenobom", "hostilenulearly", "hostilehiddenfile", "hostilebadname" })
                {
                    Assert.Empty(searcher.Search(new SearchRequest(word, K: 5, Mode: SearchMode.Lexical)).Hits);
                }
            }

            // The same files skipped for the same reasons, all already reported by the first run: exit 0 (issue 19).
            var second = CliRunner.Run(indexes.Path, "index", source, "--index", "hostile", "--model", "none", "--json");
            Assert.True(second.ExitCode == 0, $"exit {second.ExitCode}\nstderr: {second.Stderr}");
            using (var json = JsonDocument.Parse(second.Stdout))
            {
                Assert.Equal(0, json.RootElement.GetProperty("newlySkipped").GetInt32());
                Assert.All(json.RootElement.GetProperty("skipped").EnumerateArray(), s => Assert.True(s.GetProperty("known").GetBoolean()));
            }
            var again = Parse(second);
            Assert.Equal(new[] { 0, 0, 0, indexed.Count }, new[] { again.Added, again.Updated, again.Removed, again.Unchanged });
            Assert.Equal(report.Skipped.OrderBy(kv => kv.Key, StringComparer.Ordinal), again.Skipped.OrderBy(kv => kv.Key, StringComparer.Ordinal));
        }
        finally
        {
            HostileCorpus.Delete(source);
        }
    }

    [Fact]
    public void Index_HostileCorpus_TextOutputNamesEverySkippedFileOnStderr()
    {
        using var indexes = new TempDir();
        var source = Path.Combine(Path.GetTempPath(), "semsearch-tests", "hostile-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(source);
        try
        {
            var corpus = HostileCorpus.Write(source, hugeFile: false);
            var run = CliRunner.Run(indexes.Path, "index", source, "--index", "hostile", "--model", "none");
            Assert.True(run.ExitCode == 2, $"exit {run.ExitCode}\nstderr: {run.Stderr}");
            Assert.DoesNotContain("   at ", run.Stderr); // no stack trace
            foreach (var e in corpus.Where(e => e.Expected == Outcome.Skipped))
            {
                Assert.Contains($"skipped {Path.Combine(source, e.Id)}: ", run.Stderr);
            }
        }
        finally
        {
            HostileCorpus.Delete(source);
        }
    }

    /// <summary>
    /// The corpus is what it claims to be, checked against the file system. With <c>SEMSEARCH_HOSTILE_CORPUS</c> set
    /// to an empty or missing folder, the corpus is written there and kept: tests/reliability/hostile.sh uses this to
    /// run the CLI over it under <c>/usr/bin/time</c>.
    /// </summary>
    [Fact]
    public void Write_HostileCorpus_EntriesExistAsDescribed()
    {
        var keep = Environment.GetEnvironmentVariable("SEMSEARCH_HOSTILE_CORPUS");
        var root = keep is { Length: > 0 } ? Path.GetFullPath(keep) : Path.Combine(Path.GetTempPath(), "semsearch-tests", "hostile-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(root);
        Assert.Empty(Directory.EnumerateFileSystemEntries(root));
        try
        {
            var corpus = HostileCorpus.Write(root);
            Assert.Equal(corpus.Count, corpus.Select(e => e.Id).Distinct(StringComparer.Ordinal).Count());
            foreach (var e in corpus.Where(e => !e.Id.Contains('\uFFFD')))
            {
                var info = new FileInfo(Path.Combine(root, e.Id));
                Assert.True(info.Exists || info.LinkTarget is not null, $"{e.Id} was not written");
            }
            var huge = new FileInfo(Path.Combine(root, "huge.txt"));
            Assert.Equal(HostileCorpus.HugeFileBytes, huge.Length);
            // The lying bomb declares 1 KiB for its 64 MiB part; the honest one declares the truth.
            using (var zip = new System.IO.Compression.ZipArchive(File.OpenRead(Path.Combine(root, "lying-bomb.docx"))))
            {
                Assert.Equal(1024, zip.GetEntry("word/document.xml")!.Length);
            }
            using (var zip = new System.IO.Compression.ZipArchive(File.OpenRead(Path.Combine(root, "bomb.docx"))))
            {
                Assert.True(zip.GetEntry("word/document.xml")!.Length > 64L << 20);
            }
            // The non-UTF-8 name is listed under its decoded name, which cannot be opened.
            Assert.Contains(Path.Combine(root, "latin1-\uFFFD.txt"), Directory.GetFiles(root));
            Assert.False(File.Exists(Path.Combine(root, "latin1-\uFFFD.txt")));
        }
        finally
        {
            if (keep is not { Length: > 0 })
            {
                HostileCorpus.Delete(root);
            }
        }
    }

    // Newlines and other control characters printed raw would make an assertion message unreadable.
    private static string Show(string id) => JsonSerializer.Serialize(id);
}
