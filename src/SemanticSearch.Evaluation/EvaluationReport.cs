using System.Globalization;
using System.Text;
using SemanticSearch.Engine.Search;

namespace SemanticSearch.Evaluation;

/// <summary>One query where two result sets differ, for error analysis.</summary>
public sealed record QueryDelta(string QueryId, string Query, double First, double Second)
{
    /// <summary>Second minus first.</summary>
    public double Delta => Second - First;
}

/// <summary>
/// A Markdown report of an evaluation run with two plots (ScottPlot PNGs): nDCG@10 per mode, and the per-query
/// nDCG@10 differences of a compared pair, sorted — the shape shows whether a mean gain is broad or a few queries.
/// </summary>
public static class EvaluationReport
{
    /// <summary>The <paramref name="count"/> queries whose nDCG@10 differs most between two results, largest first.</summary>
    public static IReadOnlyList<QueryDelta> Compare(EvaluationResult result, BeirDataset dataset, string first, string second, int count)
    {
        var a = PerQuery(result, first);
        var b = PerQuery(result, second);
        return a.Keys
            .Select(q => new QueryDelta(q, dataset.Queries.GetValueOrDefault(q, ""), a[q], b.GetValueOrDefault(q)))
            .OrderByDescending(d => Math.Abs(d.Delta))
            .ThenBy(d => d.QueryId, StringComparer.Ordinal)
            .Take(count)
            .ToList();
    }

    private static IReadOnlyDictionary<string, double> PerQuery(EvaluationResult result, string name) =>
        result.PerQueryNdcg.TryGetValue(name, out var v)
            ? v
            : throw new Core.InvalidSettingException("compare", $"'{name}' was not evaluated in this run (have: {string.Join(", ", result.PerQueryNdcg.Keys)}).");

    /// <summary>Writes <c>&lt;dataset&gt;.md</c> and its plots into <paramref name="directory"/>; returns the Markdown path.</summary>
    public static string Write(
        string directory,
        EvaluationResult result,
        BeirDataset dataset,
        string command,
        FusionTuning? tuning,
        string? tuningSource,
        (string First, string Second)? pair)
    {
        Directory.CreateDirectory(directory);
        // a tuning run scores other queries than a plain one (a held-out half where there is no train split): own files
        var name = result.Dataset + (tuning is null ? "" : "-tuned");
        var ndcgPlot = $"{name}-ndcg.png";
        PlotModes(result, Path.Combine(directory, ndcgPlot));
        var inv = CultureInfo.InvariantCulture;
        var md = new StringBuilder();
        md.Append(inv, $"# {result.Dataset}: retrieval evaluation{(tuning is null ? "" : " with fusion tuning")}\n\n");
        md.Append(inv, $"- Command: `{command}`\n");
        md.Append(inv, $"- Date: {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC; machine: {Environment.ProcessorCount} cores, {Environment.OSVersion}\n");
        md.Append(inv, $"- Model: {result.Model ?? "none (lexical only)"}; split `{result.Split}`, {result.Queries} judged queries scored");
        md.Append(tuningSource is not null && tuningSource.StartsWith("held-out", StringComparison.Ordinal) ? " (the held-out half)\n" : "\n");
        md.Append(inv, $"- Index: {result.Documents:N0} documents, {(result.IndexReused ? "reused from an earlier run" : $"built in {result.IndexSeconds:F1} s ({result.Documents / Math.Max(result.IndexSeconds, 1e-9):F0} docs/s)")}\n\n");
        md.Append("| run | nDCG@10 | Recall@100 | MRR@10 | MAP@100 | queries/s | fusion |\n|---|---:|---:|---:|---:|---:|---|\n");
        foreach (var (mode, m) in result.Results)
        {
            var fusion = result.Fusions.TryGetValue(mode, out var f) ? Describe(f) : "";
            md.Append(inv, $"| {mode} | {m.Ndcg10:F4} | {m.Recall100:F4} | {m.Mrr10:F4} | {m.Map100:F4} | {m.QueriesPerSecond:F1} | {fusion} |\n");
        }
        md.Append(inv, $"\n![nDCG@10 per run]({ndcgPlot})\n");
        if (tuning is not null)
        {
            md.Append(inv, $"\n## Fusion tuning\n\nTuned on {tuningSource} ({tuning.Queries} queries, {tuning.SettingsTried} settings). ");
            md.Append("Rule: the best nDCG@10 among settings whose Recall@100 is at least BM25's on the tuning queries.\n\n");
            md.Append("| on the tuning queries | nDCG@10 | Recall@100 |\n|---|---:|---:|\n");
            md.Append(inv, $"| lexical | {tuning.Lexical.Ndcg10:F4} | {tuning.Lexical.Recall100:F4} |\n");
            md.Append(inv, $"| dense | {tuning.Dense.Ndcg10:F4} | {tuning.Dense.Recall100:F4} |\n");
            md.Append(inv, $"| index default ({Describe(tuning.Baseline.Fusion)}) | {tuning.Baseline.Ndcg10:F4} | {tuning.Baseline.Recall100:F4} |\n");
            md.Append(inv, $"| **chosen** ({Describe(tuning.Best)}) | {tuning.BestScore.Ndcg10:F4} | {tuning.BestScore.Recall100:F4} |\n\n");
            md.Append("Best ten settings by nDCG@10 on the tuning queries (eligible or not):\n\n| setting | nDCG@10 | Recall@100 |\n|---|---:|---:|\n");
            foreach (var s in tuning.Top)
            {
                md.Append(inv, $"| {Describe(s.Fusion)} | {s.Ndcg10:F4} | {s.Recall100:F4} |\n");
            }
        }
        if (pair is { } p && result.PerQueryNdcg.ContainsKey(p.First) && result.PerQueryNdcg.ContainsKey(p.Second))
        {
            var deltaPlot = $"{name}-delta-{p.First}-{p.Second}.png";
            PlotDeltas(result, p.First, p.Second, Path.Combine(directory, deltaPlot));
            var all = Compare(result, dataset, p.First, p.Second, int.MaxValue);
            int better = all.Count(d => d.Delta > 1e-9), worse = all.Count(d => d.Delta < -1e-9);
            md.Append(inv, $"\n## {p.Second} against {p.First}, per query\n\n");
            md.Append(inv, $"{p.Second} is better on {better} queries, worse on {worse}, equal on {all.Count - better - worse}.\n\n");
            md.Append(inv, $"![per-query nDCG@10 difference]({deltaPlot})\n\n| query | {p.First} | {p.Second} | Δ | text |\n|---|---:|---:|---:|---|\n");
            foreach (var d in all.Take(10))
            {
                md.Append(inv, $"| {d.QueryId} | {d.First:F3} | {d.Second:F3} | {d.Delta:+0.000;-0.000} | {Escape(d.Query)} |\n");
            }
        }
        var path = Path.Combine(directory, name + ".md");
        File.WriteAllText(path, md.ToString());
        return path;
    }

