using System.Net;
using Microsoft.Extensions.Logging;

namespace Engram.Trading.MarketData;

/// <summary>
/// Binance's rule (rest-api.md, "LIMITS"): after a 429 a client must back off, and one that keeps sending is banned
/// by IP with a 418, for 2 minutes up to 3 days. So one 429 or 418 stops every request from this silo until its
/// <c>Retry-After</c> has passed, whoever was asking: a user's /price and the alert fallback alike.
/// </summary>
public sealed partial class ExchangeCooldown(TimeProvider clock, ILogger<ExchangeCooldown> logger)
{
    /// <summary>When Binance sends no Retry-After: its shortest ban for a 418, a minute for a 429.</summary>
    private static readonly TimeSpan DefaultAfter429 = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan DefaultAfter418 = TimeSpan.FromMinutes(2);

    private long untilUnixMs;

    /// <summary>How long requests stay refused; null when they may go.</summary>
    public TimeSpan? Remaining
    {
        get
        {
            var left = Volatile.Read(ref untilUnixMs) - clock.GetUtcNow().ToUnixTimeMilliseconds();
            return left > 0 ? TimeSpan.FromMilliseconds(left) : null;
        }
    }

    public void Start(HttpStatusCode status, TimeSpan? retryAfter)
    {
        var wait = retryAfter is { } after && after > TimeSpan.Zero
            ? after
            : status == (HttpStatusCode)418 ? DefaultAfter418 : DefaultAfter429;
        var until = clock.GetUtcNow() + wait;
        var untilMs = until.ToUnixTimeMilliseconds();
        long seen;
        do
        {
            seen = Volatile.Read(ref untilUnixMs);
            if (seen >= untilMs)
                return; // an equal or longer cooldown is already running (and was logged)
        }
        while (Interlocked.CompareExchange(ref untilUnixMs, untilMs, seen) != seen);
        LogCoolingDown((int)status, wait, until);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Binance answered HTTP {Status}: no requests from this silo for {Wait} (until {Until:u}), as its rate-limit rules require")]
    private partial void LogCoolingDown(int status, TimeSpan wait, DateTimeOffset until);
}

/// <summary>Thrown instead of sending while <see cref="ExchangeCooldown"/> runs; the provider turns it into a <see cref="MarketDataErrorKind.RateLimited"/> answer.</summary>
public sealed class ExchangeCoolingDownException(TimeSpan remaining)
    : Exception($"Binance rate limit: requests paused for another {remaining.TotalSeconds:0} s")
{
    public TimeSpan Remaining { get; } = remaining;
}

/// <summary>
/// Sits inside the resilience pipeline, so every attempt passes through it: refuses to send during a cooldown and starts
/// one on a 429 or 418. Its exception is not transient to the retry strategy, so a refused call ends at once.
/// </summary>
internal sealed class ExchangeCooldownHandler(ExchangeCooldown cooldown) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (cooldown.Remaining is { } remaining)
            throw new ExchangeCoolingDownException(remaining);
        var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode is HttpStatusCode.TooManyRequests or (HttpStatusCode)418)
        {
            var retryAfter = response.Headers.RetryAfter is { } header
                ? header.Delta ?? (header.Date is { } date ? date - DateTimeOffset.UtcNow : null)
                : null;
            cooldown.Start(response.StatusCode, retryAfter);
        }
        return response;
    }
}
