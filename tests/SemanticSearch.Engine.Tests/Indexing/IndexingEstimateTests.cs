using SemanticSearch.Engine.Indexing;

namespace SemanticSearch.Tests.Indexing;

/// <summary>
/// The time left of a folder job, driven by a simulated clock: a steady embedder (a fixed number of tokens per second)
/// works through a list of files, reporting after every slice of passages as the real writer does, and the estimate
/// is held against the true time left.
/// </summary>
public sealed class IndexingEstimateTests
{
    private sealed record SimFile(string Extension, long Bytes, double TokensPerByte)
    {
        public long Tokens => (long)(Bytes * TokensPerByte);
    }

    // Runs the files through a steady embedder and returns (time, estimated time left, true time left) at every report.
    private static List<(double At, double? Estimate, double Truth)> Simulate(IReadOnlyList<SimFile> files, double tokensPerSecond, long tokensPerSlice)
    {
        var estimate = new IndexingEstimate();
        foreach (var f in files)
        {
            estimate.Listed(f.Extension, f.Bytes);
        }
        var total = files.Sum(f => f.Tokens);
        var samples = new List<(double, double?, double)>();
        double now = 0;
        long embedded = 0;
        estimate.Embedded(TimeSpan.Zero, 0);
        foreach (var f in files)
        {
            estimate.Settled(f.Extension, f.Bytes, f.Tokens); // chunked just before it is embedded
            var left = f.Tokens;
            while (left > 0)
            {
                var slice = Math.Min(left, tokensPerSlice);
                now += slice / tokensPerSecond;
                embedded += slice;
                left -= slice;
                estimate.Embedded(TimeSpan.FromSeconds(now), embedded);
                samples.Add((now, estimate.Remaining(TimeSpan.FromSeconds(now))?.TotalSeconds, (total - embedded) / tokensPerSecond));
            }
        }
        return samples;
    }

    private static void AssertWithin30PercentAfterFirstMinute(List<(double At, double? Estimate, double Truth)> samples)
    {
        foreach (var (at, est, truth) in samples.Where(s => s.At >= 60 && s.Truth >= 5))
        {
            Assert.True(est is { } e && Math.Abs(e - truth) <= 0.3 * truth,
                $"at {at:F0} s the estimate was {est:F0} s for a true {truth:F0} s left");
        }
    }

    [Fact]
    public void Remaining_HugeFileAmongSmallOnes_StaysWithin30PercentAfterTheFirstMinute()
    {
        // 150 small Markdown files, a few small PDFs first (so the PDF ratio is measured), one 40 MB PDF in the middle
        // whose tokens are known only once it is chunked, then more small files: tokens per byte differ by type.
        var files = new List<SimFile>();
        for (var i = 0; i < 5; i++)
        {
            files.Add(new(".pdf", 200_000, 0.05));
        }
        for (var i = 0; i < 75; i++)
        {
            files.Add(new(".md", 6_000 + 97 * i, 0.27));
        }
        files.Add(new(".pdf", 40_000_000, 0.05));
        for (var i = 0; i < 75; i++)
        {
            files.Add(new(".md", 5_000 + 131 * i, 0.27));
        }
        var samples = Simulate(files, tokensPerSecond: 2_000, tokensPerSlice: 64 * 400);

        Assert.True(samples[^1].At > 600, "the workload should take more than ten minutes");
        AssertWithin30PercentAfterFirstMinute(samples);
    }

    [Fact]
    public void Remaining_SteadySmallFiles_StaysWithin30PercentAfterTheFirstMinute()
    {
        var files = Enumerable.Range(0, 2_000).Select(i => new SimFile(".txt", 3_000 + (i * 7919 % 4_000), 0.25)).ToList();
        AssertWithin30PercentAfterFirstMinute(Simulate(files, tokensPerSecond: 1_500, tokensPerSlice: 64 * 300));
    }

    [Fact]
    public void Remaining_FileCountEstimate_WouldMissTheHugeFile()
    {
        // The old bar's arithmetic (time so far × files left / files done) on the same workload is off by far more than
        // 30% once the huge file has been reached: this is what the token estimate replaces.
        var files = new List<SimFile>();
        for (var i = 0; i < 100; i++)
        {
            files.Add(new(".md", 6_000, 0.27));
        }
        files.Add(new(".pdf", 40_000_000, 0.05));
        for (var i = 0; i < 100; i++)
        {
            files.Add(new(".md", 6_000, 0.27));
        }
        var total = files.Sum(f => f.Tokens);
        double now = 0, embedded = 0, worst = 0;
        for (var n = 0; n < files.Count; n++)
        {
            now += files[n].Tokens / 2_000.0;
            embedded += files[n].Tokens;
            var truth = (total - embedded) / 2_000.0;
            var byFiles = now * (files.Count - n - 1) / (n + 1);
            if (now >= 60 && truth >= 5)
            {
                worst = Math.Max(worst, Math.Abs(byFiles - truth) / truth);
            }
        }
        Assert.True(worst > 0.3, $"the file-count estimate stayed within {worst:P0}");
    }

    [Fact]
    public void Remaining_BeforeAnySample_IsUnknown()
    {
        var estimate = new IndexingEstimate();
        estimate.Listed(".md", 1_000);
        Assert.Null(estimate.Remaining(TimeSpan.Zero));
        estimate.Embedded(TimeSpan.Zero, 0);
        estimate.Embedded(TimeSpan.FromSeconds(1), 100); // shorter than a sample: merged into the next
        Assert.Null(estimate.TokensPerSecond);
        estimate.Embedded(TimeSpan.FromSeconds(4), 400);
        Assert.Equal(100, estimate.TokensPerSecond!.Value, 3);
    }

    [Fact]
    public void TokensExpected_UnchunkedFiles_AreEstimatedFromTheirTypesRatio()
    {
        var estimate = new IndexingEstimate();
        estimate.Listed(".md", 1_000);
        estimate.Listed(".md", 3_000);
        estimate.Listed(".pdf", 10_000);
        Assert.Equal((long)(14_000 * IndexingEstimate.PriorTokensPerByte), estimate.TokensExpected);
        estimate.Settled(".md", 1_000, 500);      // .md: 0.5 tokens per byte, and the only ratio known so far
        Assert.Equal(500 + 1_500 + 5_000, estimate.TokensExpected);
        estimate.Settled(".pdf", 4_000, null);     // skipped or unchanged: embeds nothing
        Assert.Equal(500 + 1_500 + 3_000, estimate.TokensExpected);
    }
}
