using Engram.Abstractions.Conversation;

namespace Engram.Grains.Conversation.Commands;

/// <summary>
/// One area's commands. A handler reads and changes the user only through the session it is given
/// (in memory: the user grain stores the turn's changes and replies in one write afterwards).
/// </summary>
public interface ICommandHandler
{
    IReadOnlyCollection<string> Commands { get; }

    /// <returns>The reply, or null when the answer comes later (a question handed to the LLM worker).</returns>
    Task<ChatReply?> RunAsync(UserSession session, ParsedMessage message);
}
