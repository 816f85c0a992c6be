namespace Engram.Grains.Operations;

/// <summary>Facts only the host knows (Redis health, who polls Telegram), added to /status in the chat.</summary>
public interface IOperationalStatus
{
    Task<IReadOnlyList<string>> DescribeAsync();
}

public sealed class NoOperationalStatus : IOperationalStatus
{
    public Task<IReadOnlyList<string>> DescribeAsync() => Task.FromResult<IReadOnlyList<string>>([]);
}
