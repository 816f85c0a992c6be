using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Engram.TestServers;

/// <summary>An uploaded file from a multipart Bot API request.</summary>
public sealed record UploadedFile(string FieldName, string FileName, string? ContentType, byte[] Bytes);

/// <summary>
/// Bot API parameters read the way Telegram reads them: query string, JSON body, url-encoded form or multipart.
/// Form values are strings even for numbers and objects (Telegram.Bot puts JSON text into multipart fields), so the
/// accessors accept both shapes.
/// </summary>
internal sealed class BotApiArgs
{
    private readonly Dictionary<string, JsonNode?> _values = new(StringComparer.Ordinal);

    public Dictionary<string, UploadedFile> Files { get; } = new(StringComparer.Ordinal);

    public static BotApiArgs FromJson(JsonObject json)
    {
        var args = new BotApiArgs();
        foreach (var (key, value) in json)
            args._values[key] = value?.DeepClone();
        return args;
    }

    /// <summary>Reads the request; returns null when the body is not parseable (Telegram answers 400 then).</summary>
    public static async Task<BotApiArgs?> ReadAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var args = new BotApiArgs();
        foreach (var (key, value) in request.Query)
            args._values[key] = JsonValue.Create(value.ToString());

        if (request.HasJsonContentType())
        {
            using var reader = new StreamReader(request.Body);
            var body = await reader.ReadToEndAsync(cancellationToken).ConfigureAwait(false);
            if (string.IsNullOrWhiteSpace(body))
                return args;
            try
            {
                if (JsonNode.Parse(body) is not JsonObject json)
                    return null;
                foreach (var (key, value) in json)
                    args._values[key] = value?.DeepClone();
            }
            catch (JsonException)
            {
                return null;
            }
        }
        else if (request.HasFormContentType)
        {
            var form = await request.ReadFormAsync(cancellationToken).ConfigureAwait(false);
            foreach (var (key, value) in form)
                args._values[key] = JsonValue.Create(value.ToString());
            foreach (var file in form.Files)
            {
                using var buffer = new MemoryStream();
                await file.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
                args.Files[file.Name] = new UploadedFile(file.Name, file.FileName, file.ContentType, buffer.ToArray());
            }
        }
        return args;
    }

    public bool Has(string name) => _values.TryGetValue(name, out var v) && v is not null;

    public string? String(string name) => _values.TryGetValue(name, out var node) ? node switch
    {
        null => null,
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        _ => node.ToJsonString(),
    } : null;

    public long? Long(string name)
    {
        if (!_values.TryGetValue(name, out var node) || node is not JsonValue value)
            return null;
        return value.GetValueKind() switch
        {
            JsonValueKind.Number => value.GetValue<JsonElement>().TryGetInt64(out var l) ? l : null,
            JsonValueKind.String => long.TryParse(value.GetValue<string>(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var l) ? l : null,
            _ => null,
        };
    }

    public int? Int(string name) => Long(name) is { } l && l is >= int.MinValue and <= int.MaxValue ? (int)l : null;

    public bool Bool(string name)
    {
        if (!_values.TryGetValue(name, out var node) || node is not JsonValue value)
            return false;
        return value.GetValueKind() switch
        {
            JsonValueKind.True => true,
            JsonValueKind.String => value.GetValue<string>() is "true" or "True" or "1",
            _ => false,
        };
    }

    /// <summary>An object or array parameter; a string value is parsed as JSON (form and multipart encodings).</summary>
    public JsonNode? Json(string name)
    {
        if (!_values.TryGetValue(name, out var node) || node is null)
            return null;
        if (node is JsonValue v && v.GetValueKind() == JsonValueKind.String)
        {
            try
            {
                return JsonNode.Parse(v.GetValue<string>());
            }
            catch (JsonException)
            {
                return null;
            }
        }
        return node.DeepClone();
    }

    public JsonObject ToJson()
    {
        var json = new JsonObject();
        foreach (var (key, value) in _values)
            json[key] = value?.DeepClone();
        foreach (var file in Files.Values)
            json[file.FieldName] = $"<file {file.FileName}, {file.Bytes.Length} bytes>";
        return json;
    }
}
