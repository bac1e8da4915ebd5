using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace SemanticSearch.Server.Tests;

/// <summary>
/// Traces and metrics of the real server, caught by OpenTelemetry's in-memory exporters through the options' hooks. The
/// engine's source and meter are process-wide, so other tests' servers emit into them too: every assertion picks its
/// spans and points by this test's own index name (the <c>index</c> tag).
/// </summary>
public sealed class TelemetryTests : IAsyncLifetime
{
    private readonly List<Activity> _spans = [];
    private readonly List<MetricSnapshot> _metrics = [];
    private string _folder = null!;

    public Task InitializeAsync()
    {
        _folder = Path.Combine(Path.GetTempPath(), "semsearch-telemetry-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_folder);
        return Task.CompletedTask;
    }

    public Task DisposeAsync()
    {
        Directory.Delete(_folder, recursive: true);
        return Task.CompletedTask;
    }

    private Task<TestServer> StartObserved() => TestServer.StartAsync(o => o with
    {
        NewIndexModel = TestModels.TestBertDirectory,
        AllowedFolderRoots = [_folder],
        Telemetry = new ServerTelemetryOptions
        {
            ConfigureTracing = t => t.AddInMemoryExporter(_spans),
            ConfigureMetrics = m => m.AddInMemoryExporter(_metrics),
        },
    });

    private static string NewIndexName() => "tel-" + Guid.NewGuid().ToString("N")[..12];

    private List<Activity> Spans()
    {
        lock (_spans)
        {
            return [.. _spans];
        }
    }

    // The points of one instrument for this test's index, after a collection that the test forces.
    private List<MetricPoint> Points(TestServer server, string instrument, string index)
    {
        Assert.True(server.Services.GetRequiredService<MeterProvider>().ForceFlush(10_000), "the meter provider did not flush");
        var points = new List<MetricPoint>();
        foreach (var metric in _metrics.ToList().Where(m => m.Name == instrument))
        {
            foreach (var point in metric.MetricPoints)
            {
                if (TagsOf(point).TryGetValue("index", out var value) && Equals(value, index))
                {
                    points.Add(point);
                }
            }
        }
        return points;
    }

    private static Dictionary<string, object?> TagsOf(MetricPoint point)
    {
        var tags = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var tag in point.Tags)
        {
            tags[tag.Key] = tag.Value;
        }
        return tags;
    }

    // A cumulative counter's latest total for the index (the last export holds the running sum).
    private long CounterTotal(TestServer server, string instrument, string index) =>
        Points(server, instrument, index).Select(p => p.GetSumLong()).DefaultIfEmpty(0).Last();

    [Fact]
    public async Task HybridSearch_WithInMemoryExporters_SearchSpanHasEveryPhaseAsChild()
    {
        await using var server = await StartObserved();
        var index = NewIndexName();
        await server.AddDocuments(index,
            ("bees", "Honeybees", "Honeybees dance to tell the hive where the flowers are."),
            ("ants", "Ants", "Ants leave scent trails that lead the colony to food."),
            ("whales", "Whales", "Humpback whales sing long songs that carry across the ocean."));

        var result = await server.Search(index, new { query = "how do bees find flowers", mode = "hybrid", k = 2 });

        Assert.Equal("hybrid", result["mode"]!.GetValue<string>());
        var spans = Spans();
        var search = Assert.Single(spans, s => s.OperationName == "search" && Equals(s.GetTagItem("index"), index));
        Assert.Equal("hybrid", search.GetTagItem("mode"));
        Assert.Equal(2, search.GetTagItem("k"));
        Assert.Equal(TestServer.DocIds(result).Count, search.GetTagItem("hits"));
        var children = spans.Where(s => s.ParentSpanId == search.SpanId).ToList();
        foreach (var phase in new[] { "search.embed", "search.lexical", "search.dense", "search.fuse", "search.hydrate" })
        {
            var ofPhase = children.Where(c => c.OperationName == phase).ToList();
            Assert.True(ofPhase.Count > 0, $"the search span has no {phase} child");
            Assert.All(ofPhase, c => Assert.Equal(search.TraceId, c.TraceId));
        }
        var space = Path.GetFileName(TestModels.TestBertDirectory);
        Assert.Equal(space, children.First(c => c.OperationName == "search.dense").GetTagItem("space"));
        Assert.Equal(space, children.First(c => c.OperationName == "search.embed").GetTagItem("space"));
        // the search runs inside the HTTP request's span (ASP.NET Core's): one trace from the request to the hydrate
        Assert.NotEqual(default, search.ParentSpanId);
    }

