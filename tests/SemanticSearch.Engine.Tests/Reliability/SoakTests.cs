using System.Collections.Concurrent;
using System.Diagnostics;
using SemanticSearch.Core.Encoding;
using SemanticSearch.Engine;
using SemanticSearch.Engine.Indexing;
using SemanticSearch.Engine.Search;
using Xunit.Abstractions;

namespace SemanticSearch.Tests.Reliability;

/// <summary>
/// Readers during a writer: 8 searching threads on the writer's own instance plus one thread that keeps opening the
/// index read-only (as a separate CLI search would), while a folder job re-indexes a corpus over and over. Zero
/// exceptions, every hit hydrated, and the document count each reader sees never decreases. CI runs ~15 s; set
/// SEMSEARCH_SOAK_SECONDS=120 for the full form (results in docs/reliability.md).
/// </summary>
public sealed class SoakTests(ITestOutputHelper output) : IDisposable
{
    private readonly ITextEncoder _encoder = TestModels.OpenTestBert();

    public void Dispose() => _encoder.Dispose();

    [Fact]
    public async Task Search_EightReadersDuringIndexingJob_NoExceptionsAndMonotonicCounts()
    {
        var seconds = int.TryParse(Environment.GetEnvironmentVariable("SEMSEARCH_SOAK_SECONDS"), out var s) && s > 0 ? s : 15;
        using var root = new TempDir();
        var corpus = Path.Combine(root.Path, "corpus");
        GeneratedCorpus.Write(corpus, 150, seed: 11);
        var dir = Path.Combine(root.Path, "soak");
        var settings = new IndexSettings { Chunking = new(MaxTokens: 64, OverlapTokens: 8), CommitEveryDocuments = 10, CommitInterval = TimeSpan.FromSeconds(0.5) };
        var errors = new ConcurrentQueue<Exception>();
        var searches = 0L;
        var reopens = 0L;
        var commitsSeen = new ConcurrentDictionary<long, bool>();

        using var index = SemanticIndex.OpenOrCreate(dir, settings, _encoder);
        using var stop = new CancellationTokenSource();
        var clock = Stopwatch.StartNew();

        var writer = Task.Run(() =>
        {
            var round = 0;
            var rng = new Random(5);
            while (clock.Elapsed < TimeSpan.FromSeconds(seconds))
            {
                new FolderIndexer(index, settings).Run(corpus);
                // change a fifth of the files, so every later round re-embeds and replaces chunks
                foreach (var f in Directory.GetFiles(corpus, "*.txt", SearchOption.AllDirectories).Where((_, i) => i % 5 == round % 5))
                {
                    File.AppendAllText(f, $" revision {round} {rng.Next()}");
                }
                round++;
            }
            return round;
        });

        void Reader(int id)
        {
            var last = 0L;
            var searcher = new Searcher(index);
            var q = 0;
            while (!writer.IsCompleted)
            {
                try
                {
                    var count = index.Manifest.Counts.Documents;
                    Assert.True(count >= last, $"reader {id}: documents went from {last} to {count}");
                    last = count;
                    var mode = (SearchMode)(q % 3);
                    var response = searcher.Search(new SearchRequest(GeneratedCorpus.Queries[q++ % GeneratedCorpus.Queries.Length], K: 5, Mode: mode));
                    Assert.All(response.Hits, h => Assert.False(string.IsNullOrEmpty(h.Text), $"hit {h.ChunkId} did not hydrate"));
                    Interlocked.Increment(ref searches);
                }
                catch (Exception e)
                {
                    errors.Enqueue(e);
                    return;
                }
            }
        }

        void SeparateReader()
        {
            var last = 0L;
            while (!writer.IsCompleted)
            {
                try
                {
                    using var ro = SemanticIndex.OpenReadOnly(dir, _ => _encoder);
                    var count = ro.Manifest.Counts.Documents;
                    Assert.True(count >= last, $"read-only open: documents went from {last} to {count}");
                    last = count;
                    commitsSeen[ro.Manifest.Generation] = true;
                    Assert.Equal(ro.Manifest.Counts.Chunks, ro.Lexical.Count);
                    Assert.Equal(ro.Manifest.Counts.Vectors, ro.Vectors!.Count);
                    var response = new Searcher(ro).Search(new SearchRequest("river honey", K: 5, Mode: SearchMode.Hybrid));
                    Assert.All(response.Hits, h => Assert.False(string.IsNullOrEmpty(h.Text)));
                    Interlocked.Increment(ref reopens);
                }
                catch (Exception e)
                {
                    errors.Enqueue(e);
                    return;
                }
            }
        }

        var readers = Enumerable.Range(0, 8).Select(i => Task.Factory.StartNew(() => Reader(i), TaskCreationOptions.LongRunning)).ToList();
        readers.Add(Task.Factory.StartNew(SeparateReader, TaskCreationOptions.LongRunning));
        var rounds = await writer;
        await Task.WhenAll(readers);

        output.WriteLine($"soak: {seconds} s, {rounds} indexing rounds, {index.Manifest.Generation} commits, {searches} in-process searches, {reopens} read-only opens over {commitsSeen.Count} generations, {errors.Count} errors");
        Assert.True(errors.IsEmpty, string.Join("\n\n", errors.Take(3)));
        Assert.True(rounds >= 1 && index.Manifest.Generation > 5 && searches > 100 && reopens > 5, $"too little happened: {rounds} rounds, {searches} searches, {reopens} reopens");
        Assert.True(commitsSeen.Count > 1, "the read-only opens should have seen several generations");
    }
}
