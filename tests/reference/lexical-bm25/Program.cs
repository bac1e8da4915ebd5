// Usage: dotnet run -c Release --project tests/reference/lexical-bm25 -- <beir folder> <engine run file> [<folder> <run>]...
// Prints engine lexical vs whole-document BM25 (WholeDocumentBm25) per dataset as a Markdown table; exit 1 when any
// nDCG@10 differs by more than 0.002. run.sh produces the engine runs with 'semsearch eval' and calls this.
using System.Globalization;
using SemanticSearch.Reference;

if (args.Length == 0 || args.Length % 2 != 0)
{
    Console.Error.WriteLine("usage: LexicalFaithfulness <beir folder> <engine TREC run> [<beir folder> <engine TREC run>]...");
    return 2;
}
Console.WriteLine("| set | queries | engine nDCG@10 | reference nDCG@10 | Δ | engine R@100 | reference R@100 | Δ | same top 10 |");
Console.WriteLine("|---|---|---|---|---|---|---|---|---|");
var ok = true;
for (var i = 0; i < args.Length; i += 2)
{
    var r = FaithfulnessCheck.Compare(args[i], args[i + 1]);
    var dn = r.EngineNdcg10 - r.ReferenceNdcg10;
    var dr = r.EngineRecall100 - r.ReferenceRecall100;
    ok &= Math.Abs(dn) <= 0.002;
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"| {r.Dataset} | {r.Queries} | {r.EngineNdcg10:F4} | {r.ReferenceNdcg10:F4} | {dn:+0.0000;-0.0000;0.0000} | {r.EngineRecall100:F4} | {r.ReferenceRecall100:F4} | {dr:+0.0000;-0.0000;0.0000} | {r.SameTop10}/{r.Queries} |"));
}
return ok ? 0 : 1;
