// Engine lexical retrieval against WholeDocumentBm25 on one BEIR folder. The engine side is the TREC run file that
// 'semsearch eval --mode lexical --model none --run-dir' wrote; both runs are scored with the evaluator's trec_eval
// metrics over the same judged queries, and their top 10s are compared query by query.
using System.Globalization;
using SemanticSearch.Evaluation;

namespace SemanticSearch.Reference;

/// <summary>One dataset's comparison.</summary>
/// <param name="Dataset">Folder name.</param>
/// <param name="Queries">Judged queries scored.</param>
/// <param name="EngineNdcg10">Engine lexical nDCG@10.</param>
/// <param name="ReferenceNdcg10">Reference nDCG@10.</param>
/// <param name="EngineRecall100">Engine lexical Recall@100.</param>
/// <param name="ReferenceRecall100">Reference Recall@100.</param>
/// <param name="SameTop10">Queries whose top 10 (in trec_eval order) are the same documents in the same order.</param>
internal sealed record FaithfulnessResult(string Dataset, int Queries, double EngineNdcg10, double ReferenceNdcg10, double EngineRecall100, double ReferenceRecall100, int SameTop10);

internal static class FaithfulnessCheck
{
    /// <summary>Compares the engine's run in <paramref name="engineRunFile"/> with the reference on <paramref name="beirFolder"/>.</summary>
    public static FaithfulnessResult Compare(string beirFolder, string engineRunFile, string split = "test")
    {
        var dataset = BeirDataset.Load(beirFolder, split);
        var engineRuns = ReadTrecRun(engineRunFile);
        var judged = dataset.Qrels.Keys.Where(dataset.Queries.ContainsKey).OrderBy(q => q, StringComparer.Ordinal).ToList();
        using var reference = new WholeDocumentBm25(beirFolder);
        var queries = WholeDocumentBm25.Queries(beirFolder);
        double refNdcg = 0, refRecall = 0, engNdcg = 0, engRecall = 0;
        var same = 0;
        foreach (var qid in judged)
        {
            var rel = dataset.Qrels[qid];
            var refRanked = RetrievalMetrics.Order(reference.Search(queries[qid], 100));
            var engRanked = RetrievalMetrics.Order(engineRuns.TryGetValue(qid, out var run) ? run : []);
            refNdcg += RetrievalMetrics.Ndcg(refRanked, rel, 10);
            refRecall += RetrievalMetrics.Recall(refRanked, rel, 100);
            engNdcg += RetrievalMetrics.Ndcg(engRanked, rel, 10);
            engRecall += RetrievalMetrics.Recall(engRanked, rel, 100);
            if (refRanked.Take(10).SequenceEqual(engRanked.Take(10), StringComparer.Ordinal))
            {
                same++;
            }
        }
        var n = Math.Max(judged.Count, 1);
        return new FaithfulnessResult(dataset.Name, judged.Count, engNdcg / n, refNdcg / n, engRecall / n, refRecall / n, same);
    }

    // "qid Q0 docid rank score tag" lines, by query id.
    private static Dictionary<string, List<(string DocId, double Score)>> ReadTrecRun(string path)
    {
        var runs = new Dictionary<string, List<(string, double)>>(StringComparer.Ordinal);
        foreach (var line in File.ReadLines(path))
        {
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length < 6)
            {
                continue;
            }
            if (!runs.TryGetValue(parts[0], out var list))
            {
                runs[parts[0]] = list = [];
            }
            list.Add((parts[2], double.Parse(parts[4], CultureInfo.InvariantCulture)));
        }
        return runs;
    }
}
