using System.Net;
using System.Text.Json;
using ChatStore.Embeddings;
using ChatStore.Search;
using ChatStore.Tests.Search;
using Microsoft.Extensions.AI;

namespace ChatStore.Tests.Embeddings;

public sealed class EmbeddingGeneratorTests
{
    [Fact]
    public async Task Local_hashing_is_deterministic_normalised_and_puts_related_texts_closer()
    {
        using var generator = new LocalHashingEmbeddingGenerator(384);
        var texts = new[] { "The golden retriever chased the ball", "A golden retriever puppy chasing balls", "Interest rates and the bond market", "", "🐶 Über naïve" };
        var first = await generator.GenerateAsync(texts);
        var again = await new LocalHashingEmbeddingGenerator(384).GenerateAsync(texts);
        Assert.Equal(5, first.Count);
        for (var i = 0; i < texts.Length; i++)
        {
            Assert.Equal(first[i].Vector.ToArray(), again[i].Vector.ToArray());
            Assert.Equal(384, first[i].Vector.Length);
            Assert.Equal(1.0, Math.Sqrt(first[i].Vector.ToArray().Sum(x => (double)x * x)), 5);
            Assert.All(first[i].Vector.ToArray(), x => Assert.True(float.IsFinite(x)));
        }
        static double Cos(ReadOnlyMemory<float> a, ReadOnlyMemory<float> b) => a.ToArray().Zip(b.ToArray(), (x, y) => (double)x * y).Sum();
        var (related, unrelated) = (Cos(first[0].Vector, first[1].Vector), Cos(first[0].Vector, first[2].Vector));
        Assert.True(related > unrelated + 0.1, $"related {related:F3}, unrelated {unrelated:F3}");
        Assert.NotEqual(first[0].Vector.ToArray(), new LocalHashingEmbeddingGenerator(128).Embed(texts[0]).Concat(new float[256]).ToArray());
        Assert.Equal(LocalHashingEmbeddingGenerator.DefaultModelId, first[0].ModelId);
    }

    [Fact]
    public async Task Openai_compatible_batches_and_retries_429_and_5xx_honouring_retry_after()
    {
        var handler = new ScriptedHandler(
            _ => new HttpResponseMessage((HttpStatusCode)429) { Headers = { RetryAfter = new(TimeSpan.FromMilliseconds(30)) } },
            _ => new HttpResponseMessage(HttpStatusCode.BadGateway),
            Ok, Ok);
        using var generator = new OpenAiCompatibleEmbeddingGenerator(new OpenAiCompatibleEmbeddingOptions
        {
            BaseUrl = new Uri("http://embeddings.test/v1/"), Model = "text-embedding-3-small", ApiKey = "sk-test", BatchSize = 3, Dimensions = 4,
            InitialBackoff = TimeSpan.FromMilliseconds(1),
        }, new HttpClient(handler));
        var result = await generator.GenerateAsync(["a", "b", "c", "d", "e"]);
        Assert.Equal(5, result.Count);
        Assert.Equal([1f, 0, 0, 0], result[0].Vector.ToArray());
        Assert.Equal([5f, 0, 0, 0], result[4].Vector.ToArray());
        Assert.Equal(4, handler.Requests.Count); // 429, 502, then two batches (3 + 2)
        Assert.All(handler.Requests, r => Assert.Equal("http://embeddings.test/v1/embeddings", r.Uri));
        Assert.All(handler.Requests, r => Assert.Equal("Bearer sk-test", r.Authorization));
        var body = JsonDocument.Parse(handler.Requests[3].Body).RootElement;
        Assert.Equal(["d", "e"], body.GetProperty("input").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(4, body.GetProperty("dimensions").GetInt32());
        Assert.Equal(10, result.Usage!.InputTokenCount);

        // Client errors are not retried.
        var refusing = new ScriptedHandler(_ => new HttpResponseMessage(HttpStatusCode.BadRequest) { Content = new StringContent("bad model") });
        using var failing = new OpenAiCompatibleEmbeddingGenerator(new OpenAiCompatibleEmbeddingOptions { BaseUrl = new Uri("http://embeddings.test/v1"), Model = "m" }, new HttpClient(refusing));
        var e = await Assert.ThrowsAsync<ChatStoreException>(() => failing.GenerateAsync(["x"]));
        Assert.Contains("bad model", e.Message, StringComparison.Ordinal);
        Assert.Single(refusing.Requests);
    }

    static HttpResponseMessage Ok(HttpRequestMessage request)
    {
        var input = JsonDocument.Parse(request.Content!.ReadAsStringAsync().Result).RootElement.GetProperty("input").EnumerateArray().Select(e => e.GetString()!).ToList();
        var data = input.Select((text, i) => new { index = i, embedding = new[] { text[0] - 'a' + 1f, 0, 0, 0 } });
        return new HttpResponseMessage(HttpStatusCode.OK)
        {
            Content = new StringContent(JsonSerializer.Serialize(new { data, model = "text-embedding-3-small", usage = new { prompt_tokens = 5, total_tokens = 5 } })),
        };
    }

    sealed class ScriptedHandler(params Func<HttpRequestMessage, HttpResponseMessage>[] script) : HttpMessageHandler
    {
        public List<(string Uri, string? Authorization, string Body)> Requests { get; } = [];

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Requests.Add((request.RequestUri!.ToString(), request.Headers.Authorization?.ToString(), await request.Content!.ReadAsStringAsync(cancellationToken)));
            return script[Math.Min(Requests.Count - 1, script.Length - 1)](request);
        }
    }

    [Fact]
    public async Task The_background_indexer_embeds_queued_rows_without_blocking_the_writer()
    {
        var client = await TestStore.ClientAsync();
        var space = await client.Embeddings.RegisterSpaceAsync(new NewEmbeddingSpace { Name = "test-indexer-128", Model = LocalHashingEmbeddingGenerator.DefaultModelId, Dimensions = 128 });
        var (_, scope, tenant) = await TestStore.NewTenantAsync();
        var user = await SearchData.UserAsync(tenant.Id);
        var c = await SearchData.ConversationAsync(tenant.Id, user);
        var indexer = new EmbeddingIndexer(client, space, new LocalHashingEmbeddingGenerator(128), new EmbeddingIndexerOptions { BatchSize = 8 });
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var run = indexer.RunAsync(cts.Token);
        var ids = new List<Guid>();
        for (var i = 0; i < 20; i++)
        {
            var text = $"message number {i} about kangaroos";
            var id = await SearchData.MessageAsync(tenant.Id, c, user, text);
            ids.Add(id);
            Assert.True(indexer.TryEnqueue(tenant.Id, EmbeddingOwner.Message(id), text));
        }
        Assert.True(indexer.TryEnqueue(tenant.Id, EmbeddingOwner.Message(Guid.NewGuid()), "a message that was deleted meanwhile"));
        indexer.Complete();
        await run;
        Assert.Equal((20L, 1L), (indexer.Indexed, indexer.Failed));
        Assert.Equal(20L, await TestStore.ScalarAsync<long>("SELECT count(*) FROM embeddings WHERE tenant_id = $1 AND space_id = $2", tenant.Id, space.Id));
        Assert.Equal(ids[7], (await scope.Search.VectorAsync(new VectorSearchQuery { Space = space, Text = "message number 7 about kangaroos" }))[0].Id);
        Assert.False(indexer.TryEnqueue(tenant.Id, EmbeddingOwner.Message(ids[0]), "after completion"));
    }
}
