using Engram.Abstractions.Common;
using Engram.Abstractions.Conversation;
using Engram.Grains.Conversation;
using Engram.Abstractions.Users;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Storage;

namespace Engram.Grains.Users;

/// <summary>
/// The single owner of one Telegram user's data. Orleans runs one call at a time on it, so the
/// rules in <see cref="UserAccount"/> never race; every change is written to Redis before the
/// call returns.
/// </summary>
public sealed partial class UserGrain(
    [PersistentState(stateName: "user", storageName: StorageNames.Users)] IPersistentState<UserState> user,
    IOptions<UserGrainOptions> options,
    ConversationService conversation,
    TimeProvider clock,
    ILogger<UserGrain> logger) : Grain, IUserGrain
{
    private const int MaxWriteAttempts = 3;

    public async Task<IReadOnlyList<ChatReply>> HandleMessageAsync(IncomingMessage message)
    {
        // Telegram redelivers an update when its offset was not confirmed; answer each only once.
        if (message.UpdateId is { } updateId && !await TryMarkUpdateProcessedAsync(updateId))
            return [new ChatReply("", ReplyKind.Duplicate)];
        // The conversation calls this grain's own methods directly (same turn, no reentrancy).
        return await conversation.HandleAsync(this.GetPrimaryKeyLong(), this, message);
    }

    private UserAccount Account => new(user.State, options.Value, clock);

    public Task<OperationResult<AlertView>> AddAlertAsync(AlertRequest request) =>
        UpdateAsync(account => account.AddAlert(request), r => r.Ok);

    public Task<IReadOnlyList<AlertView>> GetAlertsAsync(bool includeTriggered = false) =>
        Task.FromResult(Account.GetAlerts(includeTriggered));

    public Task<OperationResult<AlertView>> RemoveAlertAsync(int alertId) =>
        UpdateAsync(account => account.RemoveAlert(alertId), r => r.Ok);

    public Task<OperationResult<TradeReceipt>> BuyAsync(string symbol, decimal amount, decimal price) =>
        UpdateAsync(account => account.Buy(symbol, amount, price), r => r.Ok);

    public Task<OperationResult<TradeReceipt>> SellAsync(string symbol, decimal amount, decimal price) =>
        UpdateAsync(account => account.Sell(symbol, amount, price), r => r.Ok);

    public Task<PortfolioView> GetPortfolioAsync() => Task.FromResult(Account.GetPortfolio());

    public Task<EffectiveSettings> GetSettingsAsync() => Task.FromResult(Account.GetSettings());

    public Task<EffectiveSettings> SetResponseFormatAsync(ResponseFormat format) =>
        UpdateAsync(account =>
        {
            account.State.Settings.ResponseFormat = format;
            return account.GetSettings();
        }, _ => true);

    public Task<OperationResult<EffectiveSettings>> SetDefaultTimeframeAsync(string timeframe) =>
        UpdateAsync(account => account.SetDefaultTimeframe(timeframe), r => r.Ok);

    public Task<EffectiveSettings> SetRiskToleranceAsync(RiskTolerance tolerance) =>
        UpdateAsync(account =>
        {
            account.State.Settings.RiskTolerance = tolerance;
            return account.GetSettings();
        }, _ => true);

    public Task<IReadOnlyList<ChatTurn>> GetHistoryAsync() =>
        Task.FromResult<IReadOnlyList<ChatTurn>>(user.State.History.ToList());

    public Task AppendExchangeAsync(string question, string answer) =>
        UpdateAsync(account =>
        {
            account.AppendExchange(question, answer);
            return true;
        }, _ => true);

    public Task ResetHistoryAsync() =>
        UpdateAsync(account =>
        {
            account.State.History.Clear();
            return true;
        }, _ => true);

    public Task<bool> TryMarkUpdateProcessedAsync(long updateId) =>
        UpdateAsync(account => account.TryMarkUpdateProcessed(updateId), first => first);

    /// <summary>
    /// Applies a change and persists it. On an ETag conflict (another activation of this grain
    /// wrote meanwhile, e.g. during a silo failover) Orleans' advice is to re-read the stored
    /// state and apply the change again to it, never to overwrite blindly. On any other storage
    /// failure the in-memory state is reloaded so it never drifts from what Redis holds.
    /// </summary>
    private async Task<T> UpdateAsync<T>(Func<UserAccount, T> change, Func<T, bool> changed)
    {
        for (var attempt = 1; ; attempt++)
        {
            user.State.CreatedAt ??= clock.GetUtcNow();
            var result = change(Account);
            if (!changed(result))
                return result;
            try
            {
                await user.WriteStateAsync();
                return result;
            }
            catch (InconsistentStateException ex) when (attempt < MaxWriteAttempts)
            {
                LogEtagConflict(this.GetPrimaryKeyLong(), attempt, ex.Message);
                await user.ReadStateAsync();
            }
            catch (Exception ex)
            {
                LogWriteFailed(ex, this.GetPrimaryKeyLong());
                await ReloadOrDeactivateAsync();
                throw new UserStateUnavailableException("Your data could not be saved just now; nothing was changed. Please try again in a moment.", ex);
            }
        }
    }

    private async Task ReloadOrDeactivateAsync()
    {
        try
        {
            await user.ReadStateAsync();
        }
        catch (Exception ex)
        {
            // Storage is unreachable: drop this activation so the next call starts from what Redis holds.
            LogReloadFailed(ex, this.GetPrimaryKeyLong());
            DeactivateOnIdle();
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "ETag conflict writing user {UserId} (attempt {Attempt}): {Reason}; re-reading and re-applying")]
    private partial void LogEtagConflict(long userId, int attempt, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not persist state of user {UserId}")]
    private partial void LogWriteFailed(Exception ex, long userId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not reload state of user {UserId}; deactivating")]
    private partial void LogReloadFailed(Exception ex, long userId);
}
