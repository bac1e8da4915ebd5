using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using SemanticSearch.Core;
using SemanticSearch.Engine;
using SemanticSearch.Engine.Storage;

namespace SemanticSearch.Server;

/// <summary>
/// Everything the HTTP service is started with. Validated once, at start, so a bad value stops the server with a
/// message that names the setting instead of failing on the first request.
/// </summary>
public sealed record SearchServerOptions
{
    /// <summary>The address the service binds to by default: loopback only, so nothing is exposed by accident.</summary>
    public const string DefaultUrls = "http://127.0.0.1:5080";

    /// <summary>Environment variable that supplies <see cref="ApiKey"/> when the option is not given.</summary>
    public const string ApiKeyVariable = "SEMSEARCH_API_KEY";

    /// <summary>Addresses to listen on, separated by ';' (port 0 picks a free port).</summary>
    public string Urls { get; init; } = DefaultUrls;

    /// <summary>The directory that holds named indexes; null means <see cref="IndexLocation.Root"/>.</summary>
    public string? IndexesRoot { get; init; }

    /// <summary>Folders that background indexing jobs may read; a job's folder must lie under one of them. Empty refuses every job.</summary>
    public IReadOnlyList<string> AllowedFolderRoots { get; init; } = [];

    /// <summary>
    /// When set, every route except <c>/health</c> and the page itself needs this value in the <c>X-Api-Key</c> header.
    /// Null means <c>SEMSEARCH_API_KEY</c> when set, else no key.
    /// </summary>
    public string? ApiKey { get; init; }

    /// <summary>
    /// Serve addresses other than loopback without an API key. Off by default: <see cref="Validate"/> refuses such a
    /// bind, so nothing is exposed to the network unguarded by accident.
    /// </summary>
    public bool Insecure { get; init; }

    /// <summary>Largest request body accepted, in bytes (default 4 MiB).</summary>
    public long MaxRequestBytes { get; init; } = 4L * 1024 * 1024;

    /// <summary>Largest <c>k</c> a search may ask for (default 100).</summary>
    public int MaxK { get; init; } = 100;

    /// <summary>Most documents accepted in one <c>POST /indexes/{name}/documents</c> (default 1000).</summary>
    public int MaxDocumentsPerRequest { get; init; } = 1000;

