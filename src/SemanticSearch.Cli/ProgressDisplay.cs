using System.Diagnostics;
using SemanticSearch.Engine.Indexing;
using Spectre.Console;

namespace SemanticSearch.Cli;

/// <summary>
/// Progress for long work, always on standard error so that standard output stays clean for results and JSON.
/// On a terminal it is a live progress bar; when standard error is redirected it is a plain line every few seconds.
/// </summary>
internal sealed class ProgressDisplay
{
    private readonly bool _interactive = !Console.IsErrorRedirected && Environment.GetEnvironmentVariable("TERM") != "dumb";

    /// <summary>Runs <paramref name="work"/>, giving it a reporter of (stage, done, total).</summary>
    public T Run<T>(string title, Func<Action<string, long, long>, T> work)
    {
        if (!_interactive)
        {
            var clock = Stopwatch.StartNew();
            var last = TimeSpan.Zero;
            var lastStage = string.Empty;
            var result = work((stage, done, total) =>
            {
                if (stage != lastStage || clock.Elapsed - last >= TimeSpan.FromSeconds(5) || done == total)
                {
                    if (done == total && stage == lastStage && clock.Elapsed - last < TimeSpan.FromMilliseconds(1))
                    {
                        return;
                    }
                    last = clock.Elapsed;
                    lastStage = stage;
                    Console.Error.WriteLine(total > 0 ? $"{title}: {stage} {done}/{total}" : $"{title}: {stage} {done}");
                }
            });
            return result;
        }

        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        T value = default!;
        console.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(ctx =>
            {
                var tasks = new Dictionary<string, ProgressTask>();
                value = work((stage, done, total) =>
                {
                    lock (tasks)
                    {
                        if (!tasks.TryGetValue(stage, out var task))
                        {
                            task = ctx.AddTask(Markup.Escape($"{title}: {stage}"), maxValue: Math.Max(total, 1));
                            tasks[stage] = task;
                        }
                        task.MaxValue = Math.Max(total, 1);
                        task.Value = done;
                    }
                });
            });
        return value;
    }

    /// <summary>
    /// Runs a folder job, giving it a reporter of <see cref="IndexingProgress"/>: the bar follows tokens embedded
    /// against tokens expected, and the line names files, chunks, tokens, the rate, the time left (from the job's
    /// smoothed token rate) and the file being embedded.
    /// </summary>
    public T RunIndexing<T>(string title, Func<Action<IndexingProgress>, T> work) =>
        RunBar<IndexingProgress, T>(title, null, indeterminate: false, p => (Math.Max(1, p.TokensExpected), p.TokensEmbedded), Describe, work);

    /// <summary>
    /// Runs an import, giving it a reporter of <see cref="ImportProgress"/>: the bar follows bytes read against the
    /// input's length (when known), and the line names lines, added, updated, unchanged and rejected counts and the time
    /// left at the byte rate so far (what is read is written within a batch, so bytes are an honest measure of work).
    /// </summary>
    public T RunImport<T>(string title, long? totalBytes, Func<Action<ImportProgress>, T> work) =>
        RunBar<ImportProgress, T>(title, totalBytes is { } total ? Math.Max(1, total) : null, indeterminate: totalBytes is null,
            p => totalBytes is { } total ? (Math.Max(1, total), p.BytesRead) : null, Describe, work);

    // A job with a bar: on a terminal, a bar whose extent and position come from each report (indeterminate while
    // they are unknown) beside the report's line; otherwise the line at most every 5 s on standard error.
    private T RunBar<TProgress, T>(string title, double? knownMax, bool indeterminate, Func<TProgress, (double Max, double Value)?> position,
        Func<TProgress, string> describe, Func<Action<TProgress>, T> work)
    {
        if (!_interactive)
        {
            var clock = Stopwatch.StartNew();
            TimeSpan? last = null;
            return work(p =>
            {
                if (last is not { } before || clock.Elapsed - before >= TimeSpan.FromSeconds(5))
                {
                    last = clock.Elapsed;
                    Console.Error.WriteLine($"{title}: {describe(p)}");
                }
            });
        }

        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        T value = default!;
        console.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new SpinnerColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask(Markup.Escape(title), maxValue: knownMax ?? 1);
                task.IsIndeterminate = indeterminate;
                var gate = new object();
                value = work(p =>
                {
                    lock (gate)
                    {
                        if (position(p) is { } at)
                        {
                            task.MaxValue = at.Max;
                            task.Value = Math.Min(at.Value, at.Max);
                        }
                        task.Description = Markup.Escape($"{title}: {describe(p)}");
                    }
                });
            });
        return value;
    }

    /// <summary>One line of an import's progress: bytes, lines, counts, time left.</summary>
    internal static string Describe(ImportProgress p)
    {
        var parts = new List<string>
        {
            p.BytesTotal is { } total ? $"{Megabytes(p.BytesRead)}/{Megabytes(total)} MB" : $"{Megabytes(p.BytesRead)} MB",
            $"lines {p.Lines:N0}",
            $"added {p.Added:N0}",
            $"updated {p.Updated:N0}",
            $"unchanged {p.Unchanged:N0}",
            $"rejected {p.Rejected:N0}",
        };
        if (p.BytesTotal is not null)
        {
            parts.Add(p.Remaining is { } left ? $"eta {FormatDuration(left)}" : "eta estimating");
        }
        return string.Join(" · ", parts);
    }

    private static string Megabytes(long bytes) => (bytes / (1024.0 * 1024)).ToString("N1", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>One line of a folder job's progress: files, chunks, tokens, rate, time left, the current file.</summary>
    internal static string Describe(IndexingProgress p)
    {
        var parts = new List<string>
        {
            $"files {p.Processed:N0}/{p.Total:N0}",
            $"chunks {p.ChunksEmbedded:N0}",
            $"tokens {p.TokensEmbedded:N0}/~{p.TokensExpected:N0}",
        };
        if (p.TokensPerSecond is { } rate)
        {
            parts.Add($"{rate:N0} tokens/s");
        }
        parts.Add(p.Remaining is { } left ? $"eta {FormatDuration(left)}" : "eta estimating");
        var file = p.EmbeddingPath ?? p.CurrentPath;
        if (file.Length > 0)
        {
            parts.Add(file.Length <= 60 ? file : "…" + file[^59..]);
        }
        return string.Join(" · ", parts);
    }

    private static string FormatDuration(TimeSpan t) =>
        t.TotalHours >= 1 ? $"{(int)t.TotalHours}h {t.Minutes:D2}m" : t.TotalMinutes >= 1 ? $"{(int)t.TotalMinutes}m {t.Seconds:D2}s" : $"{Math.Max(0, (int)Math.Ceiling(t.TotalSeconds))}s";
}
