// Entry point: "compare ..." runs the side-by-side comparison driven by tests/benchmarks/hnsw/compare.sh and prints
// one JSON document; "open [n] [dims]" times opening a saved index; "codec <passages> <queries>" measures int8 codes on real embeddings; anything else is handed to BenchmarkDotNet (e.g. "--filter *Dot*").
using BenchmarkDotNet.Running;
using SemanticSearch.VectorIndex.Benchmarks;

if (args.Length > 0 && args[0] == "compare") return CompareRun.Run(args[1..]);
if (args.Length > 0 && args[0] == "open") return OpenRun.Run(args[1..]);
if (args.Length > 0 && args[0] == "codec") return CodecRun.Run(args[1..]);
BenchmarkSwitcher.FromAssembly(typeof(CompareRun).Assembly).Run(args);
return 0;
