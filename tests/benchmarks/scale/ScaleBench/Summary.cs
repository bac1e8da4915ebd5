using System.Text.Json.Nodes;

namespace ScaleBench;

/// <summary>The one table run.sh prints: each measure beside the issue's target at 1M chunks.</summary>
internal static class Summary
{
    public static void Print(JsonObject r)
    {
        string V(string path)
        {
            JsonNode? node = r;
            foreach (var part in path.Split('.'))
            {
                node = node is JsonObject o && o.TryGetPropertyValue(part, out var next) ? next : null;
            }
            return node?.ToString() ?? "—";
        }
        var rows = new List<(string Measure, string Value, string Target)>
        {
            ("documents / vectors", $"{V("index.documents")} / {V("index.vectors")} ({V("index.dims")}-d, M {V("index.m")}, ef {V("index.ef_search")})", ""),
            ("bulk import, wall", $"{V("import.wall_seconds")} s (max RSS {V("import.max_rss_mib")} MiB)", "< 1800 s at 1M"),
            ("import of 1,000 more, wall", $"{V("commit_1000.wall_seconds")} s (max RSS {V("commit_1000.max_rss_mib")} MiB)", ""),
            ("  its commit alone", $"{Commit(r)} s", "< 2 s at 1M"),
            ("open, until a first query ran", $"{V("open.until_first_query_seconds")} s (open {V("open.open_seconds")} s, model {V("open.model_load_seconds")} s)", "< 10 s"),
            ("search RSS (VmRSS / VmHWM)", $"{V("memory.rss_mib")} / {V("memory.hwm_mib")} MiB", "< 3 GiB"),
            ("  anonymous / file pages / managed heap", $"{V("memory.rss_anon_mib")} / {V("memory.rss_file_mib")} / {V("memory.managed_heap_mib")} MiB", ""),
            ("disk", $"{V("disk.total_mib")} MiB = {V("disk.ratio_to_live")}× live {V("disk.live_data_mib")} MiB", "≤ 1.3×"),
            ("  vectors / lexical / metadata / other", $"{V("disk.vector_files_mib")} / {V("disk.lexical_mib")} / {V("disk.metadata_mib")} / {V("disk.other_mib")} MiB", ""),
            ("dense recall@10 vs brute force", $"{V("recall.dense_recall_at_10")} (worst query {V("recall.worst_query")}, {V("recall.queries")} queries)", "≥ 0.95"),
            ("  the graph file alone, ef 64/256/512/1024", $"{V("graph_recall_by_ef.64.recall_at_10")} / {V("graph_recall_by_ef.256.recall_at_10")} / {V("graph_recall_by_ef.512.recall_at_10")} / {V("graph_recall_by_ef.1024.recall_at_10")}", ""),
            ("  the same, float walk", $"{V("graph_recall_by_ef_float_walk.64.recall_at_10")} / {V("graph_recall_by_ef_float_walk.256.recall_at_10")} / {V("graph_recall_by_ef_float_walk.512.recall_at_10")} / {V("graph_recall_by_ef_float_walk.1024.recall_at_10")}", ""),
            ("lexical p50 / p99", $"{V("latency_ms.lexical.p50")} / {V("latency_ms.lexical.p99")} ms", ""),
            ("dense p50 / p99", $"{V("latency_ms.dense.p50")} / {V("latency_ms.dense.p99")} ms", ""),
            ("hybrid p50 / p99 (given vector)", $"{V("latency_ms.hybrid.p50")} / {V("latency_ms.hybrid.p99")} ms", "< 25 / < 100 ms"),
            ("BM25 depth 100: MaxScore / Lucene BooleanScorer p50", $"{V("bm25_kernel.maxscore_ms.p50")} / {V("bm25_kernel.lucene_boolean_scorer_ms.p50")} ms (mean ×{V("bm25_kernel.speedup_mean")}, {V("bm25_kernel.maxscore_ms.allocated_kib_per_query")} / {V("bm25_kernel.lucene_boolean_scorer_ms.allocated_kib_per_query")} KiB a query, {V("bm25_kernel.segments")} segments)", $"results differ: {V("bm25_kernel.results_differ")}"),
            ("query embedding p50 / p99", $"{V("latency_ms.encode_query.p50")} / {V("latency_ms.encode_query.p99")} ms", "(not in hybrid)"),
        };
        var w0 = rows.Max(x => x.Measure.Length);
        var w1 = rows.Max(x => x.Value.Length);
        foreach (var (measure, value, target) in rows)
        {
            Console.WriteLine($"{measure.PadRight(w0)}  {value.PadRight(w1)}  {target}");
        }
    }

    // The importer's own report of its commit time, under whichever name it gives it.
    private static string Commit(JsonObject r)
    {
        if (r["commit_1000"]?["output"] is not JsonObject output)
        {
            return "—";
        }
        if (output["commitSeconds"] is JsonValue total && output["longestCommitSeconds"] is JsonValue longest)
        {
            return $"{longest} (longest of {output["commits"]}; {total} in all)";
        }
        foreach (var name in new[] { "last_commit_seconds", "commitSeconds", "commit_seconds", "lastCommitSeconds" })
        {
            if (output[name] is JsonValue v)
            {
                return v.ToString();
            }
        }
        foreach (var (name, value) in output)
        {
            if (name.Contains("commit", StringComparison.OrdinalIgnoreCase) && value is JsonValue v)
            {
                return $"{v} ({name})";
            }
        }
        return "—";
    }
}
