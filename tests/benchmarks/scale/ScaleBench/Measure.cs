// Measures an imported index the way a search process meets it. In order, so that the brute force's own memory is
// not counted as the index's:
//   1. open read-only through the engine (with its recorded model, from the model cache) and time it, and the first
//      query, which loads what a first query loads (open time = until a first query has run);
//   2. single client: lexical (query text), dense (the query's given vector), hybrid (text + given vector, so no
//      encoder runs: the query embedding is timed on its own, as `encode`), each after a warm-up, p50/p99;
//   3. the process's VmRSS and VmHWM (/proc/self/status) after the query run;
//   4. dense recall@10: the documents' vectors read back from the JSONL files, normalised, and an exact top 10 by dot
//      product for each query (blocked over documents, parallel, TensorPrimitives) — the independent reference;
//   5. disk use by store, against the live data: raw vectors (count × dims × 4) + HNSW links (2M per node on layer 0,
//      M on each upper level, 1/(M−1) upper levels per node expected) + lexical/ + metadata.db as they are.
using System.Diagnostics;
using System.Globalization;
using System.Numerics.Tensors;
using System.Text.Json;
using System.Text.Json.Nodes;
using SemanticSearch.Core.Encoding;
using SemanticSearch.Engine;
using SemanticSearch.Engine.Models;
using SemanticSearch.Engine.Search;

namespace ScaleBench;

internal static class Measure
{
    private const int K = 10;

