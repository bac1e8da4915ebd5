using System.CommandLine;
using SemanticSearch.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using SemanticSearch.Engine.Storage;
using SemanticSearch.Server;

namespace SemanticSearch.Cli.Commands;

/// <summary><c>semsearch serve [--urls http://127.0.0.1:5080] [--allow-folder &lt;root&gt;]...</c></summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var urls = new Option<string>("--urls")
        {
            Description = "Addresses to listen on, ';'-separated. Loopback by default; bind other addresses only behind an API key.",
            DefaultValueFactory = _ => SearchServerOptions.DefaultUrls,
        };
        var allow = new Option<string[]>("--allow-folder")
        {
            Description = "A folder that POST /indexes/{name}/jobs may index (repeatable). Without it, folder jobs are refused.",
            AllowMultipleArgumentsPerToken = true,
        };
        var apiKey = new Option<string?>("--api-key")
        {
            Description = $"Require this key in the X-Api-Key header on every route but /health and the page. Prefer ${SearchServerOptions.ApiKeyVariable}: arguments show in process lists.",
        };
        var maxRequest = new Option<long>("--max-request-bytes")
        {
            Description = "Largest request body accepted.",
            DefaultValueFactory = _ => new SearchServerOptions().MaxRequestBytes,
        };
        var maxK = new Option<int>("--max-k")
        {
            Description = "Largest k a search may ask for.",
            DefaultValueFactory = _ => new SearchServerOptions().MaxK,
        };

        var upsertTimeout = new Option<double>("--upsert-timeout")
        {
            Description = "Seconds one document upsert may take before it is cancelled (nothing of it is written; the client gets 503).",
            DefaultValueFactory = _ => new SearchServerOptions().UpsertTimeout.TotalSeconds,
        };

        var model = new Option<string?>("--model")
        {
            Description = "Embedding model for indexes created through the API (a profile id, a model directory, or 'none'; several, comma-separated, give each index one vector space per model); default: the default model. PUT /indexes/{name} may name other catalog models.",
        };

        var insecure = new Option<bool>("--insecure")
        {
            Description = "Serve an address other than loopback without an API key (refused without this flag).",
        };

        var otlp = new Option<string?>("--otlp-endpoint")
        {
            Description = "Export traces and metrics to this OpenTelemetry collector (OTLP over gRPC, e.g. http://localhost:4317). See docs/operations.md.",
        };
        var prometheus = new Option<bool>("--prometheus")
        {
            Description = "Serve metrics for Prometheus to scrape at /metrics (behind the API key when one is set).",
        };
        var rateLimit = new Option<double?>("--rate-limit")
        {
            Description = "Requests a second each client (API key, else address) may send on average; beyond it, 429 with Retry-After. Off by default.",
        };
        var rateBurst = new Option<int?>("--rate-burst")
        {
            Description = $"Requests a client may send at once under --rate-limit (default {new RateLimitOptions().Burst}).",
        };

        var cmd = new Command("serve", "Serve the indexes over HTTP: a JSON API and a search page at /.") { urls, allow, apiKey, insecure, maxRequest, maxK, upsertTimeout, model, otlp, prometheus, rateLimit, rateBurst };
        cmd.SetAction(parse => CommonOptions.Run(parse, ct =>
        {
            var options = new SearchServerOptions
            {
                Urls = parse.GetValue(urls)!,
                IndexesRoot = IndexLocation.Root,
                AllowedFolderRoots = parse.GetValue(allow) ?? [],
                ApiKey = parse.GetValue(apiKey),
                Insecure = parse.GetValue(insecure),
                MaxRequestBytes = parse.GetValue(maxRequest),
                MaxK = parse.GetValue(maxK),
                NewIndexModel = parse.GetValue(model),
                UpsertTimeout = parse.GetValue(upsertTimeout) is > 0 and < 1e6 and var seconds
                    ? TimeSpan.FromSeconds(seconds)
                    : throw new UsageException("--upsert-timeout", $"must be a positive number of seconds below 1000000 (got {parse.GetValue(upsertTimeout)})."),
                Telemetry = new ServerTelemetryOptions
                {
                    OtlpEndpoint = parse.GetValue(otlp) is { } endpoint
                        ? Uri.TryCreate(endpoint, UriKind.RelativeOrAbsolute, out var uri) ? uri : throw new UsageException("--otlp-endpoint", $"'{endpoint}' is not an address.")
                        : null,
                    Prometheus = parse.GetValue(prometheus),
                },
                RateLimit = (parse.GetValue(rateLimit), parse.GetValue(rateBurst)) switch
                {
                    (null, null) => null,
                    (null, _) => throw new UsageException("--rate-burst", "needs --rate-limit (the requests a second a client may send)."),
                    ({ } rate, var burst) => new RateLimitOptions { TokensPerSecond = rate, Burst = burst ?? new RateLimitOptions().Burst },
                },
            };
            WebApplication app;
            try
            {
                app = SearchServer.Create(options);
            }
            catch (InvalidSettingException e) when (FlagOf(e.Setting) is { } flag)
            {
                throw UsageException.From(e, flag);
            }
            try
            {
                try
                {
                    ListenFailure.StartAsync(app, options.Urls, ct).GetAwaiter().GetResult();
                }
                catch (ListenException e)
                {
                    throw new SemanticSearchException($"serve: {e.Message}", e);
                }
                var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
                Console.WriteLine($"serving {IndexLocation.Root} on {string.Join(", ", addresses)}{(options.EffectiveApiKey is null ? "" : " (API key required)")}; Ctrl+C stops.");
                // Returns when Ctrl+C (our token or the host's own console handler) asks to stop, after a graceful shutdown.
                app.WaitForShutdownAsync(ct).GetAwaiter().GetResult();
            }
            finally
            {
                ((IAsyncDisposable)app).DisposeAsync().AsTask().GetAwaiter().GetResult();
            }
            return ExitCodes.Ok;
        }));
        return cmd;
    }

    // The flag that sets a setting the server refused, for a usage error that names what the user typed.
    private static string? FlagOf(string setting) => setting switch
    {
        "urls" => "--urls",
        "telemetry.otlpEndpoint" => "--otlp-endpoint",
        "rateLimit.tokensPerSecond" => "--rate-limit",
        "rateLimit.burst" => "--rate-burst",
        _ => null,
    };
}
