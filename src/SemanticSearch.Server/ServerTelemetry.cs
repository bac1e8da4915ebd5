// OpenTelemetry for the HTTP host: the engine's "SemanticSearch" source and meter (EngineTelemetry) plus ASP.NET
// Core's request spans and metrics, exported over OTLP, scraped at /metrics, or handed to a host's own exporter. The
// engine never references OpenTelemetry; this file is the only place that does. Nothing is registered when no
// exporter is configured, so an unobserved server runs the engine's no-listener path.
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using SemanticSearch.Engine;

namespace SemanticSearch.Server;

internal static class ServerTelemetry
{
    /// <summary>The Prometheus scrape route (only with <see cref="ServerTelemetryOptions.Prometheus"/>).</summary>
    public const string MetricsPath = "/metrics";

    /// <summary>The service name the exported resource carries.</summary>
    public const string ServiceName = "semsearch";

    public static void Add(IServiceCollection services, ServerTelemetryOptions options)
    {
        if (!options.Traces && !options.Metrics)
        {
            return;
        }
        var otel = services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(ServiceName, serviceVersion: typeof(ServerTelemetry).Assembly.GetName().Version?.ToString()));
        if (options.Traces)
        {
            otel.WithTracing(t =>
            {
                t.AddSource(EngineTelemetry.Name)
                    // probes and scrapes every few seconds would drown the requests worth tracing
                    .AddAspNetCoreInstrumentation(a => a.Filter = ctx => !IsOperational(ctx.Request.Path));
                if (options.OtlpEndpoint is { } otlp)
                {
                    t.AddOtlpExporter(o => o.Endpoint = otlp);
                }
                options.ConfigureTracing?.Invoke(t);
            });
        }
        if (options.Metrics)
        {
            otel.WithMetrics(m =>
            {
                m.AddMeter(EngineTelemetry.Name).AddAspNetCoreInstrumentation();
                if (options.OtlpEndpoint is { } otlp)
                {
                    m.AddOtlpExporter(o => o.Endpoint = otlp);
                }
                if (options.Prometheus)
                {
                    m.AddPrometheusExporter();
                }
                options.ConfigureMetrics?.Invoke(m);
            });
        }
    }

    /// <summary>Maps <c>/metrics</c> when the Prometheus exporter is on; without it the route does not exist (404).</summary>
    public static void Map(WebApplication app, ServerTelemetryOptions options)
    {
        if (options.Prometheus)
        {
            app.MapPrometheusScrapingEndpoint(MetricsPath).ExcludeFromDescription();
        }
    }

    // Health probes and the scrape route: not traced (the requests they answer are the service's own bookkeeping).
    private static bool IsOperational(PathString path) =>
        path.StartsWithSegments("/health", StringComparison.OrdinalIgnoreCase) || path.StartsWithSegments(MetricsPath, StringComparison.OrdinalIgnoreCase);
}
