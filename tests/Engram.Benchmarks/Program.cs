using BenchmarkDotNet.Running;
using Engram.Benchmarks.Alerts;
using Engram.Benchmarks.Conversation;
using Engram.Benchmarks.Ingress;

// dotnet run -c Release --project tests/Engram.Benchmarks -- --filter '*' [--job short]
// Every benchmark class in this assembly; pick with --filter, e.g. --filter '*Confidence*' --job short.
// Timed load drivers (not BenchmarkDotNet): `-- webhook [...]` (Ingress/), `-- conversation [...]` (Conversation/)
// `-- alerts [...]` and `-- storm [...]` (Alerts/), `-- digests [...]` (Digests/) and `-- signals [...]` (Conversation/).
if (args is ["webhook", .. var webhookArgs])
    return await WebhookLoadDriver.RunAsync(webhookArgs);
if (args is ["conversation", .. var conversationArgs])
    return await ConversationDriver.RunAsync(conversationArgs);
if (args is ["alerts", .. var alertArgs])
    return await AlertLatencyDriver.RunAsync(alertArgs);
if (args is ["digests", .. var digestArgs])
    return await Engram.Benchmarks.Digests.DigestSpreadDriver.RunAsync(digestArgs);
if (args is ["storm", .. var stormArgs])
    return await AlertStormDriver.RunAsync(stormArgs);
if (args is ["signals", .. var signalArgs])
    return await SignalRecordDriver.RunAsync(signalArgs);
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
