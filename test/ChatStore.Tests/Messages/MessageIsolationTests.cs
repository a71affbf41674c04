using ChatStore.Messages;

namespace ChatStore.Tests.Messages;

public sealed class MessageIsolationTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Another_tenant_cannot_read_append_change_or_judge_messages(bool bypassRowLevelSecurity)
    {
        var a = await MessageTestData.NewAsync(bypassRowLevelSecurity: bypassRowLevelSecurity);
        var b = await MessageTestData.NewAsync(bypassRowLevelSecurity: bypassRowLevelSecurity);
        var doc = await MessageTestData.NewDocumentAsync(a.TenantId, a.User.Id);
        var m = await a.Scope.Messages.AppendAsync(a.ConversationId, new NewMessage { Role = MessageRole.User, Content = "secret", DocumentIds = [doc] });
        var s = await a.Scope.Messages.AppendAsync(a.ConversationId, new NewMessage { Role = MessageRole.Assistant, Status = MessageStatus.Streaming, Content = "..." });
        var other = b.Scope.Messages;
        var attempts = new (string Entity, Func<Task> Act)[]
        {
            ("message", () => other.GetAsync(m.Id)),
            ("conversation", () => other.HistoryAsync(a.ConversationId)),
            ("conversation", () => other.AppendAsync(a.ConversationId, new NewMessage { Role = MessageRole.User, Content = "intrusion" })),
            ("message", () => other.RegenerateAsync(m.Id, new NewMessage { Role = MessageRole.Assistant })),
            ("message", () => other.EditAsync(m.Id, "changed")),
            ("message", () => other.DeleteAsync(m.Id)),
            ("message", () => other.RestoreAsync(m.Id)),
            ("message", () => other.AppendChunkAsync(s.Id, "x")),
            ("message", () => other.CompleteAsync(s.Id)),
            ("message", () => other.FailAsync(s.Id, "x")),
            ("message", () => other.SetFeedbackAsync(m.Id, b.User.Id, new NewFeedback { Rating = FeedbackRating.Dislike })),
            ("message", () => other.AddCorrectionAsync(m.Id, b.User.Id, "x")),
            ("message", () => other.ListFeedbackAsync(m.Id)),
            ("message", () => other.ListCorrectionsAsync(m.Id)),
            ("message", () => other.LinkDocumentsAsync(m.Id, [])),
            ("message", () => other.ListDocumentIdsAsync(m.Id)),
            // B's own conversation cannot take A's message as parent nor A's document.
            ("message", () => other.AppendAsync(b.ConversationId, new NewMessage { Role = MessageRole.User, ParentId = m.Id })),
            ("document", () => other.AppendAsync(b.ConversationId, new NewMessage { Role = MessageRole.User, DocumentIds = [doc] })),
        };
        foreach (var (entity, act) in attempts)
            Assert.Equal(entity, (await Assert.ThrowsAsync<ChatStoreNotFoundException>(act)).Entity);

        var after = await a.Scope.Messages.HistoryAsync(a.ConversationId);
        Assert.Equal([("secret", MessageStatus.Complete), ("...", MessageStatus.Streaming)], after.Messages.Select(x => (x.Content, x.Status)));
        Assert.Equal((2L, 2), await MessageTestData.CountersAsync(a.ConversationId));
        Assert.Equal((0L, 0), await MessageTestData.CountersAsync(b.ConversationId));
        Assert.Equal(0L, await MessageTestData.CountAsync("messages", b.TenantId));
        Assert.Equal(0L, await MessageTestData.CountAsync("message_feedback", a.TenantId) + await MessageTestData.CountAsync("message_feedback", b.TenantId));
        Assert.Equal(1L, await MessageTestData.CountAsync("message_documents", a.TenantId));
        Assert.Equal(0L, await MessageTestData.CountAsync("message_documents", b.TenantId));
    }
}
