using System.Globalization;
using System.Text;
using System.Text.Json;
using SemanticSearch.Engine.Storage;
using SemanticSearch.Tests.Reliability;

namespace SemanticSearch.Tests.Cli;

/// <summary>
/// <c>semsearch import</c> and <c>semsearch search --vector-file</c> (issue 20), through the real program: given vectors
/// are what a dense search ranks (checked against brute-force cosine over them), bad lines are reported by number and
/// the rest imported, and a re-run or a run after a kill writes every document exactly once.
/// </summary>
public sealed class ImportCommandTests
{
    private const int Dimensions = 32; // the seeded test model's

    private static string Line(string id, string text, float[]? vector = null, string? title = null, Dictionary<string, string>? metadata = null) =>
        JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["id"] = id,
            ["title"] = title ?? id,
            ["text"] = text,
            ["metadata"] = metadata,
            ["vector"] = vector,
        }.Where(kv => kv.Value is not null).ToDictionary());

    private static List<float[]> RandomVectors(int n, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => Enumerable.Range(0, Dimensions).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray()).ToList();
    }

    private static JsonElement Json(CliRunner.Result r)
    {
        Assert.True(r.Stdout.TrimStart().StartsWith('{'), $"exit {r.ExitCode}, stdout: {r.Stdout}\nstderr: {r.Stderr}");
        return JsonDocument.Parse(r.Stdout).RootElement;
    }

    private static long Documents(string indexes, string name) => IndexManifest.Read(Path.Combine(indexes, name)).Counts.Documents;

    [Fact]
    public void Import_WithVectors_SearchByVectorFileRanksAsBruteForceOverTheImportedVectors()
    {
        using var root = new TempDir();
        var vectors = RandomVectors(60, seed: 20);
        var file = root.File("docs.jsonl", string.Join('\n', vectors.Select((v, i) => Line($"d{i:D2}", $"document number {i} about nothing in particular", v))) + "\n");

        var import = CliRunner.Run(root.Path, "import", file, "--index", "vec", "--model", TestModels.TestBertDirectory, "--json");
        Assert.Equal(0, import.ExitCode);
        var summary = Json(import);
        Assert.Equal(60, summary.GetProperty("added").GetInt64());
        Assert.Equal(0, summary.GetProperty("rejectedCount").GetInt64());

        foreach (var target in new[] { 7, 41 })
        {
            var query = root.File($"q{target}.json", JsonSerializer.Serialize(vectors[target]));
            var search = CliRunner.Run(root.Path, "search", "--vector-file", query, "--index", "vec", "-k", "10", "--show-duplicates", "--json", "--model", TestModels.TestBertDirectory);
            Assert.Equal(0, search.ExitCode);
            var hits = Json(search).GetProperty("hits").EnumerateArray().Select(h => h.GetProperty("docId").GetString()!).ToList();
            var expected = vectors.Select((v, i) => (Id: $"d{i:D2}", Score: BruteForce.Cosine(vectors[target], v))).OrderByDescending(x => x.Score).Take(10).Select(x => x.Id).ToList();
            Assert.Equal($"d{target:D2}", hits[0]);
            Assert.Equal(expected, hits);
            Assert.Equal("dense", Json(search).GetProperty("mode").GetString());
        }
    }

    [Fact]
    public void Import_BadLines_AreReportedByLineNumberAndTheRestImported()
    {
        using var root = new TempDir();
        var v = RandomVectors(2, seed: 3);
        var lines = new[]
        {
            Line("a", "alpha text", v[0]),                                   // 1 ok
            "this is not json",                                              // 2
            "{\"title\":\"no id\",\"text\":\"t\"}",                          // 3
            "{\"id\":\"b\",\"title\":\"no text\"}",                          // 4
            Line("c", "gamma", [1f, 2f, 3f]),                                // 5 wrong dimension
            "{\"id\":\"d\",\"text\":\"t\",\"colour\":\"red\"}",              // 6 unknown field
            Line("e", "epsilon", metadata: new() { ["$secret"] = "x" }),     // 7 reserved key
            "{\"id\":\"f\",\"text\":\"t\",\"vector\":[" + string.Join(',', Enumerable.Repeat("1e999", Dimensions)) + "]}", // 8 not finite
            "",                                                              // 9 blank: neither a document nor an error
            Line("g", "the last good line", v[1]),                           // 10 ok
            Line("h", "embedded from its text, no vector"),                  // 11 ok
        };
        var file = root.File("bad.jsonl", string.Join('\n', lines));

        var r = CliRunner.Run(root.Path, "import", file, "--index", "mixed", "--model", TestModels.TestBertDirectory, "--json");

        Assert.Equal(2, r.ExitCode); // some lines rejected
        var summary = Json(r);
        var rejected = summary.GetProperty("rejected").EnumerateArray().Select(x => (Line: x.GetProperty("line").GetInt64(), Message: x.GetProperty("message").GetString()!)).ToList();
        Assert.Equal([2L, 3, 4, 5, 6, 7, 8], rejected.Select(x => x.Line));
        Assert.Contains("not valid JSON", rejected[0].Message);
        Assert.StartsWith("id:", rejected[1].Message);
        Assert.StartsWith("text:", rejected[2].Message);
        Assert.Contains($"has 3 dimensions; the index's space", rejected[3].Message);
        Assert.Contains(Dimensions.ToString(CultureInfo.InvariantCulture), rejected[3].Message);
        Assert.StartsWith("colour: unknown field", rejected[4].Message);
        Assert.Contains("'$secret'", rejected[5].Message);
        Assert.StartsWith("vector[0]:", rejected[6].Message);
        Assert.Equal(3, summary.GetProperty("added").GetInt64());
        Assert.Equal(11, summary.GetProperty("lines").GetInt64());
        Assert.Equal(3, Documents(root.Path, "mixed"));

        var text = CliRunner.Run(root.Path, "import", file, "--index", "mixed", "--model", TestModels.TestBertDirectory);
        Assert.Equal(2, text.ExitCode);
        Assert.Contains("rejected line 5: vector: has 3 dimensions", text.Stderr);
        Assert.Contains("3 unchanged, 7 rejected", text.Stdout);
    }

    [Fact]
    public void Import_HalfThenAll_WritesEveryDocumentOnceAndSkipsUnchanged()
    {
        using var root = new TempDir();
        var all = Enumerable.Range(0, 200).Select(i => Line($"doc-{i:D3}", $"lexical text {i} with words {i % 7} and {i % 11}")).ToList();
        var half = root.File("half.jsonl", string.Join('\n', all.Take(100)));
        var first = CliRunner.Run(root.Path, "import", half, "--index", "lex", "--model", "none", "--json");
        Assert.Equal(0, first.ExitCode);
        Assert.Equal(100, Json(first).GetProperty("added").GetInt64());

        all[10] = Line("doc-010", "this one changed since the first run");
        all[20] = Line("doc-020", "lexical text 20 with words 6 and 9", metadata: new() { ["team"] = "sea" }); // its metadata alone changed
        var full = root.File("all.jsonl", string.Join('\n', all) + "\n");
        var second = Json(CliRunner.Run(root.Path, "import", full, "--index", "lex", "--json"));

        Assert.Equal(100, second.GetProperty("added").GetInt64());
        Assert.Equal(2, second.GetProperty("updated").GetInt64());
        Assert.Equal(98, second.GetProperty("unchanged").GetInt64());
        Assert.Equal(200, Documents(root.Path, "lex"));
        var again = Json(CliRunner.Run(root.Path, "import", full, "--index", "lex", "--json"));
        Assert.Equal(200, again.GetProperty("unchanged").GetInt64());
        Assert.Equal(0, again.GetProperty("accepted").GetInt64());

        var search = Json(CliRunner.Run(root.Path, "search", "changed since", "--index", "lex", "--json"));
        Assert.Equal("doc-010", search.GetProperty("hits")[0].GetProperty("docId").GetString());
    }

    [Fact]
    public void Import_KilledAfterACommit_RerunWritesEveryDocumentExactlyOnce()
    {
        using var root = new TempDir();
        const int n = 3000;
        var file = root.File("many.jsonl", string.Join('\n', Enumerable.Range(0, n).Select(i =>
            Line($"k{i:D4}", $"document {i} of the kill test, the words {i % 13} {i % 17} and some more text to chunk and embed")) ) + "\n");
        var dir = Path.Combine(root.Path, "killed");
        long committedAtKill;
        using (var job = ReliabilityKit.Start(root.Path, "import", file, "--index", "killed", "--model", TestModels.TestBertDirectory, "--commit-every", "50", "--commit-interval", "0.2"))
        {
            var waited = System.Diagnostics.Stopwatch.StartNew();
            while (!job.HasExited && Committed(dir) <= 0 && waited.Elapsed < TimeSpan.FromMinutes(2))
            {
                Thread.Sleep(5);
            }
            Assert.False(job.HasExited, "the import finished before it could be killed; the test tests nothing");
            job.Kill(); // SIGKILL, mid-import
            job.WaitForExit();
            committedAtKill = Committed(dir);
        }
        Assert.InRange(committedAtKill, 1, n - 1);

        var rerun = CliRunner.Run(root.Path, "import", file, "--index", "killed", "--model", TestModels.TestBertDirectory, "--json");
        Assert.Equal(0, rerun.ExitCode);
        var summary = Json(rerun);
        Assert.Equal(n, Documents(root.Path, "killed"));
        Assert.Equal(committedAtKill, summary.GetProperty("unchanged").GetInt64());
        Assert.Equal(n - committedAtKill, summary.GetProperty("added").GetInt64());
        Assert.Equal(0, summary.GetProperty("updated").GetInt64());
        using var encoder = TestModels.OpenTestBert();
        Assert.Equal(n, ReliabilityKit.AssertStoresAgree(dir, encoder));
    }

    private static long Committed(string dir)
    {
        try
        {
            return IndexManifest.Read(dir).Counts.Documents;
        }
        catch (Exception e) when (e is SemanticSearch.Core.SemanticSearchException or IOException)
        {
            return -1;
        }
    }

    [Fact]
    public void Import_ExistingIndexOfAnotherModel_FailsNamingBoth()
    {
        using var root = new TempDir();
        var file = root.File("one.jsonl", Line("x", "some text") + "\n");
        Assert.Equal(0, CliRunner.Run(root.Path, "import", file, "--index", "lex", "--model", "none").ExitCode);

        var r = CliRunner.Run(root.Path, "import", file, "--index", "lex", "--model", TestModels.TestBertDirectory);

        Assert.Equal(1, r.ExitCode);
        var model = Path.GetFileName(TestModels.TestBertDirectory);
        Assert.Contains("none (BM25 only)", r.Stderr);
        Assert.Contains(model, r.Stderr);
        Assert.Single(r.Stderr.Trim().Split('\n')); // one line
    }

    [Fact]
    public void Import_VectorIntoLexicalIndex_IsRejectedPerLine()
    {
        using var root = new TempDir();
        var file = root.File("v.jsonl", Line("x", "text", RandomVectors(1, 1)[0]) + "\n" + Line("y", "plain text") + "\n");
        var r = CliRunner.Run(root.Path, "import", file, "--index", "lex", "--model", "none", "--json");
        Assert.Equal(2, r.ExitCode);
        var rejected = Json(r).GetProperty("rejected")[0];
        Assert.Equal(1, rejected.GetProperty("line").GetInt64());
        Assert.Contains("lexical only", rejected.GetProperty("message").GetString());
        Assert.Equal(1, Documents(root.Path, "lex"));
    }

    [Fact]
    public void Import_MissingFile_IsOneLineError()
    {
        using var root = new TempDir();
        var r = CliRunner.Run(root.Path, "import", Path.Combine(root.Path, "nope.jsonl"), "--index", "x", "--model", "none");
        Assert.Equal(1, r.ExitCode);
        Assert.Equal("error: file not found: " + Path.Combine(root.Path, "nope.jsonl"), r.Stderr.Trim());
        var help = CliRunner.Run(root.Path, "import", "--help");
        Assert.Equal(0, help.ExitCode);
        Assert.Contains("--commit-every", help.Stdout);
    }

    [Fact]
    public void SearchVectorFile_Refusals_NameTheProblem()
    {
        using var root = new TempDir();
        var vectors = RandomVectors(3, seed: 9);
        var file = root.File("docs.jsonl", string.Join('\n', vectors.Select((v, i) => Line($"d{i}", $"text {i}", v))));
        Assert.Equal(0, CliRunner.Run(root.Path, "import", file, "--index", "vec", "--model", TestModels.TestBertDirectory).ExitCode);
        var good = root.File("q.json", JsonSerializer.Serialize(vectors[0]));
        var shortVector = root.File("short.json", "[1, 2, 3]");
        var notArray = root.File("obj.json", "{\"vector\": [1]}");
        var zeros = root.File("zeros.json", JsonSerializer.Serialize(new float[Dimensions]));
        CliRunner.Result Search(params string[] more) =>
            CliRunner.Run(root.Path, ["search", "--index", "vec", "--model", TestModels.TestBertDirectory, .. more]);

        var lexical = Search("--vector-file", good, "--mode", "lexical");
        Assert.Equal(64, lexical.ExitCode);
        Assert.Contains("--vector-file: is for dense and hybrid", lexical.Stderr);
        var denseWithQuery = Search("words", "--vector-file", good, "--mode", "dense");
        Assert.Equal(64, denseWithQuery.ExitCode);
        Assert.Contains("takes no query text", denseWithQuery.Stderr);
        var dims = Search("--vector-file", shortVector);
        Assert.Equal(1, dims.ExitCode);
        Assert.Contains($"has 3 dimensions", dims.Stderr);
        Assert.Equal(64, Search("--vector-file", notArray).ExitCode);
        var zero = Search("--vector-file", zeros);
        Assert.Equal(64, zero.ExitCode);
        Assert.Contains("all zeros", zero.Stderr);
        Assert.Equal(64, Search("--vector-file", Path.Combine(root.Path, "missing.json")).ExitCode);
        var neither = Search();
        Assert.Equal(64, neither.ExitCode);
        Assert.Contains("<query> is missing", neither.Stderr);

        // hybrid: the query ranks BM25, the vector the dense side
        var hybrid = Search("text", "--vector-file", good, "--json");
        Assert.Equal(0, hybrid.ExitCode);
        Assert.Equal("hybrid", Json(hybrid).GetProperty("mode").GetString());
    }
}
