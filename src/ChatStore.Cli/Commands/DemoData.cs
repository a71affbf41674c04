using System.Text.Json;
using ChatStore.Documents;
using ChatStore.Embeddings;
using ChatStore.Memories;
using ChatStore.Messages;
using ChatStore.Reminders;
using ChatStore.Usage;
using ChatStore.Users;

namespace ChatStore.Cli.Commands;

/// <summary>
/// A little data for the demo tenant of <c>serve --demo</c>, so the console has something to show: a user
/// with a conversation (citations, tokens, cost, feedback, a correction), a memory that superseded
/// another, a document with two analysis versions, a reminder, usage and credits, and the built-in
/// embedding space with every row embedded.
/// </summary>
internal static class DemoData
{
    /// <summary>The embedding space the demo registers when there is none: the built-in offline embedder.</summary>
    public const string SpaceName = "local-384";

    public static async Task<Guid> SeedAsync(ChatStoreClient client, Guid tenantId, CancellationToken ct)
    {
        var scope = client.ForTenant(tenantId);
        var user = await scope.Users.CreateAsync(new NewUser { Email = "ada@example.com", Name = "Ada Lovelace", ExternalId = "demo-ada" }, ct);
        var conversation = await scope.Conversations.CreateAsync(new() { UserId = user.Id, Title = "Planning a trip to Lisbon" }, ct);
        var question = await scope.Messages.AppendAsync(conversation.Id, new NewMessage
        {
            Role = MessageRole.User, Content = "I'm visiting Lisbon in May. Which neighbourhoods are good for walking?",
        }, ct);
        var answer = await scope.Messages.AppendAsync(conversation.Id, new NewMessage
        {
            Role = MessageRole.Assistant, Model = "gpt-4o-mini", InputTokens = 412, OutputTokens = 186, CostUsd = 0.00017340m, ResponseMs = 1840,
            Content = "Alfama, Baixa and Chiado are compact and walkable; bring good shoes for the hills. Belém is a tram ride away.",
            Citations = JsonSerializer.SerializeToElement(new[] { new { title = "Visit Lisboa: neighbourhoods", url = "https://www.visitlisboa.com/" } }),
            Domains = ["travel"],
        }, ct);
        await scope.Messages.AppendAsync(conversation.Id, new NewMessage { Role = MessageRole.User, Content = "Thanks! I prefer quiet places in the evening." }, ct);
        await scope.Messages.SetFeedbackAsync(answer.Id, user.Id, new NewFeedback { Rating = FeedbackRating.Like, Comment = "Helpful" }, ct);
        await scope.Messages.AddCorrectionAsync(answer.Id, user.Id, "Alfama, Baixa and Chiado are walkable; Belém is 20 minutes by tram 15.", "more precise", ct);

        var first = await scope.Memories.AddAsync(new NewMemory
        {
            UserId = user.Id, Content = "Ada is visiting Lisbon in spring.", Kind = MemoryKinds.Fact,
            Sources = [new MemorySourceRef(conversation.Id, question.Id)],
        }, ct);
        await scope.Memories.UpdateAsync(first.Memory.Id, new MemoryUpdate { Content = "Ada is visiting Lisbon in May and likes quiet evenings." }, ct);

        var document = await scope.Documents.CreateAsync(new NewDocument
        {
            UserId = user.Id, ConversationId = conversation.Id, Filename = "lisbon-itinerary.pdf", MimeType = "application/pdf", SizeBytes = 48_213,
        }, ct);
        await scope.Documents.MarkProcessingAsync(document.Id, ct);
        await scope.Documents.MarkReadyAsync(document.Id, "Day 1: Alfama and the castle. Day 2: Belém and the riverside. Day 3: Sintra.", ct);
        await scope.Documents.AddAnalysisAsync(document.Id, new NewAnalysis
        {
            Category = "itinerary", Summary = "A three-day plan for Lisbon.", Provider = "openai", Model = "gpt-4o-mini",
            Result = JsonSerializer.SerializeToElement(new { days = 3 }),
        }, ct);
        await scope.Documents.AddAnalysisAsync(document.Id, new NewAnalysis
        {
            Category = "itinerary", Summary = "A three-day plan for Lisbon with a day trip to Sintra.", Provider = "openai", Model = "gpt-4o",
            Result = JsonSerializer.SerializeToElement(new { days = 3, dayTrips = new[] { "Sintra" } }),
        }, ct);

        await scope.Reminders.CreateAsync(new NewReminder
        {
            UserId = user.Id, ConversationId = conversation.Id, Title = "Book the tram 28 tickets", DueAt = DateTimeOffset.UtcNow.AddDays(3),
        }, ct);
        await scope.Usage.GrantCreditsAsync(user.Id, 100m, ct);
        for (var day = 6; day >= 0; day--)
            await scope.Usage.RecordAsync(new NewUsageEvent
            {
                UserId = user.Id, ConversationId = conversation.Id, Action = "chat", Model = day % 2 == 0 ? "gpt-4o-mini" : "gpt-4o",
                InputTokens = 300 + 40 * day, OutputTokens = 120 + 25 * day, CostUsd = 0.0001m * (7 - day), Credits = 1m,
                OccurredAt = DateTimeOffset.UtcNow.AddDays(-day),
            }, ct);

        var spaces = await client.Embeddings.ListSpacesAsync(ct);
        var space = spaces.FirstOrDefault(s => EmbeddingGenerators.ForSpace(s) is not null)
            ?? await client.Embeddings.RegisterSpaceAsync(new NewEmbeddingSpace
            {
                Name = SpaceName, Model = LocalHashingEmbeddingGenerator.DefaultModelId, Dimensions = 384,
            }, cancellationToken: ct);
        await scope.Embeddings.ReindexAsync(space, EmbeddingGenerators.ForSpace(space)!, cancellationToken: ct);
        return user.Id;
    }
}
