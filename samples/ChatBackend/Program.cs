// A chat backend on ChatStore, through dependency injection: users, memories, and a streamed assistant
// reply stored as it is written (status streaming, then complete with its tokens and cost), grounded in the
// user's memories recalled by hybrid search (full text and vectors in one round trip).
//
//   DATABASE_URL=postgres://… dotnet run --project samples/ChatBackend -- --urls http://127.0.0.1:5080
//   (no DATABASE_URL: ChatStore starts its embedded PostgreSQL under ./.chatstore/pg)
using ChatStore;
using ChatStore.Conversations;
using ChatStore.DependencyInjection;
using ChatStore.Embeddings;
using ChatStore.Memories;
using ChatStore.Messages;
using ChatStore.Search;
using ChatStore.Tenants;
using ChatStore.Users;
using Microsoft.Extensions.AI;

var builder = WebApplication.CreateSlimBuilder(args);
// DATABASE_URL (or the embedded cluster); the health check answers /healthz.
builder.Services.AddChatStore().AddHealthChecks();
// Offline embeddings for the sample; an app would register its model's IEmbeddingGenerator here.
builder.Services.AddSingleton<IEmbeddingGenerator<string, Embedding<float>>>(new LocalHashingEmbeddingGenerator());
var app = builder.Build();

// Start-up: the schema, this app's tenant and its embedding space. GetClientAsync waits for the embedded
// cluster, if ChatStore runs on it; with DATABASE_URL the client is there at once.
var client = await app.Services.GetRequiredService<ChatStoreStartup>().GetClientAsync();
await client.Migrator.InitAsync();
var tenant = await client.Tenants.CreateAsync(new NewTenant { Name = "Chat backend sample" });
var space = await client.Embeddings.RegisterSpaceAsync(new NewEmbeddingSpace
{
    Name = "memories",
    Model = LocalHashingEmbeddingGenerator.DefaultModelId,
    Dimensions = 384,
});
var chat = client.ForTenant(tenant.Id);

app.MapHealthChecks("/healthz");

app.MapPost("/users", async (NewUserRequest request, CancellationToken ct) =>
{
    var user = await chat.Users.CreateAsync(new NewUser { Email = request.Email, Name = request.Name }, ct);
    return Results.Ok(new { user.Id });
});

app.MapPost("/users/{userId:guid}/memories", async (Guid userId, NewMemoryRequest request, IEmbeddingGenerator<string, Embedding<float>> embedder, CancellationToken ct) =>
{
    var added = await chat.Memories.AddAsync(new NewMemory { UserId = userId, Content = request.Content }, ct);
    var vector = await embedder.GenerateVectorAsync(request.Content, cancellationToken: ct);
    await chat.Embeddings.UpsertAsync(space, EmbeddingOwner.Memory(added.Memory.Id), vector, chunkText: request.Content, cancellationToken: ct);
    return Results.Ok(new { added.Memory.Id });
});

// Streams the assistant's reply as plain text while storing it: the message is appended as streaming, each
// chunk is added as it is sent, and it is completed with the model, tokens, cost and time taken.
app.MapPost("/users/{userId:guid}/chat", async (Guid userId, ChatRequest request, HttpResponse response, CancellationToken ct) =>
{
    var started = TimeProvider.System.GetTimestamp();
    var conversationId = request.ConversationId
        ?? (await chat.Conversations.CreateAsync(new NewConversation { UserId = userId, Title = request.Message }, ct)).Id;
    await chat.Messages.AppendAsync(conversationId, new NewMessage { Role = MessageRole.User, Content = request.Message }, ct);

    var recalled = await chat.Search.HybridAsync(new HybridSearchQuery
    {
        Space = space,
        Text = request.Message,
        UserId = userId,
        Kinds = [SearchKind.Memory],
        Limit = 3,
    }, ct);
    var memories = new List<string>();
    foreach (var hit in recalled)
        memories.Add((await chat.Memories.GetAsync(hit.Id, ct)).Content);

    var reply = await chat.Messages.AppendAsync(conversationId,
        new NewMessage { Role = MessageRole.Assistant, Status = MessageStatus.Streaming, Model = FakeModel.Name }, ct);
    response.ContentType = "text/plain; charset=utf-8";
    response.Headers["X-Conversation-Id"] = conversationId.ToString();
    response.Headers["X-Message-Id"] = reply.Id.ToString();
    var outputTokens = 0;
    foreach (var chunk in FakeModel.Reply(request.Message, memories))
    {
        await chat.Messages.AppendChunkAsync(reply.Id, chunk, ct);
        await response.WriteAsync(chunk, ct);
        await response.Body.FlushAsync(ct);
        outputTokens++;
    }
    var inputTokens = FakeModel.CountTokens(request.Message) + memories.Sum(FakeModel.CountTokens);
    await chat.Messages.CompleteAsync(reply.Id, new MessageCompletion
    {
        InputTokens = inputTokens,
        OutputTokens = outputTokens,
        CostUsd = FakeModel.Cost(inputTokens, outputTokens),
        ResponseMs = (int)TimeProvider.System.GetElapsedTime(started).TotalMilliseconds,
    }, ct);
});

app.MapGet("/conversations/{conversationId:guid}/messages", async (Guid conversationId, CancellationToken ct) =>
    Results.Ok((await chat.Messages.HistoryAsync(conversationId, cancellationToken: ct)).Messages
        .Select(m => new { m.Id, m.Seq, m.Role, m.Content, m.Status, m.Model, m.InputTokens, m.OutputTokens, m.CostUsd })));

await app.RunAsync();

record NewUserRequest(string Email, string? Name);

record NewMemoryRequest(string Content);

record ChatRequest(string Message, Guid? ConversationId);

/// <summary>Stands in for a language model: answers from the recalled memories, a word at a time.</summary>
static class FakeModel
{
    public const string Name = "sample-echo-1";

    public static IEnumerable<string> Reply(string question, IReadOnlyList<string> memories)
    {
        var answer = memories.Count == 0
            ? $"I don't know anything about that yet. You asked: {question}"
            : $"From what you told me: {string.Join(" ", memories)}";
        return answer.Split(' ').Select((word, i) => i == 0 ? word : " " + word);
    }

    public static int CountTokens(string text) => text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;

    // $0.50 per million input tokens and $1.50 per million output tokens.
    public static decimal Cost(int inputTokens, int outputTokens) => (inputTokens * 0.5m + outputTokens * 1.5m) / 1_000_000m;
}
