using System.Buffers.Text;
using ChatStore.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace ChatStore.Server.Apis;

/// <summary>
/// Ownership checks for stores without a per-user restriction: a session caller reaches only rows of
/// its own user; anything else is "not found", exactly like another tenant's id. A tenant API key
/// skips the check (no extra round trip).
/// </summary>
internal static class Access
{
    /// <summary>
    /// Lists filter by user and so come back empty for another tenant's user; only then (no cost on a
    /// page with items) a tenant key's user id is looked up, so that a foreign id is 404 like everywhere else.
    /// </summary>
    public static async ValueTask<T> ListOfUserAsync<T>(Caller caller, Guid userId, T list, int count, CancellationToken ct)
    {
        if (count == 0 && !caller.IsUser)
            await caller.Scope.Users.GetAsync(userId, ct);
        return list;
    }

    /// <summary>For a session caller: the message exists (soft-deleted or not) and is its user's.</summary>
    public static async ValueTask MessageAsync(Caller caller, Guid messageId, CancellationToken ct, bool includeDeleted = false)
    {
        if (!caller.IsUser) return;
        var message = includeDeleted
            ? await caller.Scope.Messages.GetIncludingDeletedAsync(messageId, ct)
            : await caller.Scope.Messages.GetAsync(messageId, ct);
        caller.EnsureOwns(message.UserId, "message", messageId);
    }

    /// <summary>For a session caller: the conversation exists and is its user's.</summary>
    public static async ValueTask ConversationAsync(Caller caller, Guid conversationId, CancellationToken ct)
    {
        if (caller.IsUser)
            await caller.Conversations.GetAsync(conversationId, ct);
    }

    /// <summary>For a session caller: the memory exists and is its user's.</summary>
    public static async ValueTask MemoryAsync(Caller caller, Guid memoryId, CancellationToken ct)
    {
        if (!caller.IsUser) return;
        var memory = await caller.Scope.Memories.GetAsync(memoryId, ct);
        caller.EnsureOwns(memory.UserId, "memory", memoryId);
    }

    /// <summary>For a session caller: the document exists and is its user's.</summary>
    public static async ValueTask DocumentAsync(Caller caller, Guid documentId, CancellationToken ct)
    {
        if (!caller.IsUser) return;
        var document = await caller.Scope.Documents.GetAsync(documentId, ct);
        caller.EnsureOwns(document.UserId, "document", documentId);
    }

    /// <summary>For a session caller: the reminder exists and is its user's.</summary>
    public static async ValueTask ReminderAsync(Caller caller, Guid reminderId, CancellationToken ct)
    {
        if (!caller.IsUser) return;
        var reminder = await caller.Scope.Reminders.GetAsync(reminderId, ct);
        caller.EnsureOwns(reminder.UserId, "reminder", reminderId);
    }
}

/// <summary>
/// Pages over lists the library returns whole (a user's active sessions, a conversation's share links,
/// a memory's versions and sources, a message's documents): the same <c>limit</c>/<c>cursor</c>
/// contract as every other list. The cursor is the last item's id; the next page starts after it.
/// </summary>
internal static class Slice
{
    /// <summary>The default and the largest page of such a list.</summary>
    public const int DefaultLimit = 50, MaxLimit = 500;

    /// <summary>A whole, bounded list (top-k hits, a tenant's keys) in the envelope of every list, with no further page.</summary>
    public static Page<T> Whole<T>(IReadOnlyList<T> items) => new(items, null);

    public static Page<T> Of<T>(IReadOnlyList<T> all, int? limit, string? cursor, Func<T, Guid> id)
    {
        var size = limit ?? DefaultLimit;
        if (size < 1 || size > MaxLimit)
            throw new ChatStoreValidationException("limit", "range", $"must be between 1 and {MaxLimit}; got {size}.");
        var start = 0;
        if (cursor is not null)
        {
            Span<byte> bytes = stackalloc byte[16];
            if (cursor.Length != 22 || !Base64Url.TryDecodeFromChars(cursor, bytes, out var written) || written != 16)
                throw InvalidCursor();
            var after = new Guid(bytes, bigEndian: true);
            start = -1;
            for (var i = 0; i < all.Count && start < 0; i++)
                if (id(all[i]) == after) start = i + 1;
            if (start < 0)
                throw InvalidCursor();
        }
        var count = Math.Min(size, all.Count - start);
        var items = new T[count];
        for (var i = 0; i < count; i++) items[i] = all[start + i];
        return new Page<T>(items, start + count < all.Count ? Encode(id(items[^1])) : null);
    }

    static string Encode(Guid id)
    {
        Span<byte> bytes = stackalloc byte[16];
        id.TryWriteBytes(bytes, bigEndian: true, out _);
        return Base64Url.EncodeToString(bytes);
    }

    static ChatStoreValidationException InvalidCursor() =>
        new("cursor", "cursor", "is not a cursor this list returned (or its item is gone); start again without a cursor.");
}

/// <summary>OpenAPI response metadata shared by the routes.</summary>
internal static class ApiMetadata
{
    /// <summary>The errors every tenant route can answer: bad input, too large, rate limited, timed out.</summary>
    public static RouteGroupBuilder TenantProblems(this RouteGroupBuilder group) => group
        .ProducesProblem(StatusCodes.Status400BadRequest)
        .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
        .ProducesProblem(StatusCodes.Status429TooManyRequests)
        .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

    /// <summary>Routes that need a tenant API key: a session caller gets 403.</summary>
    public static RouteHandlerBuilder TenantKeyOnly(this RouteHandlerBuilder route) => route.RequireTenantKey();

    /// <summary>Routes whose response holds a secret: kept for idempotent replay only encrypted (see <see cref="SecretResponse"/>).</summary>
    public static RouteHandlerBuilder ReturnsSecret(this RouteHandlerBuilder route) => route.WithMetadata(SecretResponse.Instance);

    /// <summary>Routes with an id in the path: unknown, another tenant's or another user's → 404.</summary>
    public static RouteHandlerBuilder NotFound(this RouteHandlerBuilder route) => route.ProducesProblem(StatusCodes.Status404NotFound);

    /// <summary>Routes that can conflict with the current state (409).</summary>
    public static RouteHandlerBuilder Conflict(this RouteHandlerBuilder route) => route.ProducesProblem(StatusCodes.Status409Conflict);

    /// <summary>Creating POST routes that honour <c>Idempotency-Key</c>: 409 while the first runs, 422 for another body.</summary>
    public static RouteHandlerBuilder Idempotent(this RouteHandlerBuilder route) => route
        .ProducesProblem(StatusCodes.Status409Conflict)
        .ProducesProblem(StatusCodes.Status422UnprocessableEntity);

    /// <summary>How a route treats <c>userId</c>, for the OpenAPI description.</summary>
    public const string UserIdRule =
        "userId: required with a tenant API key (any user of the tenant); a session acts only as its own user — omit it, or give its own id (another user's id is 404).";
}
