using System.CommandLine;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using SemanticSearch.Core;

namespace SemanticSearch.Cli;

/// <summary>Exit codes of every command (also listed in the README).</summary>
internal static class ExitCodes
{
    /// <summary>Everything succeeded.</summary>
    public const int Ok = 0;

    /// <summary>A fatal error: nothing or not all was done; the message says why.</summary>
    public const int Fatal = 1;

    /// <summary>The job finished but some inputs were skipped (each named with its reason).</summary>
    public const int Partial = 2;

    /// <summary>
    /// The command line is wrong: an unknown option, a missing argument, a value of the wrong form, or a value the
    /// command refuses before doing anything (an empty query); nothing was done (sysexits' EX_USAGE).
    /// </summary>
    public const int Usage = 64;

    /// <summary>Ctrl+C: everything up to the last commit is kept.</summary>
    public const int Cancelled = 130;
}

/// <summary>Options shared by several commands, and the one place that turns exceptions into messages.</summary>
internal static class CommonOptions
{
    public static readonly Option<bool> Verbose = new("--verbose", "-v")
    {
        Description = "Show stack traces for errors and more detail while working.",
        Recursive = true,
    };

    public static Option<string> Index() => new("--index", "-i")
    {
        Description = "Index name (under ./indexes or $SEMSEARCH_INDEXES) or a path to an index directory.",
        Required = true,
    };

    /// <summary><c>--wait [seconds]</c>: wait for another writer of the index to finish (bare: until it does).</summary>
    public static Option<double?> Wait() => new("--wait")
    {
        Description = "When another writer (a CLI job or the server) holds the index, wait for it to finish: up to this many seconds, or with no value until it does. Without it, fail at once.",
        Arity = ArgumentArity.ZeroOrOne,
    };

    /// <summary>The writer options of a command: its role in the lock file and how long <c>--wait</c> says to wait.</summary>
    public static Engine.Storage.WriterOptions Writer(ParseResult parse, Option<double?> wait, string role, CancellationToken ct)
    {
        var span = TimeSpan.Zero;
        if (parse.GetResult(wait) is { Implicit: false })
        {
            span = parse.GetValue(wait) switch
            {
                null => Timeout.InfiniteTimeSpan,
                >= 0 and < 1e7 and var s => TimeSpan.FromSeconds(s),
                var s => throw new UsageException("--wait", $"must be a number of seconds between 0 and 10000000 (got {s})."),
            };
        }
        return new Engine.Storage.WriterOptions(role, span) { Cancellation = ct };
    }

    /// <summary>
    /// The error to show when the index is locked: when the semsearch server holds it, say so and name the API that
    /// runs the same job inside the server.
    /// </summary>
    public static Engine.Storage.IndexLockedException ExplainLock(Engine.Storage.IndexLockedException e, string directory, string? folder)
    {
        if (e.Holder is not { IsServer: true } holder)
        {
            return e;
        }
        var name = Path.GetFileName(Path.TrimEndingDirectorySeparator(directory));
        var job = folder is null ? "" : $" {{\"folder\": \"{Path.GetFullPath(folder)}\"}}";
        return new Engine.Storage.IndexLockedException(e.Directory, holder,
            $"index {directory} is being written by the semsearch server ({holder.Describe()}); send the job to the server instead (POST /indexes/{name}/jobs{job}), or run again with --wait to wait for its writes to finish");
    }

    public static Option<bool> Json() => new("--json")
    {
        Description = "Print machine-readable JSON instead of text.",
    };

    public static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    public static void PrintJson<T>(T value) => Console.Out.WriteLine(JsonSerializer.Serialize(value, JsonOptions));

    /// <summary>
    /// Runs a command body: a refused command-line value prints one line and the command's usage (exit 64); other
    /// expected errors print one line naming what is wrong (exit 1); a stack trace appears only with --verbose; Ctrl+C
    /// ends with exit 130.
    /// </summary>
    public static int Run(ParseResult parse, Func<CancellationToken, int> body)
    {
        var verbose = parse.GetValue(Verbose);
        using var cts = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true;
            cts.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        try
        {
            return body(cts.Token);
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            Console.Error.WriteLine("cancelled; everything up to the last commit is kept.");
            return ExitCodes.Cancelled;
        }
        catch (UsageException e)
        {
            Usage.ReportRefusal(parse, e);
            if (verbose)
            {
                Console.Error.WriteLine(e);
            }
            return ExitCodes.Usage;
        }
        catch (SemanticSearchException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            if (verbose)
            {
                Console.Error.WriteLine(e);
            }
            return ExitCodes.Fatal;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            if (verbose)
            {
                Console.Error.WriteLine(e);
            }
            return ExitCodes.Fatal;
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"unexpected error: {e.GetType().Name}: {e.Message}");
            Console.Error.WriteLine(verbose ? e.ToString() : "(run again with --verbose for details)");
            return ExitCodes.Fatal;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }
}
