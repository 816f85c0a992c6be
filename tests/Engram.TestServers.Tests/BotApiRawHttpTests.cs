using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;

namespace Engram.TestServers.Tests;

/// <summary>Wire-level behaviour other clients (curl, scripts, the chaos driver) rely on.</summary>
public sealed class BotApiRawHttpTests : IAsyncLifetime
{
    private readonly HttpClient _http = new();
    private BotApiServer _server = null!;

    public async Task InitializeAsync() => _server = await BotApiServer.StartAsync();

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _server.DisposeAsync();
    }

    private string Url(string method) => $"{_server.BaseUrl}/bot{_server.Token}/{method}";

    private static async Task<(HttpStatusCode Status, JsonObject Body)> ReadAsync(HttpResponseMessage response) =>
        (response.StatusCode, (JsonObject)JsonNode.Parse(await response.Content.ReadAsStringAsync())!);

    [Fact]
    public async Task GET_with_query_parameters_sends_a_message_shaped_like_the_Bot_API()
    {
        var (status, body) = await ReadAsync(await _http.GetAsync(Url("sendMessage") + "?chat_id=-1001236826225&text=Test%20test"));

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.True(body["ok"]!.GetValue<bool>());
        var message = body["result"]!;
        Assert.Equal(1, message["message_id"]!.GetValue<int>());
        Assert.Equal("supergroup", message["chat"]!["type"]!.GetValue<string>());
        Assert.True(message["from"]!["is_bot"]!.GetValue<bool>());
        // Seconds, not milliseconds (the bug that breaks telegram-test-api with real clients).
        Assert.InRange(message["date"]!.GetValue<long>(), DateTimeOffset.UtcNow.AddMinutes(-1).ToUnixTimeSeconds(), DateTimeOffset.UtcNow.AddMinutes(1).ToUnixTimeSeconds());
    }

    [Fact]
    public async Task Url_encoded_form_with_JSON_text_in_reply_markup_is_understood()
    {
        var form = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["chat_id"] = "5",
            ["text"] = "<b>hi</b>",
            ["parse_mode"] = "HTML",
            ["reply_markup"] = """{"inline_keyboard":[[{"text":"Go","callback_data":"go"}]]}""",
        });

        var (status, body) = await ReadAsync(await _http.PostAsync(Url("sendMessage"), form));

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("hi", body["result"]!["text"]!.GetValue<string>());
        Assert.Equal("go", body["result"]!["reply_markup"]!["inline_keyboard"]![0]![0]!["callback_data"]!.GetValue<string>());
    }

    [Fact]
    public async Task Unknown_method_is_404_Not_Found_and_bad_token_is_401()
    {
        var (notFound, notFoundBody) = await ReadAsync(await _http.PostAsync(Url("sendTelepathy"), null));
        var (unauthorized, unauthorizedBody) = await ReadAsync(await _http.PostAsync($"{_server.BaseUrl}/bot1:nope/getMe", null));

        Assert.Equal(HttpStatusCode.NotFound, notFound);
        Assert.Equal("""{"ok":false,"error_code":404,"description":"Not Found"}""", notFoundBody.ToJsonString());
        Assert.Equal(HttpStatusCode.Unauthorized, unauthorized);
        Assert.Equal("""{"ok":false,"error_code":401,"description":"Unauthorized"}""", unauthorizedBody.ToJsonString());
    }

    [Fact]
    public async Task Scripted_429_body_matches_Telegrams()
    {
        _server.FailNext("getMe", 429, retryAfter: 8);

        var (status, body) = await ReadAsync(await _http.PostAsync(Url("getMe"), null));

        Assert.Equal(HttpStatusCode.TooManyRequests, status);
        Assert.Equal("""{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 8","parameters":{"retry_after":8}}""", body.ToJsonString());
        Assert.Equal([("getMe", 429)], _server.Requests.Select(r => (r.Method, r.StatusCode)));
    }

    [Fact]
    public async Task Negative_offset_keeps_only_the_newest_updates()
    {
        var ids = Enumerable.Range(0, 4).Select(i => _server.EnqueueMessage(7, $"m{i}")).ToArray();

        var (_, body) = await ReadAsync(await _http.GetAsync(Url("getUpdates") + "?offset=-1"));

        Assert.Equal(ids[^1], body["result"]!.AsArray().Single()!["update_id"]!.GetValue<int>());
        Assert.Equal([ids[^1]], _server.PendingUpdateIds);
    }

    [Fact]
    public async Task Dispose_releases_a_held_long_poll_promptly()
    {
        var server = await BotApiServer.StartAsync();
        var poll = _http.GetAsync($"{server.BaseUrl}/bot{server.Token}/getUpdates?timeout=30");
        Assert.True(await server.WaitUntilAsync(s => s.IsLongPollActive, TimeSpan.FromSeconds(5)));
        var watch = Stopwatch.StartNew();

        await server.DisposeAsync();

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"dispose took {watch.Elapsed}");
        await Assert.ThrowsAnyAsync<Exception>(async () => (await poll).EnsureSuccessStatusCode());
    }

    [Fact]
    public async Task Servers_start_fast_and_are_independent()
    {
        var watch = Stopwatch.StartNew();
        var servers = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => BotApiServer.StartAsync()));
        var elapsed = watch.Elapsed;
        try
        {
            servers[0].EnqueueMessage(1, "only in server 0");
            Assert.Equal(4, servers.Select(s => s.BaseUrl).Distinct().Count());
            Assert.Single(servers[0].PendingUpdateIds);
            Assert.All(servers[1..], s => Assert.Empty(s.PendingUpdateIds));
            Assert.True(elapsed < TimeSpan.FromSeconds(1), $"starting four servers took {elapsed}");
        }
        finally
        {
            foreach (var server in servers)
                await server.DisposeAsync();
        }
    }

    [Theory]
    [InlineData("<b>bold</b> <strong>s</strong> <i>i</i> <em>e</em> <u>u</u> <ins>n</ins> <s>s</s> <strike>k</strike> <del>d</del>")]
    [InlineData("<span class=\"tg-spoiler\">x</span> <tg-spoiler>y</tg-spoiler> <a href=\"https://t.me/x\">link</a>")]
    [InlineData("<pre><code class=\"language-python\">a &lt; b</code></pre> <blockquote expandable>q</blockquote>")]
    [InlineData("<tg-emoji emoji-id=\"5368324170671202286\">👍</tg-emoji> &#128077; &#x1F44D; &quot;q&quot; a > b")]
    public void Every_tag_Telegram_documents_is_accepted(string html)
    {
        Assert.True(TelegramHtml.Parse(html).Ok, TelegramHtml.Parse(html).Error);
    }

    [Fact]
    public void Lenient_mode_keeps_a_bare_ampersand_as_text()
    {
        Assert.Equal("AT&T", TelegramHtml.Parse("AT&T", strictAmpersand: false).PlainText);
        Assert.False(TelegramHtml.Parse("AT&T").Ok);
    }
}
