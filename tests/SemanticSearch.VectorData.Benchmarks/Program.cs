// Runs the provider-overhead benchmarks: dotnet run -c Release -- --filter '*' [--job short]
using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(SemanticSearch.VectorData.Benchmarks.ProviderOverheadBenchmarks).Assembly).Run(args);