    /// <summary>How long one upsert may take before it is cancelled (nothing of it is written).</summary>
    public TimeSpan UpsertTimeout { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>How long a write waits for the same index's earlier writes in this server before answering 409.</summary>
    public TimeSpan WriteQueueTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a request's write waits for another process's write lock (a CLI job) before answering 409.</summary>
    public TimeSpan WriteLockWait { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The server gives the write lock back when no write has come for this long.</summary>
    public TimeSpan WriterIdleRelease { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Settings of indexes the service creates (first document or first job into a new name).</summary>
    public IndexSettings NewIndexSettings { get; init; } = new();

    /// <summary>
    /// Embedding model of indexes created through the API: a profile id, a model directory, <c>none</c> (BM25 only),
    /// several comma-separated (one vector space each), or null for the default model. Existing indexes always open
    /// with the models their manifest names; <c>PUT /indexes/{name}</c> may name other catalog models.
    /// </summary>
    public string? NewIndexModel { get; init; }

    /// <summary>Traces and metrics (docs/operations.md): nothing is collected unless an exporter is configured.</summary>
    public ServerTelemetryOptions Telemetry { get; init; } = new();

    /// <summary>A request rate limit per API key (per client address without one); null, the default, limits nothing.</summary>
    public RateLimitOptions? RateLimit { get; init; }

    /// <summary>The API key in force: the option, else the environment variable, else none.</summary>
    public string? EffectiveApiKey =>
        ApiKey is { Length: > 0 } key ? key
        : Environment.GetEnvironmentVariable(ApiKeyVariable) is { Length: > 0 } env ? env
        : null;

    /// <summary>
    /// Whether <paramref name="url"/> binds only this machine: <c>localhost</c> or a loopback IP. A wildcard
    /// (<c>*</c>, <c>+</c>, <c>0.0.0.0</c>, <c>[::]</c>) and any other host name or address reach the network.
    /// </summary>
    public static bool IsLoopback(string url)
    {
        // Kestrel's wildcards are not valid URI hosts: read the host between "://" and the port ourselves.
        var rest = url[(url.IndexOf("://", StringComparison.Ordinal) + 3)..];
        var end = rest.IndexOf('/', StringComparison.Ordinal);
        var authority = end < 0 ? rest : rest[..end];
        var host = authority.StartsWith('[')
            ? authority[..(authority.IndexOf(']', StringComparison.Ordinal) + 1)]
            : authority.Split(':')[0];
        return host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
            || (System.Net.IPAddress.TryParse(host.Trim('[', ']'), out var ip) && System.Net.IPAddress.IsLoopback(ip));
    }

    /// <summary>Throws <see cref="InvalidSettingException"/> naming the first bad setting.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Urls))
        {
            throw new InvalidSettingException("urls", "at least one address is required.");
        }
        foreach (var url in Urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            // Kestrel's wildcard hosts (http://*:5080, http://+:5080) mean every address; Uri does not read them.
            var parsable = url.Replace("://*", "://0.0.0.0", StringComparison.Ordinal).Replace("://+", "://0.0.0.0", StringComparison.Ordinal);
            if (!Uri.TryCreate(parsable, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            {
                throw new InvalidSettingException("urls", $"'{url}' is not an http:// or https:// address.");
            }
            if (!IsLoopback(url) && EffectiveApiKey is null && !Insecure)
            {
                throw new InvalidSettingException("urls",
                    $"'{url}' is not a loopback address and no API key is set: set one (--api-key or {ApiKeyVariable}), or pass --insecure to serve the network without one.");
            }
        }
        if (MaxRequestBytes is < 1024 or > 1L << 30)
        {
            throw new InvalidSettingException("maxRequestBytes", $"must be between 1024 and 1073741824 (got {MaxRequestBytes}).");
        }
        if (MaxK is < 1 or > Engine.Search.SearchRequest.MaxK)
        {
            throw new InvalidSettingException("maxK", $"must be between 1 and {Engine.Search.SearchRequest.MaxK} (got {MaxK}).");
        }
        if (UpsertTimeout <= TimeSpan.Zero || WriteQueueTimeout < TimeSpan.Zero || WriteLockWait < TimeSpan.Zero || WriterIdleRelease < TimeSpan.Zero)
        {
            throw new InvalidSettingException("upsertTimeout", "upsertTimeout must be positive, and writeQueueTimeout, writeLockWait and writerIdleRelease not negative.");
        }
        if (MaxDocumentsPerRequest is < 1 or > 100_000)
        {
            throw new InvalidSettingException("maxDocumentsPerRequest", $"must be between 1 and 100000 (got {MaxDocumentsPerRequest}).");
        }
        foreach (var root in AllowedFolderRoots)
        {
            if (!Directory.Exists(root))
            {
                throw new InvalidSettingException("allowedFolderRoots", $"'{root}' is not an existing folder.");
            }
        }
        Telemetry.Validate();
        RateLimit?.Validate();
        NewIndexSettings.Validate();
    }
}

/// <summary>Where the server's traces and metrics go (<c>serve --otlp-endpoint</c>, <c>--prometheus</c>).</summary>
public sealed record ServerTelemetryOptions
{
    /// <summary>
    /// An OpenTelemetry collector (OTLP over gRPC, e.g. <c>http://localhost:4317</c>): when set, traces and metrics are
    /// exported to it. Null exports nothing over OTLP.
    /// </summary>
    public Uri? OtlpEndpoint { get; init; }

    /// <summary>Serve the metrics in the Prometheus text format at <c>/metrics</c> (off by default: the route does not exist).</summary>
    public bool Prometheus { get; init; }

    /// <summary>Adds to the tracer provider (another exporter, a sampler); for hosts and tests, never read from configuration.</summary>
    public Action<TracerProviderBuilder>? ConfigureTracing { get; init; }

    /// <summary>Adds to the meter provider (another exporter or reader); for hosts and tests, never read from configuration.</summary>
    public Action<MeterProviderBuilder>? ConfigureMetrics { get; init; }

    /// <summary>Whether spans are collected at all: an OTLP endpoint or a tracing hook is configured.</summary>
    public bool Traces => OtlpEndpoint is not null || ConfigureTracing is not null;

    /// <summary>Whether metrics are collected at all: an OTLP endpoint, the Prometheus route or a metrics hook is configured.</summary>
    public bool Metrics => OtlpEndpoint is not null || Prometheus || ConfigureMetrics is not null;

    /// <summary>Throws <see cref="InvalidSettingException"/> naming the first bad setting.</summary>
    public void Validate()
    {
        if (OtlpEndpoint is { } otlp && (!otlp.IsAbsoluteUri || otlp.Scheme is not ("http" or "https") || string.IsNullOrEmpty(otlp.Host)))
        {
            throw new InvalidSettingException("telemetry.otlpEndpoint", $"'{otlp.OriginalString}' is not an absolute http:// or https:// address (an OTLP collector, e.g. http://localhost:4317).");
        }
    }
}

/// <summary>
/// A token bucket per client (<c>serve --rate-limit</c>, <c>--rate-burst</c>): a client may send <see cref="Burst"/>
/// requests at once, and then <see cref="TokensPerSecond"/> a second on average; beyond that it gets 429 with
/// <c>Retry-After</c>. Clients are told apart by their <c>X-Api-Key</c> header, or without one by their address.
/// </summary>
public sealed record RateLimitOptions
{
    /// <summary>Requests a second a client may send on average (the bucket's refill rate), 0.001 to 1000000; may be fractional.</summary>
    public double TokensPerSecond { get; init; } = 10;

    /// <summary>Requests a client may send at once (the bucket's size), 1 to 1000000.</summary>
    public int Burst { get; init; } = 20;

    /// <summary>Throws <see cref="InvalidSettingException"/> naming the first bad setting.</summary>
    public void Validate()
    {
        if (!double.IsFinite(TokensPerSecond) || TokensPerSecond is < 0.001 or > 1_000_000)
        {
            throw new InvalidSettingException("rateLimit.tokensPerSecond", $"must be a number from 0.001 to 1000000 (got {TokensPerSecond.ToString(System.Globalization.CultureInfo.InvariantCulture)}).");
        }
        if (Burst is < 1 or > 1_000_000)
        {
            throw new InvalidSettingException("rateLimit.burst", $"must be between 1 and 1000000 (got {Burst}).");
        }
    }
}
