using System.ComponentModel.DataAnnotations;
using System.Threading.RateLimiting;
using Engram.Abstractions.Alerts;
using Engram.Grains.Market;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Engram.Grains.Alerts;

/// <summary>Section <c>Alerts</c>.</summary>
public sealed class AlertOptions
{
    public const string SectionName = "Alerts";

    /// <summary>How often the REST fallback asks for the prices of the watched symbols the push stream does not carry.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>How far back across the threshold the price must move before a repeating alert re-arms (no flapping).</summary>
    [Range(0, 50)] public decimal RearmBandPercent { get; set; } = 0.1m;

    /// <summary>
    /// Exchange request weight the REST fallback of one silo may spend a minute (Binance allows 6,000 per IP; one
    /// price request for up to 100 symbols weighs 4). Polls past the budget are skipped, not queued.
    /// </summary>
    [Range(4, 6000)] public int FallbackWeightPerMinute { get; set; } = 600;

    /// <summary>How often an indicator watch looks for a new close (the candle cache asks the exchange only when one can have closed).</summary>
    public TimeSpan IndicatorCheckInterval { get; set; } = TimeSpan.FromSeconds(10);
}

/// <summary>Where the price feed gets REST prices: the exchange provider by default, a script in tests.</summary>
public interface IAlertPriceSource
{
    /// <summary>The prices of <paramref name="symbols"/>, asked for together; a symbol without a price is missing.</summary>
    Task<IReadOnlyDictionary<string, decimal>> GetPricesAsync(IReadOnlyCollection<string> symbols, CancellationToken cancellationToken);
}

/// <summary>Straight to the exchange provider, not through the quote cache grains: one request for all symbols.</summary>
public sealed class MarketAlertPriceSource(IExchangeMarketData exchange) : IAlertPriceSource
{
    public async Task<IReadOnlyDictionary<string, decimal>> GetPricesAsync(IReadOnlyCollection<string> symbols, CancellationToken cancellationToken)
    {
        var prices = await exchange.Provider.GetPricesAsync(symbols, cancellationToken);
        return prices.Where(p => double.IsFinite(p.Value) && p.Value > 0).ToDictionary(p => p.Key, p => (decimal)p.Value);
    }
}

/// <summary>Where a price watch activated on this silo asks for its symbol's prices.</summary>
public interface IPriceFeed
{
    void Watch(string symbol);
    void Unwatch(string symbol);
}

/// <summary>
/// This silo's price feed for its price watches: ticks pushed by the <see cref="IPriceStream"/> where it is live, and
/// for every other watched symbol a REST poll every <see cref="AlertOptions.PollInterval"/>, one request for all of them
/// (not one per watch), within <see cref="AlertOptions.FallbackWeightPerMinute"/>. A 429/418 from the exchange pauses
/// every request of the silo (<c>ExchangeCooldown</c>); polls meanwhile fail at once without a request.
/// </summary>
public sealed partial class PriceFeed(
    IGrainFactory grains,
    IAlertPriceSource prices,
    IPriceStream stream,
    IOptions<AlertOptions> options,
    ILogger<PriceFeed> logger) : BackgroundService, IPriceFeed
{
    /// <summary>Binance weighs <c>ticker/price?symbols=</c> at 4 for up to 100 symbols.</summary>
    private const int WeightPerRequest = 4;
    private const int SymbolsPerRequest = 100;

    private readonly Lock gate = new();
    private readonly HashSet<string> watched = new(StringComparer.Ordinal);
    private readonly HashSet<string> delivering = new(StringComparer.Ordinal);
    private readonly TokenBucketRateLimiter weight = new(new TokenBucketRateLimiterOptions
    {
        TokenLimit = options.Value.FallbackWeightPerMinute,
        TokensPerPeriod = options.Value.FallbackWeightPerMinute,
        ReplenishmentPeriod = TimeSpan.FromMinutes(1),
        QueueLimit = 0,
        AutoReplenishment = true,
    });

    private int failedPolls;
    private DateTimeOffset overBudgetLoggedAt = DateTimeOffset.MinValue;

    public void Watch(string symbol)
    {
        stream.Watch(symbol);
        lock (gate)
            watched.Add(symbol);
    }

    public void Unwatch(string symbol)
    {
        stream.Unwatch(symbol);
        lock (gate)
            watched.Remove(symbol);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.PollInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
                await PollAsync(stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task PollAsync(CancellationToken cancellationToken)
    {
        List<string> due;
        lock (gate)
            due = watched.Where(s => !delivering.Contains(s) && !stream.IsLive(s)).ToList();
        if (due.Count == 0)
            return;
        var cost = (due.Count + SymbolsPerRequest - 1) / SymbolsPerRequest * WeightPerRequest;
        using var lease = weight.AttemptAcquire(Math.Min(cost, options.Value.FallbackWeightPerMinute));
        if (!lease.IsAcquired)
        {
            if (DateTimeOffset.UtcNow - overBudgetLoggedAt > TimeSpan.FromMinutes(1))
            {
                overBudgetLoggedAt = DateTimeOffset.UtcNow;
                LogOverBudget(due.Count, options.Value.FallbackWeightPerMinute);
            }
            return;
        }

        IReadOnlyDictionary<string, decimal> quotes;
        try
        {
            quotes = await prices.GetPricesAsync(due, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            if (failedPolls++ == 0)
                LogPollFailed(due.Count, ex.GetType().Name, ex.Message); // once per outage, not once per poll
            return;
        }
        if (failedPolls > 0)
        {
            LogPollRecovered(failedPolls);
            failedPolls = 0;
        }
        var at = DateTimeOffset.UtcNow;
        foreach (var (symbol, price) in quotes)
        {
            lock (gate)
            {
                if (!watched.Contains(symbol) || !delivering.Add(symbol))
                    continue;
            }
            _ = DeliverAsync(symbol, price, at); // a slow watch skips polls; it does not hold up the others
        }
    }

    private async Task DeliverAsync(string symbol, decimal price, DateTimeOffset at)
    {
        try
        {
            await grains.GetGrain<IPriceWatchGrain>(symbol).OnPriceAsync(price, at);
        }
        catch (Exception ex)
        {
            LogDeliveryFailed(symbol, ex.GetType().Name);
        }
        finally
        {
            lock (gate)
                delivering.Remove(symbol);
        }
    }

    public override void Dispose()
    {
        weight.Dispose();
        base.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Prices of {Count} watched symbols unavailable over REST ({Error}: {Reason}); retrying every poll, logged again when they are back")]
    private partial void LogPollFailed(int count, string error, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "REST prices for the price watches are back after {Failed} failed polls")]
    private partial void LogPollRecovered(int failed);

    [LoggerMessage(Level = LogLevel.Warning, Message = "REST fallback for {Count} symbols is over its budget of {Weight} weight a minute (Alerts:FallbackWeightPerMinute): polls are skipped")]
    private partial void LogOverBudget(int count, int weight);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Price of {Symbol} not delivered to its watch ({Error})")]
    private partial void LogDeliveryFailed(string symbol, string error);
}
