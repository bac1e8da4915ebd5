using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace SemanticSearch.Tests.Cli;

/// <summary>
/// <c>semsearch serve</c>'s expected failures are one line with a documented exit code (a stack trace only with
/// --verbose), and a bind beyond loopback needs an API key or <c>--insecure</c> (issue 19).
/// </summary>
public sealed class ServeCommandTests : IDisposable
{
    private readonly TempDir _root = new();

    public void Dispose() => _root.Dispose();

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    [Fact]
    public void Serve_PortInUse_OneLineNamingTheAddressAndExitOne()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var url = $"http://127.0.0.1:{((IPEndPoint)taken.LocalEndpoint).Port}";

        var r = CliRunner.Run(_root.Path, "serve", "--urls", url, "--model", "none");

        Assert.Equal(1, r.ExitCode);
        Assert.Equal([$"error: serve: cannot listen on {url}: the port is in use."], Lines(r.Stderr));
    }

    [Fact]
    public void Serve_PortInUseWithVerbose_AddsTheStackTrace()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var url = $"http://127.0.0.1:{((IPEndPoint)taken.LocalEndpoint).Port}";

        var r = CliRunner.Run(_root.Path, "serve", "--urls", url, "--model", "none", "--verbose");

        Assert.Equal(1, r.ExitCode);
        Assert.StartsWith($"error: serve: cannot listen on {url}: the port is in use.", r.Stderr.TrimStart(), StringComparison.Ordinal);
        Assert.Contains("   at ", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Serve_AddressOfAnotherMachine_OneLineAndExitOne()
    {
        // 192.0.2.1 is TEST-NET-1 (RFC 5737): never an address of this machine.
        var r = CliRunner.Run(_root.Path, "serve", "--urls", "http://192.0.2.1:5080", "--model", "none", "--insecure");

        Assert.Equal(1, r.ExitCode);
        Assert.Equal(["error: serve: cannot listen on http://192.0.2.1:5080: the address is not one of this machine's."], Lines(r.Stderr));
    }

    [Theory]
    [InlineData("http://0.0.0.0:0")]
    [InlineData("http://*:0")]
    [InlineData("http://[::]:0")]
    public void Serve_NonLoopbackWithoutApiKey_RefusesToStart(string url)
    {
        var r = CliRunner.Run(_root.Path, "serve", "--urls", url, "--model", "none");

        Assert.Equal(64, r.ExitCode);
        var lines = Lines(r.Stderr);
        Assert.Equal(2, lines.Length);
        Assert.Contains("not a loopback address", lines[0], StringComparison.Ordinal);
        Assert.Contains("--api-key", lines[0], StringComparison.Ordinal);
        Assert.Contains("--insecure", lines[0], StringComparison.Ordinal);
        Assert.StartsWith("usage: semsearch serve", lines[1], StringComparison.Ordinal);
        Assert.DoesNotContain("serving", r.Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--insecure")]
    [InlineData("--api-key")]
    public void Serve_NonLoopbackWithInsecureOrAKey_Starts(string how)
    {
        string[] args = how == "--insecure"
            ? ["serve", "--urls", "http://0.0.0.0:0", "--model", "none", "--insecure"]
            : ["serve", "--urls", "http://0.0.0.0:0", "--model", "none", "--api-key", "a-long-enough-key"];
        Assert.Contains("serving", StartedLine(args), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--otlp-endpoint", "localhost:4317")]
    [InlineData("--otlp-endpoint", "ftp://collector:4317")]
    [InlineData("--rate-limit", "0")]
    [InlineData("--rate-burst", "5")]
    public void Serve_BadOperationsFlag_RefusesToStartNamingTheFlag(string flag, string value)
    {
        var r = CliRunner.Run(_root.Path, "serve", "--urls", "http://127.0.0.1:0", "--model", "none", flag, value);

        Assert.Equal(64, r.ExitCode);
        var lines = Lines(r.Stderr);
        Assert.Contains(flag, lines[0], StringComparison.Ordinal);
        Assert.StartsWith("usage: semsearch serve", lines[^1], StringComparison.Ordinal);
        Assert.DoesNotContain("serving", r.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Serve_WithOperationsFlags_Starts()
    {
        Assert.Contains("serving", StartedLine(["serve", "--urls", "http://127.0.0.1:0", "--model", "none",
            "--prometheus", "--rate-limit", "5", "--rate-burst", "10", "--otlp-endpoint", "http://127.0.0.1:4317"]), StringComparison.Ordinal);
    }

    [Fact]
    public void Serve_LoopbackWithoutApiKey_StartsWithNothingElse()
    {
        Assert.Contains("serving", StartedLine(["serve", "--urls", "http://127.0.0.1:0", "--model", "none"]), StringComparison.Ordinal);
    }

    // Starts serve, returns its first line of standard output (or its errors when it exits first), then stops it.
    private string StartedLine(string[] args)
    {
        using var p = Process.Start(CliRunner.StartInfo(_root.Path, null, args))!;
        try
        {
            var line = p.StandardOutput.ReadLineAsync();
            if (!line.Wait(TimeSpan.FromMinutes(2)) || line.Result is null)
            {
                return $"no start line; exited: {p.HasExited}; stderr: {(p.HasExited ? p.StandardError.ReadToEnd() : "")}";
            }
            return line.Result;
        }
        finally
        {
            if (!p.HasExited)
            {
                p.Kill(entireProcessTree: true);
            }
            p.WaitForExit();
        }
    }
}
