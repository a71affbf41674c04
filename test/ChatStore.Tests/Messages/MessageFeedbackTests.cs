using ChatStore.Messages;

namespace ChatStore.Tests.Messages;

public sealed class MessageFeedbackTests
{
    [Fact]
    public async Task Feedback_is_one_per_user_and_message_and_can_be_changed_and_removed()
    {
        var f = await MessageTestData.NewAsync();
        var m = await f.Scope.Messages.AppendAsync(f.ConversationId, new NewMessage { Role = MessageRole.Assistant, Content = "answer" });
        var first = await f.Scope.Messages.SetFeedbackAsync(m.Id, f.User.Id, new NewFeedback { Rating = FeedbackRating.Like, Comment = "great 👍" });
        Assert.Equal((FeedbackRating.Like, (int?)null, "great 👍"), (first.Rating, first.Score, first.Comment));

        var changed = await f.Scope.Messages.SetFeedbackAsync(m.Id, f.User.Id, new NewFeedback { Rating = FeedbackRating.Dislike, Score = 3 });
        Assert.Equal((first.Id, FeedbackRating.Dislike, (int?)3, (string?)null), (changed.Id, changed.Rating, changed.Score, changed.Comment));
        Assert.True(changed.UpdatedAt >= first.UpdatedAt);
        var scoreOnly = await f.Scope.Messages.SetFeedbackAsync(m.Id, f.User.Id, new NewFeedback { Score = 10 });
        Assert.Equal(((string?)null, (int?)10), (scoreOnly.Rating, scoreOnly.Score));
        Assert.Equal(1L, await MessageTestData.CountAsync("message_feedback", f.TenantId));
        Assert.Equal(10, (await f.Scope.Messages.GetFeedbackAsync(m.Id, f.User.Id)).Score);

        await f.Scope.Messages.DeleteFeedbackAsync(m.Id, f.User.Id);
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => f.Scope.Messages.GetFeedbackAsync(m.Id, f.User.Id));
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => f.Scope.Messages.DeleteFeedbackAsync(m.Id, f.User.Id));
        Assert.Equal(0L, await MessageTestData.CountAsync("message_feedback", f.TenantId));
    }

    [Fact]
    public async Task Feedback_of_many_users_pages_by_user()
    {
        var f = await MessageTestData.NewAsync();
        var m = await f.Scope.Messages.AppendAsync(f.ConversationId, new NewMessage { Role = MessageRole.Assistant, Content = "answer" });
        var users = new List<Guid>();
        for (var i = 0; i < 5; i++)
        {
            var u = await TestStore.NewUserAsync(f.Scope);
            users.Add(u.Id);
            await f.Scope.Messages.SetFeedbackAsync(m.Id, u.Id, new NewFeedback { Score = i + 1 });
        }
        var seen = new List<Guid>();
        string? cursor = null;
        do
        {
            var page = await f.Scope.Messages.ListFeedbackAsync(m.Id, limit: 2, cursor: cursor);
            Assert.True(page.Items.Count <= 2);
            seen.AddRange(page.Items.Select(x => x.UserId));
            cursor = page.NextCursor;
        } while (cursor is not null);
        Assert.Equal(users.Order(), seen);
        var other = await f.Scope.Messages.AppendAsync(f.ConversationId, new NewMessage { Role = MessageRole.User, Content = "no feedback" });
        Assert.Empty((await f.Scope.Messages.ListFeedbackAsync(other.Id)).Items);
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => f.Scope.Messages.ListFeedbackAsync(Guid.NewGuid()));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Feedback_from_a_user_of_another_tenant_or_on_an_unknown_message_is_not_found(bool bypassRowLevelSecurity)
    {
        var f = await MessageTestData.NewAsync(bypassRowLevelSecurity: bypassRowLevelSecurity);
        var other = await MessageTestData.NewAsync(bypassRowLevelSecurity: bypassRowLevelSecurity);
        var m = await f.Scope.Messages.AppendAsync(f.ConversationId, new NewMessage { Role = MessageRole.Assistant, Content = "answer" });
        var error = await Assert.ThrowsAsync<ChatStoreNotFoundException>(() =>
            f.Scope.Messages.SetFeedbackAsync(m.Id, other.User.Id, new NewFeedback { Rating = FeedbackRating.Like }));
        Assert.Equal("user", error.Entity);
        error = await Assert.ThrowsAsync<ChatStoreNotFoundException>(() =>
            f.Scope.Messages.SetFeedbackAsync(Guid.NewGuid(), f.User.Id, new NewFeedback { Rating = FeedbackRating.Like }));
        Assert.Equal("message", error.Entity);
        error = await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => f.Scope.Messages.AddCorrectionAsync(m.Id, other.User.Id, "x"));
        Assert.Equal("user", error.Entity);
        Assert.Equal(0L, await MessageTestData.CountAsync("message_feedback", f.TenantId));
        Assert.Equal(0L, await MessageTestData.CountAsync("message_feedback", other.TenantId));
        Assert.Equal(0L, await MessageTestData.CountAsync("message_corrections", f.TenantId));
    }

    [Fact]
    public async Task Corrections_keep_the_content_they_correct_and_page_by_id()
    {
        var f = await MessageTestData.NewAsync();
        var m = await f.Scope.Messages.AppendAsync(f.ConversationId, new NewMessage { Role = MessageRole.Assistant, Content = "Paris is in Italy." });
        var first = await f.Scope.Messages.AddCorrectionAsync(m.Id, f.User.Id, "Paris is in France.", "wrong country");
        Assert.Equal(("Paris is in Italy.", "Paris is in France.", "wrong country"), (first.OriginalContent, first.CorrectedContent, first.Reason));
        await f.Scope.Messages.EditAsync(m.Id, "Paris is in France.");
        var second = await f.Scope.Messages.AddCorrectionAsync(m.Id, f.User.Id, "Paris is the capital of France.");
        Assert.Equal(("Paris is in France.", (string?)null), (second.OriginalContent, second.Reason));

        var seen = new List<Guid>();
        string? cursor = null;
        do
        {
            var page = await f.Scope.Messages.ListCorrectionsAsync(m.Id, limit: 1, cursor: cursor);
            seen.AddRange(page.Items.Select(c => c.Id));
            cursor = page.NextCursor;
        } while (cursor is not null);
        Assert.Equal(new[] { first.Id, second.Id }.Order(), seen);
    }

    [Fact]
    public async Task Documents_are_linked_on_append_or_later_only_for_the_conversations_user()
    {
        var f = await MessageTestData.NewAsync();
        var doc1 = await MessageTestData.NewDocumentAsync(f.TenantId, f.User.Id);
        var doc2 = await MessageTestData.NewDocumentAsync(f.TenantId, f.User.Id);
        var m = await f.Scope.Messages.AppendAsync(f.ConversationId, new NewMessage { Role = MessageRole.User, Content = "see attached", DocumentIds = [doc1, doc1] });
        Assert.Equal([doc1], await f.Scope.Messages.ListDocumentIdsAsync(m.Id));
        await f.Scope.Messages.LinkDocumentsAsync(m.Id, [doc1, doc2]);
        await f.Scope.Messages.LinkDocumentsAsync(m.Id, [doc2]);
        Assert.Equal(new[] { doc1, doc2 }.Order(), await f.Scope.Messages.ListDocumentIdsAsync(m.Id));

        var stranger = await TestStore.NewUserAsync(f.Scope);
        var strangersDoc = await MessageTestData.NewDocumentAsync(f.TenantId, stranger.Id);
        var error = await Assert.ThrowsAsync<ChatStoreNotFoundException>(() =>
            f.Scope.Messages.AppendAsync(f.ConversationId, new NewMessage { Role = MessageRole.User, DocumentIds = [doc1, strangersDoc] }));
        Assert.Equal(("document", strangersDoc.ToString()), (error.Entity, error.Id));
        var unknown = Guid.NewGuid();
        error = await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => f.Scope.Messages.LinkDocumentsAsync(m.Id, [unknown, doc1]));
        Assert.Equal(("document", unknown.ToString()), (error.Entity, error.Id));
        Assert.Equal(2L, await MessageTestData.CountAsync("message_documents", f.TenantId));
        Assert.Equal((1L, 1), await MessageTestData.CountersAsync(f.ConversationId));
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => f.Scope.Messages.ListDocumentIdsAsync(Guid.NewGuid()));
    }
}
