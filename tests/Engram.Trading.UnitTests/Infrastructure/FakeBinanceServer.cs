using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Engram.Trading.UnitTests.Infrastructure;

/// <summary>
/// A real HTTP server on 127.0.0.1 (random port) that answers like Binance's public REST API, replaying the
/// recorded bodies in shared/data/binance-api and building klines from the candle CSVs. <see cref="Fault"/>
/// lets a test fail chosen attempts; <see cref="Requests"/> counts what arrived, so retries can be asserted.
/// </summary>
public sealed class FakeBinanceServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, int> _requests = new(StringComparer.Ordinal);

    private FakeBinanceServer(WebApplication app)
    {
        _app = app;
    }

    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>
    /// Called before the normal answer with the request and its attempt number for that path (1-based);
    /// return true when it wrote the response itself.
    /// </summary>
    public Func<HttpContext, int, Task<bool>>? Fault { get; set; }

    /// <summary>Requests received per path (e.g. "/api/v3/klines").</summary>
    public int Requests(string path) => _requests.GetValueOrDefault(path);

    public int TotalRequests => _requests.Values.Sum();

    public static async Task<FakeBinanceServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var server = new FakeBinanceServer(app);
        app.Run(server.HandleAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server.BaseAddress = new Uri(address);
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task HandleAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "";
        var attempt = _requests.AddOrUpdate(path, 1, (_, n) => n + 1);
        if (Fault is { } fault && await fault(context, attempt))
        {
            return;
        }

        var q = context.Request.Query;
        switch (path)
        {
            case "/api/v3/exchangeInfo":
                await SendFileAsync(context, "recorded_exchangeInfo_slice_2023-08-13.json");
                break;
            case "/api/v3/ticker/24hr" when q["symbol"] == "BTCUSDT":
                await SendFileAsync(context, "recorded_ticker_24hr_BTCUSDT_2021-12-17.json");
                break;
            case "/api/v3/ticker/price":
                var prices = JsonDocument.Parse(File.ReadAllText(SharedData.File("binance-api/recorded_ticker_price_all_2018-01.json"))).RootElement;
                if (q.TryGetValue("symbols", out var list))
                {
                    // Binance: every symbol must be listed, or the whole request fails with -1121.
                    var wanted = JsonSerializer.Deserialize<string[]>(list.ToString()) ?? [];
                    var found = prices.EnumerateArray().Where(p => wanted.Contains(p.GetProperty("symbol").GetString())).ToList();
                    if (found.Count < wanted.Distinct().Count())
                        await InvalidSymbolAsync(context);
                    else
                        await SendAsync(context, 200, "[" + string.Join(",", found.Select(p => p.GetRawText())) + "]");
                    break;
                }

                if (!q.ContainsKey("symbol"))
                {
                    await SendAsync(context, 200, prices.GetRawText());
                    break;
                }

                var match = prices.EnumerateArray().FirstOrDefault(p => p.GetProperty("symbol").GetString() == q["symbol"]);
                if (match.ValueKind == JsonValueKind.Undefined)
                {
                    await InvalidSymbolAsync(context);
                }
                else
                {
                    await SendAsync(context, 200, match.GetRawText());
                }

                break;
            case "/api/v3/klines":
                await KlinesAsync(context);
                break;
            default:
                await InvalidSymbolAsync(context);
                break;
        }
    }

    private static async Task KlinesAsync(HttpContext context)
    {
        var q = context.Request.Query;
        var file = SharedData.File($"binance_{q["symbol"]}_{q["interval"]}.csv");
        if (!File.Exists(file))
        {
            await InvalidSymbolAsync(context);
            return;
        }

        var candles = SharedData.Candles(Path.GetFileName(file));
        var limit = int.Parse(q["limit"].ToString(), CultureInfo.InvariantCulture);
        var end = q.TryGetValue("endTime", out var e) ? long.Parse(e.ToString(), CultureInfo.InvariantCulture) : long.MaxValue;
        var durationMs = (long)Engram.Trading.MarketData.Timeframe.Parse(q["interval"]).Duration.TotalMilliseconds;
        var upTo = candles.Count(c => c.OpenTimeMs <= end);
        var from = Math.Max(0, upTo - limit);

        // Binance's 12-field layout; decimals as strings.
        var sb = new StringBuilder("[");
        for (var i = from; i < upTo; i++)
        {
            var c = candles[i];
            sb.Append(i == from ? "" : ",").Append(CultureInfo.InvariantCulture,
                $"[{c.OpenTimeMs},\"{c.Open:R}\",\"{c.High:R}\",\"{c.Low:R}\",\"{c.Close:R}\",\"{c.Volume:R}\",{c.OpenTimeMs + durationMs - 1},\"0\",0,\"0\",\"0\",\"0\"]");
        }

        await SendAsync(context, 200, sb.Append(']').ToString());
    }

    public static Task InvalidSymbolAsync(HttpContext context) =>
        SendAsync(context, 400, File.ReadAllText(SharedData.File("binance-api/doc_error_-1121_invalid_symbol.json")));

    public static async Task SendAsync(HttpContext context, int status, string body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(body);
    }

    private static Task SendFileAsync(HttpContext context, string name) =>
        SendAsync(context, 200, File.ReadAllText(SharedData.File(Path.Combine("binance-api", name))));
}