    /// <summary>A fusion setting in one line: <c>rrf k=60 w=1:0.2 depth=100</c>.</summary>
    public static string Describe(FusionOptions f) =>
        string.Create(CultureInfo.InvariantCulture, $"{(f.Method == FusionMethod.Rrf ? $"rrf k={f.K:0.##}" : "convex")} weights lexical {f.LexicalWeight:0.##} : dense {f.DenseWeight:0.##}{SpaceWeights(f)}, depth {(f.Depth is { } d ? d.ToString(CultureInfo.InvariantCulture) : "auto")}");

    private static string SpaceWeights(FusionOptions f) =>
        f.SpaceWeights is { Count: > 0 } w
            ? " (" + string.Join(", ", w.OrderBy(e => e.Key, StringComparer.OrdinalIgnoreCase).Select(e => string.Create(CultureInfo.InvariantCulture, $"{e.Key} {e.Value:0.##}"))) + ")"
            : "";

    private static string Escape(string text)
    {
        var t = text.Replace("|", "\\|", StringComparison.Ordinal).Replace('\n', ' ');
        return t.Length > 90 ? t[..90] + "…" : t;
    }

    private static void PlotModes(EvaluationResult result, string path)
    {
        var plot = new ScottPlot.Plot();
        var names = result.Results.Keys.ToList();
        var bars = names.Select((n, i) => new ScottPlot.Bar { Position = i, Value = result.Results[n].Ndcg10, Label = result.Results[n].Ndcg10.ToString("F3", CultureInfo.InvariantCulture) }).ToList();
        var series = plot.Add.Bars(bars);
        series.ValueLabelStyle.FontSize = 14;
        plot.Axes.Bottom.SetTicks(Enumerable.Range(0, names.Count).Select(i => (double)i).ToArray(), names.ToArray());
        plot.Axes.Margins(bottom: 0, top: 0.15);
        plot.Title($"{result.Dataset}: nDCG@10 ({result.Split}, {result.Queries} queries, {result.Model ?? "no model"})");
        plot.YLabel("nDCG@10");
        plot.SavePng(path, 720, 420);
    }

    private static void PlotDeltas(EvaluationResult result, string first, string second, string path)
    {
        var a = result.PerQueryNdcg[first];
        var b = result.PerQueryNdcg[second];
        var deltas = a.Keys.Select(q => b.GetValueOrDefault(q) - a[q]).OrderByDescending(d => d).ToArray();
        var plot = new ScottPlot.Plot();
        var bars = deltas.Select((d, i) => new ScottPlot.Bar
        {
            Position = i,
            Value = d,
            FillColor = d >= 0 ? ScottPlot.Colors.SeaGreen : ScottPlot.Colors.IndianRed,
            LineWidth = 0,
        }).ToList();
        plot.Add.Bars(bars);
        plot.Title($"{result.Dataset}: nDCG@10 of {second} minus {first}, per query (sorted)");
        plot.YLabel("Δ nDCG@10");
        plot.XLabel("queries");
        plot.SavePng(path, 720, 420);
    }
}
