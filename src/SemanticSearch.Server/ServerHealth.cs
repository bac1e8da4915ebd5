// Probes for an orchestrator: /health/live answers 200 while the process serves requests at all; /health/ready answers
// 200 only when every index under the root opens at its last commit with each vector space's model loaded, and 503
// naming each index that does not (a damaged manifest, a missing store, a model this server cannot load). Both are
// ASP.NET Core health checks, outside the API key and the rate limit, and not part of the OpenAPI document (the plain
// /health there stays the liveness route it always was).
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace SemanticSearch.Server;

internal static class ServerHealth
{
    public const string LivePath = "/health/live";
    public const string ReadyPath = "/health/ready";
    private const string ReadyTag = "ready";
    private const string IndexesCheck = "indexes";

    public static void Add(IHealthChecksBuilder checks, IndexCatalog catalog) =>
        checks.AddCheck(IndexesCheck, new IndexReadiness(catalog), tags: [ReadyTag]);

    public static void Map(WebApplication app)
    {
        app.MapHealthChecks(LivePath, new HealthCheckOptions { Predicate = _ => false, ResponseWriter = Write })
            .DisableRateLimiting().ExcludeFromDescription();
        app.MapHealthChecks(ReadyPath, new HealthCheckOptions { Predicate = c => c.Tags.Contains(ReadyTag), ResponseWriter = Write })
            .DisableRateLimiting().ExcludeFromDescription();
    }

    // {"status":"unhealthy","indexes":{"notes":"ready","broken":"index.json: ..."}}: one entry per index, its problem
    // when it is not ready. (The default writer prints the status word alone, which names no index.)
    private static Task Write(HttpContext ctx, HealthReport report)
    {
        ctx.Response.ContentType = "application/json; charset=utf-8";
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("status", report.Status.ToString().ToLowerInvariant());
            if (report.Entries.TryGetValue(IndexesCheck, out var indexes))
            {
                json.WriteStartObject("indexes");
                foreach (var (name, state) in indexes.Data)
                {
                    json.WriteString(name, state as string ?? "");
                }
                json.WriteEndObject();
                if (indexes.Description is { } description)
                {
                    json.WriteString("detail", description);
                }
            }
            json.WriteEndObject();
        }
        return ctx.Response.Body.WriteAsync(buffer.ToArray(), ctx.RequestAborted).AsTask();
    }

    // Opens (or reuses) each index's read view, the same one searches use, and asks whether its spaces can search.
    private sealed class IndexReadiness(IndexCatalog catalog) : IHealthCheck
    {
        public const string Ready = "ready";

        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            var states = new Dictionary<string, object>(StringComparer.Ordinal);
            var failing = new List<string>();
            foreach (var name in catalog.Names())
            {
                cancellationToken.ThrowIfCancellationRequested();
                var problem = ProblemOf(name);
                states[name] = problem ?? Ready;
                if (problem is not null)
                {
                    failing.Add(name);
                }
            }
            return Task.FromResult(failing.Count == 0
                ? HealthCheckResult.Healthy($"{states.Count} index(es) ready.", states)
                : HealthCheckResult.Unhealthy($"not ready: {string.Join(", ", failing.Select(f => $"index '{f}'"))}.", data: states));
        }

        private string? ProblemOf(string name)
        {
            try
            {
                using var view = catalog.Get(name).Read();
                return view.Index.UnsearchableSpace() is { } space ? $"index '{name}': {space}" : null;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // whatever keeps the index from opening keeps it from serving; name it without the server's folders
                return Problems.WithoutServerPaths($"index '{name}': {e.Message}", catalog.Root);
            }
        }
    }
}
