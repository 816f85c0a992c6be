using System.Diagnostics.Metrics;
using Engram.Telegram;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Engram.UnitTests.Ingress;

public sealed class IngressGateTests : IDisposable
{
    private readonly ServiceProvider services = new ServiceCollection().AddMetrics().BuildServiceProvider();

    private IngressGate Gate(int inFlight, int waiting) => new(
        Options.Create(new TelegramOptions { MaxUpdatesInFlight = inFlight, MaxUpdatesWaiting = waiting }),
        services.GetRequiredService<IMeterFactory>(), NullLogger<IngressGate>.Instance);

    [Fact]
    public async Task A_full_silo_holds_an_update_until_there_is_room()
    {
        using var gate = Gate(inFlight: 1, waiting: 10);
        var first = await gate.EnterAsync(1, TimeSpan.FromSeconds(5), CancellationToken.None);
        Assert.NotNull(first);
        var second = gate.EnterAsync(2, TimeSpan.FromSeconds(5), CancellationToken.None);
        await Task.Delay(100);
        Assert.False(second.IsCompleted); // held, not refused
        first!.Dispose();
        Assert.NotNull(await second);
    }

    [Fact]
    public async Task Past_the_hold_an_update_is_refused_and_its_room_is_not_leaked()
    {
        using var gate = Gate(inFlight: 1, waiting: 10);
        var first = await gate.EnterAsync(1, TimeSpan.FromSeconds(5), CancellationToken.None);
        Assert.Null(await gate.EnterAsync(2, TimeSpan.FromMilliseconds(100), CancellationToken.None));
        first!.Dispose();
        // Neither user 2 nor the silo kept a permit from the refused attempt.
        using var again = await gate.EnterAsync(2, TimeSpan.FromSeconds(1), CancellationToken.None);
        Assert.NotNull(again);
    }

    [Fact]
    public async Task A_user_with_an_update_in_flight_waits_without_taking_room_from_others()
    {
        using var gate = Gate(inFlight: 2, waiting: 10);
        using var flooder = await gate.EnterAsync(7, TimeSpan.FromSeconds(5), CancellationToken.None);
        var hisNext = gate.EnterAsync(7, TimeSpan.FromSeconds(5), CancellationToken.None);
        using var other = await gate.EnterAsync(8, TimeSpan.FromMilliseconds(200), CancellationToken.None);
        Assert.NotNull(other);
        Assert.False(hisNext.IsCompleted);
        flooder!.Dispose();
        Assert.NotNull(await hisNext);
    }

    [Fact]
    public async Task A_cancelled_wait_releases_what_it_held()
    {
        using var gate = Gate(inFlight: 1, waiting: 10);
        var first = await gate.EnterAsync(1, TimeSpan.FromSeconds(5), CancellationToken.None);
        using var cancel = new CancellationTokenSource(100);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => gate.EnterAsync(2, Timeout.InfiniteTimeSpan, cancel.Token));
        first!.Dispose();
        using var again = await gate.EnterAsync(2, TimeSpan.FromSeconds(1), CancellationToken.None);
        Assert.NotNull(again);
    }

    public void Dispose() => services.Dispose();
}
