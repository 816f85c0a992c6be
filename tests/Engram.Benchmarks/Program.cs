using BenchmarkDotNet.Running;

// dotnet run -c Release --project tests/Engram.Benchmarks -- --filter '*' [--job short]
// Every benchmark class in this assembly; pick with --filter, e.g. --filter '*Confidence*' --job short.
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
