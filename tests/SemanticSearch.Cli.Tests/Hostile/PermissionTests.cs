using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using System.Text.Json;

namespace SemanticSearch.Tests.Hostile;

/// <summary>
/// Unreadable files and folders, seen by a process that permissions apply to. Root reads mode-000 files anyway
/// (the hostile corpus test covers that case), so when the tests run as root the CLI is started as user 65534
/// (nobody) through setpriv; as any other user it runs as that user.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class PermissionTests
{
    [DllImport("libc", EntryPoint = "geteuid")]
    private static extern uint GetEuid();

    private static (int ExitCode, JsonDocument? Json, string Stderr) RunUnprivileged(string home, params string[] args)
    {
        var asRoot = GetEuid() == 0;
        var psi = new ProcessStartInfo(asRoot ? "setpriv" : "dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = home };
        if (asRoot)
        {
            foreach (var a in new[] { "--reuid=65534", "--regid=65534", "--clear-groups", "dotnet" })
            {
                psi.ArgumentList.Add(a);
            }
        }
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "semsearch.dll"));
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        psi.Environment["HOME"] = home;
        psi.Environment["DOTNET_CLI_HOME"] = home;
        psi.Environment["SEMSEARCH_INDEXES"] = Path.Combine(home, "indexes");
        psi.Environment["SEMSEARCH_MODELS"] = Path.Combine(home, "models");
        psi.Environment["NO_COLOR"] = "1";
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException("semsearch did not finish: " + string.Join(' ', args));
        }
        var json = stdout.Result.TrimStart().StartsWith('{') ? JsonDocument.Parse(stdout.Result) : null;
        return (p.ExitCode, json, stderr.Result);
    }

    [Fact]
    public void Index_FileAndFolderBecomeUnreadable_BothReportedAsSkippedAndTheirDocumentsKept()
    {
        using var work = new TempDir();
        var home = Path.Combine(work.Path, "home");
        var src = Path.Combine(work.Path, "src");
        Directory.CreateDirectory(home);
        File.SetUnixFileMode(home, (UnixFileMode)0b111_111_111); // writable by the unprivileged user
        File.SetUnixFileMode(work.Path, (UnixFileMode)0b111_101_101);
        Directory.CreateDirectory(Path.Combine(src, "locked-dir"));
        File.WriteAllText(Path.Combine(src, "open.txt"), "always readable permopenword");
        File.WriteAllText(Path.Combine(src, "locked.txt"), "becomes unreadable permlockedword");
        File.WriteAllText(Path.Combine(src, "locked-dir", "inner.txt"), "inside a folder that becomes unreadable perminnerword");
        try
        {
            var first = RunUnprivileged(home, "index", src, "--index", "perm", "--model", "none", "--json");
            Assert.True(first.ExitCode == 0, first.Stderr);
            Assert.Equal(3, first.Json!.RootElement.GetProperty("added").GetInt32());

            File.SetUnixFileMode(Path.Combine(src, "locked.txt"), UnixFileMode.None);
            File.SetUnixFileMode(Path.Combine(src, "locked-dir"), UnixFileMode.None);
            var second = RunUnprivileged(home, "index", src, "--index", "perm", "--model", "none", "--json");
            Assert.True(second.ExitCode == 2, $"exit {second.ExitCode}: {second.Stderr}");
            var r = second.Json!.RootElement;
            var skipped = r.GetProperty("skipped").EnumerateArray()
                .ToDictionary(s => s.GetProperty("path").GetString()!, s => s.GetProperty("reason").GetString()!);
            Assert.Equal(2, skipped.Count);
            Assert.Contains("permission denied", skipped[Path.Combine(src, "locked.txt")]);
            Assert.Contains("permission denied", skipped[Path.Combine(src, "locked-dir")]);
            // Nothing was deleted: the last good version of what could not be read stays searchable.
            Assert.Equal(0, r.GetProperty("removed").GetInt32());
            Assert.Equal(1, r.GetProperty("unchanged").GetInt32());
            foreach (var word in new[] { "permopenword", "permlockedword", "perminnerword" })
            {
                var search = RunUnprivileged(home, "search", word, "--index", "perm", "--json");
                Assert.True(search.ExitCode == 0, search.Stderr);
                Assert.Equal(1, search.Json!.RootElement.GetProperty("hits").GetArrayLength());
            }
        }
        finally
        {
            File.SetUnixFileMode(Path.Combine(src, "locked-dir"), (UnixFileMode)0b111_101_101);
            File.SetUnixFileMode(Path.Combine(src, "locked.txt"), (UnixFileMode)0b110_100_100);
        }
    }
}
