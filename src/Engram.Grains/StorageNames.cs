namespace Engram.Grains;

/// <summary>Names of the grain storage providers the silo registers.</summary>
public static class StorageNames
{
    /// <summary>Per-user state (alerts, portfolio, settings, history).</summary>
    public const string Users = "users";

    /// <summary>Shared, rebuildable data such as market caches and alert indexes.</summary>
    public const string Market = "market";

    /// <summary>The live track record of Engram's signals: not rebuildable, kept like user data.</summary>
    public const string Signals = "signals";
}
