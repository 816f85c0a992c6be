namespace Engram.Abstractions.Common;

/// <summary>
/// The outcome of a user-facing operation. Validation failures are ordinary results with a
/// friendly <see cref="Error"/>, not exceptions, so they cross grain boundaries cheaply and
/// never surface as stack traces.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record OperationResult<T>
{
    [Id(0)] public T? Value { get; init; }
    [Id(1)] public string? Error { get; init; }

    public bool Ok => Error is null;

    public static OperationResult<T> Success(T value) => new() { Value = value };
    public static OperationResult<T> Fail(string error) => new() { Error = error };
}
