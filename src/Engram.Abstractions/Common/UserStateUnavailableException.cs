namespace Engram.Abstractions.Common;

/// <summary>
/// Thrown when a user's change could not be persisted (storage unreachable). Its message is
/// safe to show to the user; the state was left as it was before the call.
/// </summary>
[GenerateSerializer]
public sealed class UserStateUnavailableException : Exception
{
    public UserStateUnavailableException() { }
    public UserStateUnavailableException(string message) : base(message) { }
    public UserStateUnavailableException(string message, Exception inner) : base(message, inner) { }
}
