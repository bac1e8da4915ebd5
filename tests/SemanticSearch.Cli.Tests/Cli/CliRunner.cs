using System.Diagnostics;

namespace SemanticSearch.Tests.Cli;

/// <summary>Runs the real <c>semsearch</c> program (built beside the tests) in a child process.</summary>
internal static class CliRunner
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    public static Result Run(string indexesRoot, params string[] args) => Run(indexesRoot, null, args);

    public static Result Run(string indexesRoot, IReadOnlyDictionary<string, string>? env, params string[] args)
    {
        var psi = StartInfo(indexesRoot, env, args);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException("semsearch did not finish in 5 minutes: " + string.Join(' ', args));
        }
        return new Result(p.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>How the tests start <c>semsearch</c>: the build beside them, the test model cache, no network probes.</summary>
    public static ProcessStartInfo StartInfo(string indexesRoot, IReadOnlyDictionary<string, string>? env, IEnumerable<string> args)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = RepoPaths.Root,
        };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "semsearch.dll"));
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        psi.Environment["SEMSEARCH_INDEXES"] = indexesRoot;
        psi.Environment["NO_COLOR"] = "1";
        psi.Environment["SEMSEARCH_MODELS"] = TestModels.CacheRoot; // never the user's cache
        psi.Environment["SEMSEARCH_OFFLINE"] = "1"; // the default-model policy never probes the network unless a test asks
        psi.Environment["SEMSEARCH_NUGET_CONFIG"] = TestModels.NoNuGetConfig; // nor finds a model in the machine's NuGet folders
        if (env is not null)
        {
            foreach (var (k, v) in env)
            {
                psi.Environment[k] = v;
            }
        }
        return psi;
    }
}
