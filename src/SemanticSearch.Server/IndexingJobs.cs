using System.Collections.Concurrent;
using SemanticSearch.Engine;
using SemanticSearch.Engine.Indexing;

namespace SemanticSearch.Server;

/// <summary>State of a background folder job.</summary>
public enum JobState
{
    /// <summary>Waiting for the index's writer lock.</summary>
    Queued,

    /// <summary>Indexing.</summary>
    Running,

    /// <summary>Finished; <see cref="JobStatus.Report"/> says what it did.</summary>
    Succeeded,

    /// <summary>Stopped by an error; <see cref="JobStatus.Error"/> says why. Everything up to the last commit is kept.</summary>
    Failed,

    /// <summary>Stopped because the server shut down.</summary>
    Cancelled,
}

/// <summary>What <c>GET /jobs/{id}</c> answers.</summary>
public sealed record JobStatus(
    string Id,
    string Index,
    string Folder,
    JobState State,
    int Processed,
    int Total,
    string? CurrentPath,
    DateTime CreatedUtc,
    DateTime? FinishedUtc,
    IndexingReport? Report,
    string? Error);

/// <summary>Folder jobs running in the background, with their progress kept in memory (lost on restart).</summary>
internal sealed class IndexingJobs(IndexCatalog catalog, IndexSettings settings, FolderPolicy folders, CancellationToken stopping)
{
    private const int Retained = 1000;
    private readonly ConcurrentDictionary<string, Job> _jobs = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _order = new();

    /// <summary>
    /// Starts indexing the folder the client asked for (<paramref name="requested"/>, allowed as
    /// <paramref name="realFolder"/>) into <paramref name="indexName"/>; the job waits its turn for the writer lock,
    /// and the folder policy is checked again when it starts.
    /// </summary>
    public JobStatus Start(string indexName, string requested, string realFolder)
    {
        var open = catalog.GetOrCreate(indexName);
        var job = new Job(Guid.NewGuid().ToString("N")[..16], indexName, realFolder, DateTime.UtcNow) { Requested = requested };
        _jobs[job.Id] = job;
        _order.Enqueue(job.Id);
        while (_order.Count > Retained && _order.TryDequeue(out var old))
        {
            if (_jobs.TryGetValue(old, out var o) && o.State is JobState.Queued or JobState.Running)
            {
                _order.Enqueue(old); // never forget a job that is still working
                break;
            }
            _jobs.TryRemove(old, out _);
        }
        job.Task = Task.Run(() => RunAsync(job, open));
        return job.Snapshot();
    }

    /// <summary>The status of job <paramref name="id"/>, or null.</summary>
    public JobStatus? Get(string id) => _jobs.TryGetValue(id, out var job) ? job.Snapshot() : null;

    /// <summary>Waits for every job to stop (used at shutdown, after cancellation).</summary>
    public void WaitAll(TimeSpan timeout)
    {
        var tasks = _jobs.Values.Select(j => j.Task).OfType<Task>().ToArray();
        try
        {
            Task.WaitAll(tasks, timeout);
        }
        catch (AggregateException)
        {
            // Failures are recorded on each job already.
        }
    }

    private async Task RunAsync(Job job, OpenIndex open)
    {
        try
        {
            // A job waits its turn behind the server's other writes and for any other process's write lock.
            job.Report = await open.WriteAsync((index, token) =>
            {
                job.State = JobState.Running;
                // The folder may have been swapped for a symbolic link while the job was queued: allow it again now,
                // and have the indexer hold the walk (and every file it opens) to that real folder.
                var real = folders.Authorize(job.Requested);
                if (!string.Equals(real, job.Folder, StringComparison.Ordinal))
                {
                    throw new FolderRefusedException($"folder: '{job.Requested}' now leads to '{real}', not to '{job.Folder}' as when the job was posted; it was not indexed.");
                }
                var progress = new InlineProgress(p => job.Update(p));
                return new FolderIndexer(index, settings) { ConfinedRoot = real }.Run(real, progress, token);
            }, waitForLock: true, stopping).ConfigureAwait(false);
            job.Finish(JobState.Succeeded);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            job.Finish(JobState.Cancelled);
        }
        catch (Exception e)
        {
            var message = e is Core.SemanticSearchException or IOException or UnauthorizedAccessException ? e.Message : $"{e.GetType().Name}: {e.Message}";
            job.Error = Problems.WithoutServerPaths(message, catalog.Root);
            job.Finish(JobState.Failed);
        }
    }

    // Progress<T> posts to the thread pool and can report out of order; the job wants the latest value, in order.
    private sealed class InlineProgress(Action<IndexingProgress> report) : IProgress<IndexingProgress>
    {
        public void Report(IndexingProgress value) => report(value);
    }

    private sealed class Job(string id, string index, string folder, DateTime createdUtc)
    {
        private IndexingProgress? _progress;

        public string Id { get; } = id;
        public string Folder { get; } = folder;
        public required string Requested { get; init; }
        public volatile JobState State = JobState.Queued;
        public IndexingReport? Report { get; set; }
        public string? Error { get; set; }
        public DateTime? FinishedUtc { get; set; }
        public Task? Task { get; set; }

        // The finish time is written before the state, so a snapshot that sees a final state also sees its time.
        public void Finish(JobState state)
        {
            FinishedUtc = DateTime.UtcNow;
            State = state;
        }

        public void Update(IndexingProgress p) => Volatile.Write(ref _progress, p);

        public JobStatus Snapshot()
        {
            var state = State;
            var p = Volatile.Read(ref _progress);
            var report = Report;
            var processed = p?.Processed ?? 0;
            var total = p?.Total ?? 0;
            if (state == JobState.Succeeded && report is not null)
            {
                processed = total = report.FilesSeen;
            }
            return new JobStatus(Id, index, Folder, state, processed, total, p?.CurrentPath, createdUtc, FinishedUtc, report, Error);
        }
    }
}
