using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace ChatStore.Fault.Tests;

/// <summary>A write the service acknowledged (2xx): its key, its content, and the message it says it stored.</summary>
sealed record Ack(string Key, string Content, Guid MessageId, Guid ConversationId, long Seq, bool Replayed);

/// <summary>One HTTP attempt: when it started and ended (on the workload's clock), what it got.</summary>
sealed record Attempt(TimeSpan Start, TimeSpan End, int Status, bool RetryAfter);

/// <summary>
/// Writers appending messages to a tenant's conversations through the service, each with a new
/// <c>Idempotency-Key</c> and a unique content, retrying the same key (and body) until the service
/// acknowledges it, whatever happens in between: refused connections, resets, 503, 409.
/// </summary>
sealed class Workload(Uri baseAddress, string apiKey, IReadOnlyList<Guid> conversations)
{
    /// <summary>A write not acknowledged after this long counts as stuck.</summary>
    public static readonly TimeSpan GiveUpAfter = TimeSpan.FromSeconds(60);

    readonly Stopwatch _clock = Stopwatch.StartNew();

    public ConcurrentBag<Ack> Acks { get; } = [];

    public ConcurrentBag<Attempt> Attempts { get; } = [];

    /// <summary>Writes that got 422 (a key reused with another body: a bug in the service or the workload).</summary>
    public ConcurrentBag<string> Rejected { get; } = [];

    /// <summary>Keys never acknowledged within <see cref="GiveUpAfter"/>.</summary>
    public ConcurrentBag<string> Stuck { get; } = [];

    public TimeSpan Now => _clock.Elapsed;

    /// <summary>Runs <paramref name="writers"/> writers until <paramref name="stop"/>; each finishes (acknowledges) the write it has begun.</summary>
    public Task RunAsync(int writers, CancellationToken stop) =>
        Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(() => WriterAsync(w, stop))));

    async Task WriterAsync(int writer, CancellationToken stop)
    {
        using var http = Client();
        for (var n = 0; !stop.IsCancellationRequested; n++)
        {
            var key = Guid.NewGuid().ToString();
            var content = $"writer {writer} write {n} {key}";
            var conversation = conversations[(writer + n) % conversations.Count];
            await WriteUntilAcknowledgedAsync(http, key, content, conversation);
        }
    }

    public HttpClient Client()
    {
        var http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromSeconds(30), ConnectTimeout = TimeSpan.FromSeconds(2) })
        {
            BaseAddress = baseAddress,
            Timeout = ServerProcess.RequestTimeout * 3,
        };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        return http;
    }

    async Task WriteUntilAcknowledgedAsync(HttpClient http, string key, string content, Guid conversation)
    {
        var began = Now;
        while (Now - began < GiveUpAfter)
        {
            var start = Now;
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/conversations/{conversation}/messages")
                {
                    Content = JsonContent.Create(new { role = "user", content }),
                };
                request.Headers.Add("Idempotency-Key", key);
                using var response = await http.SendAsync(request);
                var body = await response.Content.ReadAsStringAsync();
                Attempts.Add(new Attempt(start, Now, (int)response.StatusCode, response.Headers.RetryAfter is not null));
                if (response.IsSuccessStatusCode)
                {
                    var message = JsonDocument.Parse(body).RootElement;
                    Acks.Add(new Ack(key, content, message.GetProperty("id").GetGuid(), message.GetProperty("conversationId").GetGuid(),
                        message.GetProperty("seq").GetInt64(), response.Headers.Contains("Idempotent-Replayed")));
                    return;
                }
                if (response.StatusCode == HttpStatusCode.UnprocessableEntity)
                {
                    Rejected.Add($"{key}: {body}");
                    return;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
            {
                // Refused, reset or timed out: the outcome is unknown, so the same key goes again.
                Attempts.Add(new Attempt(start, Now, 0, false));
            }
            await Task.Delay(100);
        }
        Stuck.Add(key);
    }
}
