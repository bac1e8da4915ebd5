// The scale benchmark's tool (issue 20), driven by ../run.sh:
//
//   ScaleBench generate --datasets <dir> --out <dir> --n N [--extra 1000] [--queries 300] [--seed 42] [--dims 384]
//       docs.jsonl (N documents), extra.jsonl (the next `extra`), queries.jsonl: SciFact and NFCorpus sentences
//       recombined, each with a deterministic pseudo-vector (PseudoVectors.cs), in the `semsearch import` format
//   ScaleBench import <file.jsonl> --index-dir <dir> [--model arctic-embed-xs] [--batch 256] [--commit-every 100000]
//       the same import through the engine API (SemanticIndex.WriteWithVectors), no embedding; prints a JSON summary
//   ScaleBench measure --index-dir <dir> --docs a.jsonl[,b.jsonl] --queries <q.jsonl> --out <result.json> [...]
//       open time, single-client p50/p99 of lexical, dense and hybrid queries (given query vectors), RSS, disk by
//       store, dense recall@10 against an exact brute force over the documents' vectors; prints the summary table
//   ScaleBench bm25 --index-dir <dir> --queries <q.jsonl> [--warmup 30]
//       only the BM25 kernel comparison of measure (MaxScore against Lucene's BooleanScorer), as JSON, for profiling
using ScaleBench;

if (args.Length == 0)
{
    Console.Error.WriteLine("usage: ScaleBench generate|import|measure ... (see Program.cs)");
    return 2;
}
var parsed = new Args(args[1..]);
return args[0] switch
{
    "generate" => Generator.Run(parsed),
    "import" => EngineImport.Run(parsed),
    "measure" => Measure.Run(parsed),
    "bm25" => Measure.RunBm25Kernel(parsed),
    _ => Usage(args[0]),
};

static int Usage(string command)
{
    Console.Error.WriteLine($"unknown command '{command}': generate, import or measure");
    return 2;
}