    public static int Run(Args args)
    {
        var directory = args.Get("index-dir");
        var docFiles = args.Get("docs").Split(',', StringSplitOptions.RemoveEmptyEntries);
        var queries = ImportLine.ReadAll(args.Get("queries")).ToList();
        var warmup = args.Int("warmup", 30);
        var result = new JsonObject();

        // 1. open
        var resolver = new ModelResolver();
        var modelSeconds = 0.0;
        GC.Collect();
        var clock = Stopwatch.StartNew();
        var index = SemanticIndex.OpenReadOnly(directory, info =>
        {
            var model = Stopwatch.StartNew();
            var encoder = resolver.OpenRecorded(info) ?? throw new InvalidOperationException($"model {info.ModelId} is not in the model cache");
            modelSeconds += model.Elapsed.TotalSeconds;
            return encoder;
        });
        var openSeconds = clock.Elapsed.TotalSeconds;
        var searcher = new Searcher(index);
        searcher.Search(Hybrid(queries[0]));
        var firstQuerySeconds = clock.Elapsed.TotalSeconds;
        var manifest = index.Manifest;
        var hnsw = manifest.Vectors ?? new SemanticSearch.VectorIndex.HnswParameters();
        var dims = manifest.Model?.Dimensions ?? throw new InvalidOperationException($"{directory} has no vector space");
        result["index"] = new JsonObject
        {
            ["directory"] = directory,
            ["documents"] = manifest.Counts.Documents,
            ["chunks"] = manifest.Counts.Chunks,
            ["vectors"] = manifest.Counts.Vectors,
            ["model"] = manifest.Model!.ModelId,
            ["dims"] = dims,
            ["m"] = hnsw.M,
            ["ef_construction"] = hnsw.EfConstruction,
            ["ef_search"] = hnsw.EfSearch,
        };
        result["open"] = new JsonObject
        {
            ["open_seconds"] = Round(openSeconds),
            ["model_load_seconds"] = Round(modelSeconds),
            ["until_first_query_seconds"] = Round(firstQuerySeconds),
            ["first_query_ms"] = Round((firstQuerySeconds - openSeconds) * 1000),
        };

        // 2. latency, one mode after another, single client
        var latency = new JsonObject();
        var denseHits = new List<string>[queries.Count];
        latency["lexical"] = Time(queries, warmup, (q, _) => searcher.Search(Lexical(q)));
        latency["dense"] = Time(queries, warmup, (q, i) =>
        {
            var response = searcher.Search(Dense(q));
            if (i >= 0)
            {
                denseHits[i] = response.Hits.Select(h => h.DocId).ToList();
            }
        });
        latency["hybrid"] = Time(queries, warmup, (q, _) => searcher.Search(Hybrid(q)));
        var encoder = index.Encoder!;
        var buffer = new float[dims];
        latency["encode_query"] = Time(queries, warmup, (q, _) => encoder.Encode([q.Text], TextRole.Query, buffer));
        result["latency_ms"] = latency;

        // 3. memory of the search process
        var status = File.ReadAllLines("/proc/self/status");
        long Kb(string key) => long.Parse(status.First(l => l.StartsWith(key + ":", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
        result["memory"] = new JsonObject
        {
            ["rss_mib"] = Round(Kb("VmRSS") / 1024.0),
            ["hwm_mib"] = Round(Kb("VmHWM") / 1024.0),
            // anonymous (heaps, native buffers) apart from file pages (the mapped vector, log and Lucene files)
            ["rss_anon_mib"] = Round(Kb("RssAnon") / 1024.0),
            ["rss_file_mib"] = Round(Kb("RssFile") / 1024.0),
            ["managed_heap_mib"] = Round(GC.GetTotalMemory(false) / 1048576.0),
        };
        var lexicalOptions = manifest.Lexical;
        index.Dispose();

        // 3b. the BM25 document ranking alone, as the engine runs it (MaxScore) and as Lucene's BooleanScorer runs the
        // same BooleanQuery on the same reader: equal results, and each one's time and allocation
        result["bm25_kernel"] = Bm25Kernel(Path.Combine(directory, "lexical"), lexicalOptions, queries, warmup);

        // 4. recall against brute force
        clock.Restart();
        var (ids, vectors, textBytes) = ReadVectors(docFiles, dims);
        var exact = BruteForce(vectors, dims, queries.Select(q => Normalised(q.Vector!)).ToArray());
        var recall = 0.0;
        var worst = 1.0;
        for (var i = 0; i < queries.Count; i++)
        {
            var truth = exact[i].Select(j => ids[j]).ToHashSet(StringComparer.Ordinal);
            var r = denseHits[i].Take(K).Count(truth.Contains) / (double)K;
            recall += r;
            if (Environment.GetEnvironmentVariable("SCALE_DEBUG") == "1" && r < 0.6)
            {
                var qv = Normalised(queries[i].Vector!);
                var byId = ids.Select((id, j) => (id, j)).ToDictionary(p => p.id, p => p.j);
                Console.Error.WriteLine($"query {i}: engine " + string.Join(' ', denseHits[i].Select(h => $"{h}:{TensorPrimitives.Dot<float>(vectors[byId[h]], qv):F4}")));
                Console.Error.WriteLine($"query {i}: exact  " + string.Join(' ', exact[i].Select(j => $"{ids[j]}:{TensorPrimitives.Dot<float>(vectors[j], qv):F4}")));
            }
            worst = Math.Min(worst, r);
        }
        result["recall"] = new JsonObject
        {
            ["dense_recall_at_10"] = Math.Round(recall / queries.Count, 4),
            ["worst_query"] = worst,
            ["queries"] = queries.Count,
            ["brute_force_documents"] = ids.Count,
            ["brute_force_seconds"] = Round(clock.Elapsed.TotalSeconds),
        };

        // 4b. the engine's own graph file searched directly at several ef: does recall converge as ef grows (a sound
        // graph on hard data) or stall (a graph that lost neighbours)? Hits are compared by score with the exact
        // 10th score, since the file knows chunk ids, not document ids.
        var byEf = new JsonObject();
        var byEfFloat = new JsonObject();
        foreach (var (codec, into) in new[] { (SemanticSearch.VectorIndex.VectorCodec.Int8, byEf), (SemanticSearch.VectorIndex.VectorCodec.Float32, byEfFloat) })
        if (manifest.Spaces[0].VectorFile is { } vectorFile)
        {
            var space = manifest.Spaces[0];
            var graph = SemanticSearch.VectorIndex.HnswIndex.Open(Path.Combine(directory, vectorFile),
                space.VectorLogLength > 0 ? Path.Combine(directory, Path.ChangeExtension(vectorFile, ".hlog")) : null, space.VectorLogLength, codec);
            var normalised = queries.Select(q => Normalised(q.Vector!)).ToArray();
            var tenth = exact.Select((e, i) => TensorPrimitives.Dot<float>(vectors[e[^1]], normalised[i])).ToArray();
            foreach (var ef in new[] { 16, 32, 64, 128, 256, 512, 1024 })
            {
                var found = 0;
                var timer = Stopwatch.StartNew();
                for (var i = 0; i < normalised.Length; i++)
                {
                    found += graph.Search(normalised[i], K, ef).Count(h => h.Score >= tenth[i] - 1e-5f);
                }
                into[ef.ToString(CultureInfo.InvariantCulture)] = new JsonObject
                {
                    ["recall_at_10"] = Math.Round(Math.Min(1.0, found / (double)(K * normalised.Length)), 4),
                    ["mean_ms"] = Round(timer.Elapsed.TotalMilliseconds / normalised.Length),
                };
            }
        }
        result["graph_recall_by_ef"] = byEf;
        result["graph_recall_by_ef_float_walk"] = byEfFloat;
        if (args.Find("export") is { } export)
        {
            // the same vectors, queries and exact neighbours for tests/benchmarks/hnsw/hnswlib_native.cpp (rows, cols, data)
            Directory.CreateDirectory(export);
            WriteBin(Path.Combine(export, "base.bin"), vectors, dims);
            WriteBin(Path.Combine(export, "queries.bin"), queries.Select(q => Normalised(q.Vector!)).ToList(), dims);
            using var truth = new BinaryWriter(File.Create(Path.Combine(export, "truth.bin")));
            truth.Write(exact.Length);
            truth.Write(K);
            foreach (var e in exact)
            {
                foreach (var j in e)
                {
                    truth.Write(j);
                }
            }
        }

        // 5. disk
        result["disk"] = Disk(directory, (long)ids.Count, dims, hnsw.M, textBytes);

        foreach (var (name, file) in new[] { ("import", "import-report"), ("commit_1000", "commit-report") })
        {
            if (args.Find(file) is { } path && File.Exists(path))
            {
                result[name] = Report(path, args.Find(name + "-time"));
            }
        }
        result["machine"] = $"{Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}";
        result["date_utc"] = DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture);
        File.WriteAllText(args.Get("out"), result.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        Summary.Print(result);
        return 0;
    }

    public static int RunBm25Kernel(Args args)
    {
        var directory = args.Get("index-dir");
        var queries = ImportLine.ReadAll(args.Get("queries")).ToList();
        var options = IndexManifestOptions(directory);
        Console.WriteLine(Bm25Kernel(Path.Combine(directory, "lexical"), options, queries, args.Int("warmup", 30)).ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        return 0;
    }

    private static SemanticSearch.Lexical.LexicalOptions IndexManifestOptions(string directory)
    {
        var resolver = new ModelResolver();
        using var index = SemanticIndex.OpenReadOnly(directory, info => resolver.OpenRecorded(info) ?? throw new InvalidOperationException($"model {info.ModelId} is not in the model cache"));
        return index.Manifest.Lexical;
    }

    private const int FusionDepth = 100; // what a hybrid query for 10 hits asks of each side

    private static JsonObject Bm25Kernel(string lexicalDirectory, SemanticSearch.Lexical.LexicalOptions options, List<ImportLine> queries, int warmup)
    {
        using var directory = Lucene.Net.Store.FSDirectory.Open(lexicalDirectory);
        using var reader = Lucene.Net.Index.DirectoryReader.Open(directory);
        var searcher = new Lucene.Net.Search.IndexSearcher(reader) { Similarity = new SemanticSearch.Lexical.FieldBM25Similarity(options.K1, options.B) };
        using var analyzer = new Lucene.Net.Analysis.En.EnglishAnalyzer(Lucene.Net.Util.LuceneVersion.LUCENE_48);
        var parsed = queries.Select(q =>
        {
            // the bag of words as the engine builds it: distinct terms in first-seen order, each boosted by its count
            var words = SemanticSearch.Lexical.LexicalIndex.AnalyzeWith(analyzer, q.Text);
            var terms = words.Distinct(StringComparer.Ordinal)
                .Select(w => (new Lucene.Net.Index.Term(SemanticSearch.Lexical.LexicalIndex.DocumentField, w), (float)words.Count(x => x == w))).ToArray();
            var bq = new Lucene.Net.Search.BooleanQuery();
            foreach (var (term, boost) in terms)
            {
                bq.Add(new Lucene.Net.Search.TermQuery(term) { Boost = boost }, Lucene.Net.Search.Occur.SHOULD);
            }
            return (Terms: terms, Query: bq);
        }).Where(p => p.Terms.Length > 0).ToList();
        Lucene.Net.Search.ScoreDoc[] ByLucene(int i) => searcher.Search(parsed[i].Query, FusionDepth).ScoreDocs;
        Lucene.Net.Search.ScoreDoc[] ByMaxScore(int i) => SemanticSearch.Lexical.MaxScoreSearch.Search(searcher, SemanticSearch.Lexical.LexicalIndex.DocumentField, parsed[i].Terms, FusionDepth)!;
        var differ = 0;
        for (var i = 0; i < parsed.Count; i++)
        {
            var a = ByLucene(i);
            var b = ByMaxScore(i);
            if (a.Length != b.Length || a.Zip(b).Any(p => p.First.Doc != p.Second.Doc || p.First.Score != p.Second.Score))
            {
                differ++;
            }
        }
        JsonObject Timed(Func<int, Lucene.Net.Search.ScoreDoc[]> run)
        {
            for (var i = 0; i < warmup; i++)
            {
                run(i % parsed.Count);
            }
            var times = new double[parsed.Count];
            var collections = GC.CollectionCount(0);
            var allocated = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < parsed.Count; i++)
            {
                var clock = Stopwatch.StartNew();
                run(i);
                times[i] = clock.Elapsed.TotalMilliseconds;
            }
            var perQuery = (GC.GetAllocatedBytesForCurrentThread() - allocated) / (double)parsed.Count;
            var gen0 = GC.CollectionCount(0) - collections;
            Array.Sort(times);
            double P(double p) => times[(int)Math.Min(times.Length - 1, Math.Ceiling(p * times.Length) - 1)];
            return new JsonObject
            {
                ["p50"] = Round(P(0.5)), ["p99"] = Round(P(0.99)), ["mean"] = Round(times.Average()),
                ["allocated_kib_per_query"] = Round(perQuery / 1024), ["gen0_collections"] = gen0,
            };
        }
        var lucene = Timed(ByLucene);
        var maxScore = Timed(ByMaxScore);
        return new JsonObject
        {
            ["queries"] = parsed.Count,
            ["depth"] = FusionDepth,
            ["segments"] = reader.Leaves.Count,
            ["results_differ"] = differ,
            ["lucene_boolean_scorer_ms"] = lucene,
            ["maxscore_ms"] = maxScore,
            ["speedup_mean"] = Round((double)lucene["mean"]! / (double)maxScore["mean"]!),
        };
    }

    private static SearchRequest Lexical(ImportLine q) => new(q.Text, K, Mode: SearchMode.Lexical);

    // duplicates are not collapsed, so each hit is the document the brute force may name
    private static SearchRequest Dense(ImportLine q) => new(string.Empty, K, Mode: SearchMode.Dense) { QueryVector = q.Vector, CollapseDuplicates = false };

    private static SearchRequest Hybrid(ImportLine q) => new(q.Text, K, Mode: SearchMode.Hybrid) { QueryVector = q.Vector };

    // The warm-up runs the first queries (index -1), then every query is timed once, in file order.
    private static JsonObject Time(List<ImportLine> queries, int warmup, Action<ImportLine, int> run)
    {
        for (var i = 0; i < warmup; i++)
        {
            run(queries[i % queries.Count], -1);
        }
        var times = new double[queries.Count];
        for (var i = 0; i < queries.Count; i++)
        {
            var clock = Stopwatch.StartNew();
            run(queries[i], i);
            times[i] = clock.Elapsed.TotalMilliseconds;
        }
        Array.Sort(times);
        double P(double p) => times[(int)Math.Min(times.Length - 1, Math.Ceiling(p * times.Length) - 1)];
        return new JsonObject { ["p50"] = Round(P(0.5)), ["p99"] = Round(P(0.99)), ["mean"] = Round(times.Average()), ["max"] = Round(times[^1]) };
    }

    private static (List<string> Ids, List<float[]> Vectors, long TextBytes) ReadVectors(string[] files, int dims)
    {
        var ids = new List<string>();
        var vectors = new List<float[]>();
        long textBytes = 0;
        foreach (var file in files)
        {
            foreach (var line in ImportLine.ReadAll(file))
            {
                var v = line.Vector ?? throw new InvalidOperationException($"{file}: document {line.Id} has no vector");
                if (v.Length != dims)
                {
                    throw new InvalidOperationException($"{file}: document {line.Id} has {v.Length} dimensions, the index {dims}");
                }
                ids.Add(line.Id);
                vectors.Add(Normalised(v));
                textBytes += System.Text.Encoding.UTF8.GetByteCount(line.Title) + 1 + System.Text.Encoding.UTF8.GetByteCount(line.Text);
            }
        }
        return (ids, vectors, textBytes);
    }

    private static void WriteBin(string path, List<float[]> rows, int dims)
    {
        using var w = new BinaryWriter(File.Create(path));
        w.Write(rows.Count);
        w.Write(dims);
        foreach (var row in rows)
        {
            foreach (var x in row)
            {
                w.Write(x);
            }
        }
    }

    private static float[] Normalised(float[] v)
    {
        var copy = (float[])v.Clone();
        TensorPrimitives.Divide(copy, TensorPrimitives.Norm(copy), copy);
        return copy;
    }

    // Exact top K by dot product for every query: blocks of documents in parallel, each block against every query
    // (the queries stay in cache while the documents stream past once), per-thread top lists merged at the end.
    internal static int[][] BruteForce(List<float[]> vectors, int dims, float[][] queries)
    {
        var merged = queries.Select(_ => new TopK(K)).ToArray();
        var gate = new object();
        const int Block = 512;
        var blocks = (vectors.Count + Block - 1) / Block;
        Parallel.For(0, blocks, () => queries.Select(_ => new TopK(K)).ToArray(), (b, _, local) =>
        {
            var end = Math.Min(vectors.Count, (b + 1) * Block);
            for (var d = b * Block; d < end; d++)
            {
                var doc = vectors[d];
                for (var q = 0; q < queries.Length; q++)
                {
                    local[q].Offer(TensorPrimitives.Dot<float>(doc, queries[q]), d);
                }
            }
            return local;
        }, local =>
        {
            lock (gate)
            {
                for (var q = 0; q < queries.Length; q++)
                {
                    merged[q].Merge(local[q]);
                }
            }
        });
        return merged.Select(t => t.Indices()).ToArray();
    }

    private static JsonObject Disk(string directory, long vectorCount, int dims, int m, long textBytes)
    {
        long vectors = 0, lexical = 0, metadata = 0, other = 0;
        foreach (var file in new DirectoryInfo(directory).EnumerateFiles("*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(directory, file.FullName);
            if (relative.StartsWith("lexical", StringComparison.Ordinal))
            {
                lexical += file.Length;
            }
            else if (file.Name.StartsWith("metadata", StringComparison.Ordinal))
            {
                metadata += file.Length;
            }
            else if (file.Name.EndsWith(".hnsw", StringComparison.Ordinal) || file.Name.EndsWith(".hlog", StringComparison.Ordinal))
            {
                vectors += file.Length;
            }
            else
            {
                other += file.Length;
            }
        }
        var raw = vectorCount * dims * 4L;
        var links = (long)(vectorCount * 4.0 * (2 * m + m / (m - 1.0)));
        var live = raw + links + lexical + metadata;
        var total = vectors + lexical + metadata + other;
        return new JsonObject
        {
            ["total_mib"] = Mib(total),
            ["vector_files_mib"] = Mib(vectors),
            ["lexical_mib"] = Mib(lexical),
            ["metadata_mib"] = Mib(metadata),
            ["other_mib"] = Mib(other),
            ["raw_vectors_mib"] = Mib(raw),
            ["graph_links_estimate_mib"] = Mib(links),
            ["live_data_mib"] = Mib(live),
            ["ratio_to_live"] = Math.Round((double)total / live, 3),
            ["vector_file_ratio_to_raw_plus_links"] = Math.Round((double)vectors / (raw + links), 3),
            ["document_text_mib"] = Mib(textBytes),
        };
    }

    // A run's /usr/bin/time -v file (wall time, max RSS) and the importer's --json summary, whichever are there.
    private static JsonObject Report(string reportPath, string? timePath)
    {
        var report = new JsonObject();
        var text = File.ReadAllText(reportPath).Trim();
        // the whole report (the CLI's --json is indented), else its last line that is an object (the engine's)
        var start = text.IndexOf('{', StringComparison.Ordinal);
        var candidates = new[] { start >= 0 ? text[start..] : null }
            .Concat(text.Split('\n').Reverse().Select(l => l.Trim()).Where(l => l.StartsWith('{')).Take(1));
        foreach (var json in candidates.OfType<string>())
        {
            try
            {
                report["output"] = JsonNode.Parse(json);
                break;
            }
            catch (JsonException)
            {
                report["output"] = text;
            }
        }
        if (timePath is not null && File.Exists(timePath))
        {
            foreach (var line in File.ReadLines(timePath))
            {
                var t = line.Trim();
                if (t.StartsWith("Elapsed (wall clock) time", StringComparison.Ordinal))
                {
                    report["wall_seconds"] = Round(WallSeconds(t[(t.LastIndexOf(": ", StringComparison.Ordinal) + 2)..]));
                }
                else if (t.StartsWith("Maximum resident set size (kbytes):", StringComparison.Ordinal))
                {
                    report["max_rss_mib"] = Round(long.Parse(t.Split(':')[1].Trim(), CultureInfo.InvariantCulture) / 1024.0);
                }
            }
        }
        return report;
    }

    // h:mm:ss or m:ss.ss
    private static double WallSeconds(string clock) =>
        clock.Split(':').Aggregate(0.0, (acc, part) => acc * 60 + double.Parse(part, CultureInfo.InvariantCulture));

    private static double Round(double x) => Math.Round(x, 3);

    private static double Mib(long bytes) => Math.Round(bytes / 1048576.0, 1);

    private sealed class TopK(int k)
    {
        private readonly List<(float Score, int Index)> _items = new(k + 1);

        public void Offer(float score, int index)
        {
            if (_items.Count == k && score <= _items[^1].Score)
            {
                return;
            }
            var at = _items.Count;
            while (at > 0 && _items[at - 1].Score < score)
            {
                at--;
            }
            _items.Insert(at, (score, index));
            if (_items.Count > k)
            {
                _items.RemoveAt(k);
            }
        }

        public void Merge(TopK other)
        {
            foreach (var (score, index) in other._items)
            {
                Offer(score, index);
            }
        }

        public int[] Indices() => _items.Select(i => i.Index).ToArray();
    }
}
