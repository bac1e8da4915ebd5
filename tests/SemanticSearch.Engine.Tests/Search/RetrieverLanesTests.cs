using SemanticSearch.Core;
using SemanticSearch.Engine.Search;

namespace SemanticSearch.Tests.Search;

/// <summary>The retriever scheduler: LPT plans against brute-force optima, and jobs run concurrently, in order, errors unwrapped.</summary>
public sealed class RetrieverLanesTests
{
    [Fact]
    public void Plan_TwoSpacesAndBm25OnTwoCores_SlowestEmbeddingRunsAlone()
    {
        // the two-space hybrid query: a float space (8 ms), an int8 space (3.4 ms), BM25 (1.5 ms)
        var plan = RetrieverLanes.Plan([8, 3.4, 1.5], lanes: 2);
        Assert.Equal(2, plan.Count);
        Assert.Equal([0], plan[0]);
        Assert.Equal([1, 2], plan[1]);
    }

    [Fact]
    public void Plan_RandomCosts_EveryJobOnceAndMakespanWithinGrahamsBoundOfTheOptimum()
    {
        var random = new Random(20261202);
        for (var trial = 0; trial < 300; trial++)
        {
            var jobs = random.Next(1, 8);
            var lanes = random.Next(1, 4);
            var costs = Enumerable.Range(0, jobs).Select(_ => Math.Round(random.NextDouble() * 10, 2) + 0.01).ToArray();
            var plan = RetrieverLanes.Plan(costs, lanes);

            Assert.Equal(Math.Min(lanes, jobs), plan.Count);
            Assert.Equal(Enumerable.Range(0, jobs), plan.SelectMany(l => l).Order());
            var loads = plan.Select(l => l.Sum(i => costs[i])).ToList();
            Assert.Equal(loads.Max(), loads[0]);
            var m = plan.Count;
            Assert.True(loads.Max() <= (((4.0 / 3) - (1.0 / (3 * m))) * BruteForceMakespan(costs, m)) + 1e-9,
                $"trial {trial}: LPT {loads.Max()} over the bound for costs [{string.Join(", ", costs)}] on {m} lanes");
        }
    }

    [Fact]
    public void Run_TwoJobsOnTwoLanes_RunAtOnceAndReturnInJobOrder()
    {
        var lanes = new RetrieverLanes(lanes: 2);
        using var signal = new ManualResetEventSlim();
        // the first job can only finish when the second has started: on one lane (or one after the other) it times out
        var results = lanes.Run<string>(
        [
            ("a", () => signal.Wait(TimeSpan.FromSeconds(20)) ? "a saw b" : "a alone"),
            ("b", () => { signal.Set(); return "b"; }),
        ]);
        Assert.Equal(["a saw b", "b"], results);
        Assert.NotNull(lanes.MeanMs("a"));
        Assert.NotNull(lanes.MeanMs("b"));
        Assert.Null(lanes.MeanMs("c"));
    }

    [Fact]
    public void Run_AJobThrows_RethrowsItUnwrappedAfterTheOtherLanesEnd()
    {
        var lanes = new RetrieverLanes(lanes: 2);
        var otherDone = false;
        var e = Assert.Throws<InvalidSettingException>(() => lanes.Run<int>(
        [
            ("bad", () => throw new InvalidSettingException("spaces", "no such space")),
            ("good", () => { Thread.Sleep(50); otherDone = true; return 1; }),
        ]));
        Assert.Equal("spaces", e.Setting);
        Assert.True(otherDone);
    }

    [Fact]
    public void Run_NoJobs_ReturnsEmpty() => Assert.Empty(new RetrieverLanes(lanes: 2).Run<int>([]));

    // the least makespan over every assignment of the jobs to m lanes
    private static double BruteForceMakespan(double[] costs, int m)
    {
        var best = double.MaxValue;
        var loads = new double[m];
        void Place(int job)
        {
            if (job == costs.Length)
            {
                best = Math.Min(best, loads.Max());
                return;
            }
            for (var lane = 0; lane < m; lane++)
            {
                loads[lane] += costs[job];
                Place(job + 1);
                loads[lane] -= costs[job];
            }
        }
        Place(0);
        return best;
    }
}
