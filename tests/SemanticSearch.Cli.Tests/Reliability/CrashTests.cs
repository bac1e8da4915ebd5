using SemanticSearch.Core.Encoding;
using SemanticSearch.Engine;
using SemanticSearch.Engine.Search;
using SemanticSearch.Engine.Storage;

namespace SemanticSearch.Tests.Reliability;

/// <summary>
/// The crash harness in CI form: the real <c>semsearch index</c> process, with the seeded test BERT (so vectors,
/// Lucene and LiteDB are all written), killed with SIGKILL at random moments; after each kill the index must reopen
/// with its three stores in agreement and never fewer committed documents than before. The full form (2,000
/// documents, 20 kills) is tests/reliability/crash.sh.
/// </summary>
public sealed class CrashTests : IDisposable
{
    private readonly ITextEncoder _encoder = TestModels.OpenTestBert();

    public void Dispose() => _encoder.Dispose();

    [Fact]
    public void IndexJob_KilledFiveTimes_ReopensConsistentAndFinalRunEqualsCleanBuild()
    {
        using var root = new TempDir();
        var corpus = Path.Combine(root.Path, "corpus");
        GeneratedCorpus.Write(corpus, 240);
        var indexes = Path.Combine(root.Path, "indexes");
        string[] Args(string name) => ["index", corpus, "--index", name, "--model", TestModels.TestBertDirectory, "--chunk-tokens", "64", "--chunk-overlap", "8", "--commit-every", "15", "--commit-interval", "0.3"];

        // the reference: one uninterrupted run
        using (var clean = ReliabilityKit.Start(indexes, Args("clean")))
        {
            Assert.True(clean.WaitForExit(TimeSpan.FromMinutes(3)), "clean build did not finish");
            Assert.Equal(0, clean.ExitCode);
        }

        var crashDir = Path.Combine(indexes, "crash");
        var rng = new Random(20261123);
        long lastDocuments = 0;
        var killedMidway = 0;
        for (var kill = 0; kill < 5; kill++)
        {
            var generationBefore = CommittedGeneration(crashDir);
            using var job = ReliabilityKit.Start(indexes, Args("crash"));
            // Kill at a random moment once this run has committed something, so the kill lands inside the job whatever
            // the machine's speed (a fixed delay missed the job on a fast machine, where a resumed run has little left):
            // wait for the first commit of this run (or the end of the job), then up to ~half a commit interval more.
            var waited = System.Diagnostics.Stopwatch.StartNew();
            while (!job.HasExited && CommittedGeneration(crashDir) <= generationBefore && waited.Elapsed < TimeSpan.FromMinutes(1))
            {
                Thread.Sleep(5);
            }
            Thread.Sleep(rng.Next(150));
            if (!job.HasExited)
            {
                job.Kill(); // SIGKILL
                killedMidway++;
            }
            job.WaitForExit();
            if (!File.Exists(Path.Combine(crashDir, IndexManifest.FileName)))
            {
                continue; // killed before the index was created
            }

            // a reader may open right away (before any writer recovers the index) and every hit hydrates
            using (var reader = SemanticIndex.OpenReadOnly(crashDir, _ => _encoder))
            {
                var response = new Searcher(reader).Search(new SearchRequest(GeneratedCorpus.Queries[kill], K: 10, Mode: SearchMode.Hybrid));
                Assert.All(response.Hits, h => Assert.NotNull(reader.Metadata.GetDocument(h.DocId)));
            }

            // the next writer recovers (stale lock, interrupted commit), then the stores agree
            using (SemanticIndex.OpenOrCreate(crashDir, new IndexSettings(), _encoder))
            {
            }
            var documents = ReliabilityKit.AssertStoresAgree(crashDir, _encoder);
            Assert.True(documents >= lastDocuments, $"committed documents went from {lastDocuments} to {documents} after kill {kill + 1}");
            lastDocuments = documents;
            var verify = IndexVerifier.Verify(crashDir);
            Assert.True(verify.Clean, string.Join("\n", verify.Problems));
        }
        Assert.True(killedMidway >= 3, $"only {killedMidway} of 5 kills hit a running job; the harness is not testing anything");

        // the final run completes and resumes from what was committed
        using (var final = ReliabilityKit.Start(indexes, Args("crash")))
        {
            Assert.True(final.WaitForExit(TimeSpan.FromMinutes(3)), "final run did not finish");
            Assert.Equal(0, final.ExitCode);
        }
        ReliabilityKit.AssertStoresAgree(crashDir, _encoder);

        using var cleanIndex = SemanticIndex.OpenReadOnly(Path.Combine(indexes, "clean"), _ => _encoder);
        using var crashIndex = SemanticIndex.OpenReadOnly(crashDir, _ => _encoder);
        Assert.Equal(cleanIndex.Metadata.Counts(), crashIndex.Metadata.Counts());
        foreach (var query in GeneratedCorpus.Queries)
        {
            foreach (var mode in new[] { SearchMode.Lexical, SearchMode.Dense, SearchMode.Hybrid })
            {
                var expected = new Searcher(cleanIndex).Search(new SearchRequest(query, K: 10, Mode: mode)).Hits;
                var actual = new Searcher(crashIndex).Search(new SearchRequest(query, K: 10, Mode: mode)).Hits;
                // the same hits in the same order; scores within the encoder's batching tolerance (a resumed job embeds
                // in other batches, and float vectors agree across batchings to 1e-5, not bit for bit: rounding both to
                // a fixed number of decimals would turn a 1e-7 difference at a rounding boundary into a failure)
                Assert.Equal(expected.Select(h => (h.DocId, h.ChunkId)), actual.Select(h => (h.DocId, h.ChunkId)));
                for (var i = 0; i < expected.Count; i++)
                {
                    Assert.True(Math.Abs(expected[i].Score - actual[i].Score) < 1e-4,
                        $"{mode} '{query}' hit {i} ({expected[i].DocId}): clean build scores {expected[i].Score}, resumed build {actual[i].Score}");
                }
            }
        }
    }

    // The generation the index's manifest names, or -1 before there is a readable manifest.
    private static long CommittedGeneration(string directory)
    {
        try
        {
            return IndexManifest.Read(directory).Generation;
        }
        catch (Exception e) when (e is SemanticSearch.Core.SemanticSearchException or IOException)
        {
            return -1;
        }
    }
}
