using System.Net;
using System.Net.Http.Headers;
using ChatStore.Connection;
using ChatStore.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using static ChatStore.Server.Tests.ServerFixture;

namespace ChatStore.Server.Tests;

/// <summary>Body limits on the real server (Kestrel on a TCP port, not the in-memory test server).</summary>
[Collection(ServerCollection.Name)]
public sealed class KestrelLimitsTests(ServerFixture server)
{
    [Fact]
    public async Task An_oversized_chunked_body_gets_413_problem_details_not_a_connection_reset()
    {
        await using var app = ChatStoreServer.Build([], new ChatStoreSettings { ConnectionString = server.ConnectionString }, builder =>
        {
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Configuration["Server:OperatorKey"] = OperatorKey;
            builder.Configuration["Server:MaxRequestBodyBytes"] = (64 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture);
        });
        await app.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", OperatorKey);

        // 1 MiB with no Content-Length: sent in chunks, so only reading it finds it too large.
        var body = System.Text.Encoding.UTF8.GetBytes($$"""{"name":"{{new string('x', 1024 * 1024)}}"}""");
        using var content = new StreamContent(new UnknownLengthStream(body));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        var response = await http.PostAsync("/v1/tenants", content);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.RequestEntityTooLarge && response.Content.Headers.ContentType?.MediaType == "application/problem+json",
            $"{(int)response.StatusCode} {response.Headers} {response.Content.Headers}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("larger than this service accepts", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        await app.StopAsync();
    }

    // A stream that does not tell its length, so HttpClient sends it chunked.
    sealed class UnknownLengthStream(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
    }
}