    [Fact]
    public async Task LexicalSearch_WithInMemoryExporters_SpanAndDurationPointCarryItsMode()
    {
        await using var server = await StartObserved();
        var index = NewIndexName();
        await server.AddDocuments(index, ("bees", "Honeybees", "Honeybees dance to tell the hive where the flowers are."));

        await server.Search(index, new { query = "honeybees", mode = "lexical" });
        await server.Search(index, new { query = "honeybees", mode = "hybrid" });

        var searches = Spans().Where(s => s.OperationName == "search" && Equals(s.GetTagItem("index"), index)).ToList();
        Assert.Equal(["lexical", "hybrid"], searches.Select(s => s.GetTagItem("mode")));
        var lexical = searches[0];
        Assert.DoesNotContain(Spans(), s => s.ParentSpanId == lexical.SpanId && s.OperationName is "search.dense" or "search.embed" or "search.fuse");
        var durations = Points(server, "semsearch.search.duration", index);
        Assert.Contains(durations, p => Equals(TagsOf(p)["mode"], "hybrid") && p.GetHistogramCount() >= 1 && p.GetHistogramSum() > 0);
        Assert.Contains(durations, p => Equals(TagsOf(p)["mode"], "lexical") && p.GetHistogramCount() >= 1);
    }

    [Fact]
    public async Task FolderJob_WithInMemoryExporters_CountersMatchWhatTheJobIndexed()
    {
        // Short files are one chunk each; the long ones several, so the chunk counter cannot pass by counting documents.
        var sentences = new[] { "Otters hold hands while they sleep.", "Crows remember the faces of people.", "Octopuses taste with their arms." };
        for (var i = 0; i < 6; i++)
        {
            File.WriteAllText(Path.Combine(_folder, $"short-{i}.txt"), $"{sentences[i % 3]} Note {i}.");
        }
        for (var i = 0; i < 2; i++)
        {
            File.WriteAllText(Path.Combine(_folder, $"long-{i}.txt"),
                string.Join(' ', Enumerable.Range(0, 400).Select(w => $"{sentences[w % 3]} Paragraph {w} of long file {i}.")));
        }
        var files = Directory.GetFiles(_folder, "*.txt").Length;
        await using var server = await StartObserved();
        var index = NewIndexName();

        using var started = await server.PostJson($"/indexes/{index}/jobs", new { folder = _folder });
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        var location = started.Headers.Location!.ToString();
        System.Text.Json.Nodes.JsonNode status;
        do
        {
            await Task.Delay(100);
            status = System.Text.Json.Nodes.JsonNode.Parse(await server.Client.GetStringAsync(location))!;
        }
        while (status["state"]!.GetValue<string>() is "queued" or "running");
        Assert.Equal("succeeded", status["state"]!.GetValue<string>());

        // the index's own count of its chunks (metadata), against the counter the writes added to
        var details = System.Text.Json.Nodes.JsonNode.Parse(await server.Client.GetStringAsync($"/indexes/{index}"))!;
        var chunks = details["chunks"]!.GetValue<long>();
        Assert.Equal(files, details["documents"]!.GetValue<long>());
        Assert.True(chunks > files, $"{chunks} chunks for {files} files: the long files should have several");
        Assert.Equal(files, CounterTotal(server, "semsearch.index.documents", index));
        Assert.Equal(chunks, CounterTotal(server, "semsearch.index.chunks", index));
        Assert.True(CounterTotal(server, "semsearch.embed.tokens", index) > 0);
        Assert.NotEmpty(Points(server, "semsearch.commit.duration", index));

        // every stage of the job is a span, in one trace with its write
        var spans = Spans();
        var write = spans.First(s => s.OperationName == "index.write" && Equals(s.GetTagItem("index"), index));
        var trace = spans.Where(s => s.TraceId == write.TraceId).Select(s => s.OperationName).ToHashSet();
        foreach (var stage in new[] { "index.extract", "index.chunk", "index.embed", "index.write", "index.commit" })
        {
            Assert.Contains(stage, trace);
        }
    }

    [Fact]
    public async Task Metrics_PrometheusOn_ServesSearchDuration()
    {
        await using var server = await TestServer.StartAsync(o => o with { Telemetry = new ServerTelemetryOptions { Prometheus = true } });
        var index = NewIndexName();
        await server.AddDocuments(index, ("bees", "Honeybees", "Honeybees dance to tell the hive where the flowers are."));
        await server.Search(index, new { query = "honeybees", mode = "lexical" });

        using var response = await server.Client.GetAsync("/metrics");
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("semsearch_search_duration", text, StringComparison.Ordinal);
        Assert.Contains($"index=\"{index}\"", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metrics_PrometheusOff_Returns404()
    {
        await using var server = await TestServer.StartAsync();

        using var response = await server.Client.GetAsync("/metrics");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Theory]
    [InlineData("localhost:4317")]
    [InlineData("ftp://collector:4317")]
    [InlineData("/v1/traces")]
    public void Create_BadOtlpEndpoint_IsRefusedNamingTheSetting(string endpoint)
    {
        var options = new SearchServerOptions { Telemetry = new ServerTelemetryOptions { OtlpEndpoint = new Uri(endpoint, UriKind.RelativeOrAbsolute) } };

        var e = Assert.Throws<SemanticSearch.Core.InvalidSettingException>(() => SearchServer.Create(options));

        Assert.Equal("telemetry.otlpEndpoint", e.Setting);
    }
}
