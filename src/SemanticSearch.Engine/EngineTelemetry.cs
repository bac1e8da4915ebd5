// The engine's traces and metrics, on System.Diagnostics alone (no OpenTelemetry package here): hosts subscribe by
// name — OpenTelemetry's AddSource/AddMeter("SemanticSearch"), dotnet-trace, dotnet-counters. With nothing listening,
// StartActivity returns null and instruments are disabled, so an unobserved search pays a null check per phase.
// The names are a contract (docs/operations.md): dashboards and alerts are written against them. The histograms advise
// their buckets (a search takes milliseconds, a commit up to a minute), which OpenTelemetry's SDK follows.
using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace SemanticSearch.Engine;

/// <summary>
/// The <see cref="ActivitySource"/> and <see cref="Meter"/> of the engine, both named <see cref="Name"/>. Spans:
/// <c>search</c> with children <c>search.embed</c>, <c>search.lexical</c>, <c>search.dense</c>, <c>search.fuse</c> and
/// <c>search.hydrate</c>; indexing stages <c>index.extract</c>, <c>index.chunk</c>, <c>index.embed</c>,
/// <c>index.write</c> and <c>index.commit</c>.
/// </summary>
public static class EngineTelemetry
{
    /// <summary>Name of the activity source and of the meter.</summary>
    public const string Name = "SemanticSearch";

    /// <summary>Tag: the search mode (<c>lexical</c>, <c>dense</c> or <c>hybrid</c>).</summary>
    public const string ModeTag = "mode";

    /// <summary>Tag: the index, by its directory name.</summary>
    public const string IndexTag = "index";

    /// <summary>Tag: the vector space a dense span or an embedding worked on.</summary>
    public const string SpaceTag = "space";

    /// <summary>The engine's spans.</summary>
    public static ActivitySource Source { get; } = new(Name, typeof(EngineTelemetry).Assembly.GetName().Version?.ToString());

    /// <summary>The engine's instruments.</summary>
    public static Meter Meter { get; } = new(Name, typeof(EngineTelemetry).Assembly.GetName().Version?.ToString());

    /// <summary><c>semsearch.search.duration</c>: milliseconds per search, tagged <c>mode</c> and <c>index</c>.</summary>
    public static Histogram<double> SearchDuration { get; } =
        Meter.CreateHistogram("semsearch.search.duration", "ms", "Time to answer one search, from parse to hydrated hits.", tags: null,
            new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000] });

    /// <summary><c>semsearch.index.documents</c>: documents written to an index (tag <c>index</c>).</summary>
    public static Counter<long> IndexedDocuments { get; } =
        Meter.CreateCounter<long>("semsearch.index.documents", "{document}", "Documents written to an index (added or replaced).");

    /// <summary><c>semsearch.index.chunks</c>: chunks written to an index (tag <c>index</c>).</summary>
    public static Counter<long> IndexedChunks { get; } =
        Meter.CreateCounter<long>("semsearch.index.chunks", "{chunk}", "Chunks written to an index.");

    /// <summary><c>semsearch.embed.tokens</c>: tokens of passages embedded while indexing (tags <c>index</c>, <c>space</c>); its rate is tokens per second.</summary>
    public static Counter<long> EmbeddedTokens { get; } =
        Meter.CreateCounter<long>("semsearch.embed.tokens", "{token}", "Tokens of passages embedded while indexing.");

    /// <summary><c>semsearch.embed.tokens_per_second</c>: throughput of each embedding batch (tags <c>index</c>, <c>space</c>).</summary>
    public static Histogram<double> EmbedThroughput { get; } =
        Meter.CreateHistogram("semsearch.embed.tokens_per_second", "{token}/s", "Tokens per second of one embedding batch.", tags: null,
            new InstrumentAdvice<double> { HistogramBucketBoundaries = [100, 250, 500, 1000, 2500, 5000, 10_000, 25_000, 50_000, 100_000, 250_000, 1_000_000] });

    /// <summary><c>semsearch.commit.duration</c>: milliseconds per index commit (tag <c>index</c>).</summary>
    public static Histogram<double> CommitDuration { get; } =
        Meter.CreateHistogram("semsearch.commit.duration", "ms", "Time to commit one batch of writes to an index.", tags: null,
            new InstrumentAdvice<double> { HistogramBucketBoundaries = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000, 60_000] });

    /// <summary>The lower-case tag value of a search mode.</summary>
    public static string ModeName(Search.SearchMode mode) => mode switch
    {
        Search.SearchMode.Lexical => "lexical",
        Search.SearchMode.Dense => "dense",
        _ => "hybrid",
    };

    /// <summary>The <c>index</c> tag of the index at <paramref name="directory"/>: its directory name.</summary>
    public static string IndexName(string directory) => Path.GetFileName(Path.TrimEndingDirectorySeparator(directory));
}
