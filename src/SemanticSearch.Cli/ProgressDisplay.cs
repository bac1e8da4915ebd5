using System.Diagnostics;
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
}
