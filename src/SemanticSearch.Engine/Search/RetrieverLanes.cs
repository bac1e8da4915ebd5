// Runs a query's retrievers (BM25 and one job per vector space: embed the query, walk the graph) on at most as many
// lanes as the machine has cores, longest expected job first onto the least-loaded lane: Graham's LPT rule, whose
// makespan is within 4/3 − 1/(3m) of the optimum on m lanes (Graham 1969, "Bounds on multiprocessing timing
// anomalies"). One task per retriever, as before, put three runnable threads on a 2-core machine for a two-space
// hybrid query, so the scheduler time-sliced the slowest embedding (the critical path) with BM25 and the other space;
// a lane per core keeps the slowest job alone on its core and packs the short ones beside it.
//
// Expected times are each retriever's own running mean (an exponentially weighted mean of its last runs, by key), so
// the plan follows the machine and the models without configuration; until a retriever has run once it counts as the
// mean of those that have (or 1). The estimate only orders work; results are the same in any order.
using System.Runtime.ExceptionServices;

namespace SemanticSearch.Engine.Search;

/// <summary>Runs independent retrieval jobs on at most <see cref="Environment.ProcessorCount"/> lanes, longest first.</summary>
internal sealed class RetrieverLanes
{
    // weight of the newest run in the running mean: about the last ten runs count
    private const double NewRunWeight = 0.1;

    private readonly Lock _gate = new();
    private readonly Dictionary<string, double> _meanMs = new(StringComparer.Ordinal);
    private readonly int _lanes;

    /// <summary>Lanes = the machine's cores, or <paramref name="lanes"/> when given (tests).</summary>
    public RetrieverLanes(int? lanes = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(lanes ?? 1, 1, nameof(lanes));
        _lanes = lanes ?? Environment.ProcessorCount;
    }

    /// <summary>The running mean time of the retriever <paramref name="key"/>, in milliseconds; null before its first run.</summary>
    public double? MeanMs(string key)
    {
        lock (_gate)
        {
            return _meanMs.TryGetValue(key, out var m) ? m : null;
        }
    }

    /// <summary>
    /// Runs every job and returns their results in the jobs' order. The lane with the longest expected work runs on
    /// the calling thread. The first exception a job throws is rethrown as itself (not wrapped) once every lane ends.
    /// </summary>
    public T[] Run<T>(IReadOnlyList<(string Key, Func<T> Work)> jobs)
    {
        ArgumentNullException.ThrowIfNull(jobs);
        var results = new T[jobs.Count];
        if (jobs.Count == 0)
        {
            return results;
        }
        var plan = Plan(Expected(jobs), Math.Min(_lanes, jobs.Count));
        var others = new Task[plan.Count - 1];
        for (var lane = 1; lane < plan.Count; lane++)
        {
            var mine = plan[lane];
            others[lane - 1] = Task.Run(() => RunLane(jobs, mine, results));
        }
        ExceptionDispatchInfo? failure = null;
        try
        {
            RunLane(jobs, plan[0], results);
        }
        catch (Exception e)
        {
            failure = ExceptionDispatchInfo.Capture(e);
        }
        foreach (var task in others)
        {
            try
            {
                task.GetAwaiter().GetResult();
            }
            catch (Exception e)
            {
                failure ??= ExceptionDispatchInfo.Capture(e);
            }
        }
        failure?.Throw();
        return results;
    }

    /// <summary>
    /// LPT: job indices per lane, jobs taken longest first and each put on the lane with the least expected work so
    /// far (ties: the lower lane); lane 0 carries the most work. Every lane of the result has at least one job.
    /// </summary>
    public static List<List<int>> Plan(IReadOnlyList<double> expectedMs, int lanes)
    {
        ArgumentNullException.ThrowIfNull(expectedMs);
        ArgumentOutOfRangeException.ThrowIfLessThan(lanes, 1);
        var order = Enumerable.Range(0, expectedMs.Count).OrderByDescending(i => expectedMs[i]).ThenBy(i => i).ToList();
        var count = Math.Min(lanes, Math.Max(expectedMs.Count, 1));
        var plan = new List<List<int>>(count);
        var load = new double[count];
        for (var lane = 0; lane < count; lane++)
        {
            plan.Add([]);
        }
        foreach (var job in order)
        {
            var lane = 0;
            for (var l = 1; l < count; l++)
            {
                if (load[l] < load[lane])
                {
                    lane = l;
                }
            }
            plan[lane].Add(job);
            load[lane] += expectedMs[job];
        }
        var heaviest = Enumerable.Range(0, count).MaxBy(l => load[l]);
        (plan[0], plan[heaviest]) = (plan[heaviest], plan[0]);
        plan.RemoveAll(l => l.Count == 0);
        return plan;
    }

    private double[] Expected<T>(IReadOnlyList<(string Key, Func<T> Work)> jobs)
    {
        var expected = new double[jobs.Count];
        lock (_gate)
        {
            var known = _meanMs.Count == 0 ? 1.0 : _meanMs.Values.Average();
            for (var i = 0; i < jobs.Count; i++)
            {
                expected[i] = _meanMs.TryGetValue(jobs[i].Key, out var m) ? m : known;
            }
        }
        return expected;
    }

    private void RunLane<T>(IReadOnlyList<(string Key, Func<T> Work)> jobs, List<int> lane, T[] results)
    {
        foreach (var i in lane)
        {
            var start = System.Diagnostics.Stopwatch.GetTimestamp();
            results[i] = jobs[i].Work();
            Record(jobs[i].Key, System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }
    }

    private void Record(string key, double ms)
    {
        lock (_gate)
        {
            _meanMs[key] = _meanMs.TryGetValue(key, out var m) ? m + (NewRunWeight * (ms - m)) : ms;
        }
    }
}
