using SemanticSearch.Core.Encoding;
using SemanticSearch.Engine;
using SemanticSearch.Engine.Indexing;

namespace SemanticSearch.Tests.Indexing;

/// <summary>A real folder job's progress: files, chunks and tokens embedded, the file being embedded, a time left.</summary>
public sealed class IndexingProgressTests : IDisposable
{
    private static readonly IndexSettings Settings = new() { Chunking = new(MaxTokens: 64, OverlapTokens: 8) };
    private readonly ITextEncoder _encoder = TestModels.OpenTestBert();

    public void Dispose() => _encoder.Dispose();

    private sealed class Recorder : IProgress<IndexingProgress>
    {
        public List<IndexingProgress> Reports { get; } = [];

        public void Report(IndexingProgress value)
        {
            lock (Reports)
            {
                Reports.Add(value);
            }
        }
    }

    [Fact]
    public void Run_LargeFileAmongSmallOnes_ReportsTokensAndTheFileAsItIsEmbedded()
    {
        using var src = new TempDir();
        using var idx = new TempDir();
        for (var i = 0; i < 5; i++)
        {
            src.File($"small-{i}.txt", $"small file number {i} about tide pools and hermit crabs.");
        }
        var words = string.Join(' ', Enumerable.Range(0, 12_000).Select(i => $"word{i % 997}"));
        src.File("big.txt", words);
        // a clock that moves one second per reading, so every report is a sample
        var ticks = 0;
        var recorder = new Recorder();
        IndexingReport report;
        using (var index = SemanticIndex.OpenOrCreate(idx.Path, Settings, _encoder))
        {
            report = new FolderIndexer(index, Settings) { Clock = () => TimeSpan.FromSeconds(Interlocked.Increment(ref ticks)) }.Run(src.Path, recorder);
        }

        var reports = recorder.Reports;
        var last = reports[^1];
        Assert.Equal(6, last.Processed);
        Assert.Equal(report.ChunksWritten, last.ChunksEmbedded);
        Assert.True(last.TokensEmbedded > 12_000, $"tokens embedded: {last.TokensEmbedded}");
        Assert.Equal(last.TokensEmbedded, last.TokensExpected);
        Assert.Equal(last.TokensEmbedded, report.TokensEmbedded);

        // while big.txt was embedded, tokens moved in several steps strictly between its start and its end
        var during = reports.Where(r => r.EmbeddingPath == "big.txt").Select(r => r.TokensEmbedded).Distinct().ToList();
        Assert.True(during.Count >= 3, $"big.txt was reported at {during.Count} token counts");
        Assert.Contains(reports, r => r.EmbeddingPath == "big.txt" && r.Remaining is not null && r.TokensPerSecond > 0);
        // counts only grow
        for (var i = 1; i < reports.Count; i++)
        {
            Assert.True(reports[i].TokensEmbedded >= reports[i - 1].TokensEmbedded);
            Assert.True(reports[i].Processed >= reports[i - 1].Processed);
        }
    }
}
