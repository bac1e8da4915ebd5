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

    /// <summary>Stopped by <c>DELETE /jobs/{id}</c> or because the server shut down; everything up to the last commit is kept.</summary>
    Cancelled,
}

/// <summary>What <c>GET /jobs/{id}</c> answers (and each entry of <c>GET /jobs</c>).</summary>
/// <param name="Id">The job's id (its URL is <c>/jobs/{id}</c>).</param>
/// <param name="Index">The index it writes.</param>
/// <param name="Folder">The folder it indexes (its real path).</param>
/// <param name="State">Queued, running, or how it ended.</param>
/// <param name="Processed">Files done so far.</param>
/// <param name="Total">Files found (0 until the folder has been walked).</param>
/// <param name="CurrentPath">The file being indexed, or null.</param>
/// <param name="CreatedUtc">When the job was posted.</param>
/// <param name="FinishedUtc">When it ended, or null.</param>
/// <param name="Report">What it did, once it has succeeded.</param>
/// <param name="Error">Why it failed, or null.</param>
/// <param name="CancelRequested">True once <c>DELETE /jobs/{id}</c> asked the job to stop (it stops at its next file or batch).</param>
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
    string? Error,
    bool CancelRequested = false);

/// <summary>What asking a job to stop found.</summary>
internal enum CancelOutcome
{
    /// <summary>No such job.</summary>
    NotFound,

    /// <summary>The job had already finished; nothing changed.</summary>
    AlreadyFinished,

    /// <summary>The job was asked to stop; it ends as cancelled at its next file or batch.</summary>
    Requested,
}

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
        var job = new Job(Guid.NewGuid().ToString("N")[..16], indexName, realFolder, DateTime.UtcNow, stopping) { Requested = requested };
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

    /// <summary>Every job kept in memory (the last 1000, and any still working), oldest first.</summary>
    public IReadOnlyList<JobStatus> All() =>
        _jobs.Values.Select(j => j.Snapshot()).OrderBy(s => s.CreatedUtc).ThenBy(s => s.Id, StringComparer.Ordinal).ToList();

    /// <summary>The jobs of index <paramref name="indexName"/> that are queued or running.</summary>
    public IReadOnlyList<JobStatus> ActiveFor(string indexName) =>
        All().Where(s => s.Index == indexName && s.State is JobState.Queued or JobState.Running).ToList();

    /// <summary>
    /// Asks job <paramref name="id"/> to stop through its cancellation token: a queued job leaves the queue, a running
    /// one stops at its next file or batch and rolls back the batch it was writing (the last commit is kept).
    /// </summary>
    public CancelOutcome Cancel(string id, out JobStatus? status)
    {
        if (!_jobs.TryGetValue(id, out var job))
        {
            status = null;
            return CancelOutcome.NotFound;
        }
        if (job.State is not (JobState.Queued or JobState.Running))
        {
            status = job.Snapshot();
            return CancelOutcome.AlreadyFinished;
        }
        job.RequestCancel();
        status = job.Snapshot();
        return CancelOutcome.Requested;
    }

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
            }, waitForLock: true, job.Token).ConfigureAwait(false);
            job.Finish(JobState.Succeeded);
        }
        catch (OperationCanceledException) when (job.Token.IsCancellationRequested)
        {
            job.Finish(JobState.Cancelled);
        }
        catch (Exception e)
        {
            var message = e is Core.SemanticSearchException or IOException or UnauthorizedAccessException ? e.Message : $"{e.GetType().Name}: {e.Message}";
            job.Error = Problems.WithoutServerPaths(message, catalog.Root);
            job.Finish(JobState.Failed);
        }
        finally
        {
            job.Dispose();
        }
    }

    // Progress<T> posts to the thread pool and can report out of order; the job wants the latest value, in order.
    private sealed class InlineProgress(Action<IndexingProgress> report) : IProgress<IndexingProgress>
    {
        public void Report(IndexingProgress value) => report(value);
    }

    private sealed class Job(string id, string index, string folder, DateTime createdUtc, CancellationToken stopping) : IDisposable
    {
        private readonly CancellationTokenSource _cancel = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        private IndexingProgress? _progress;
        private volatile bool _cancelRequested;

        /// <summary>Cancelled by <see cref="RequestCancel"/> or when the server stops.</summary>
        public CancellationToken Token => _cancel.Token;

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

        public void RequestCancel()
        {
            _cancelRequested = true;
            try
            {
                _cancel.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // the job ended meanwhile
            }
        }

        public void Dispose() => _cancel.Dispose();

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
            return new JobStatus(Id, index, Folder, state, processed, total, p?.CurrentPath, createdUtc, FinishedUtc, report, Error, _cancelRequested);
        }
    }
}
