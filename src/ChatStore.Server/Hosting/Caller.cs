using System.Reflection;
using Microsoft.AspNetCore.Http;

namespace ChatStore.Server.Hosting;

/// <summary>Who is calling: the operator, a tenant (API key) or one user of a tenant (session token).</summary>
public enum CallerKind
{
    /// <summary>The operator key: manages tenants and API keys, nothing inside a tenant.</summary>
    Operator,
    /// <summary>A tenant API key: acts for any user of its tenant.</summary>
    Tenant,
    /// <summary>A user session token: acts only as that user.</summary>
    User,
}

/// <summary>The authenticated caller of a request. Bound into endpoints as a parameter.</summary>
public sealed class Caller
{
    internal const string ItemKey = "chatstore.caller";

    Caller(CallerKind kind, TenantScope? scope, Guid? userId, Guid? sessionId)
    {
        Kind = kind;
        ScopeOrNull = scope;
        UserId = userId;
        SessionId = sessionId;
    }

    internal static Caller Operator() => new(CallerKind.Operator, null, null, null);

    internal static Caller ForTenant(TenantScope scope) => new(CallerKind.Tenant, scope, null, null);

    internal static Caller ForUser(TenantScope scope, Guid userId, Guid sessionId) => new(CallerKind.User, scope, userId, sessionId);

    /// <summary>The kind of caller.</summary>
    public CallerKind Kind { get; }

    /// <summary>The session user, for <see cref="CallerKind.User"/>.</summary>
    public Guid? UserId { get; }

    /// <summary>The session the token authenticates, for <see cref="CallerKind.User"/>.</summary>
    public Guid? SessionId { get; }

    /// <summary>Whether the caller is one user's session (and so reaches only that user's data).</summary>
    public bool IsUser => Kind == CallerKind.User;

    TenantScope? ScopeOrNull { get; }

    /// <summary>The caller's tenant.</summary>
    public TenantScope Scope => ScopeOrNull ?? throw new InvalidOperationException("The operator has no tenant scope.");

    /// <summary>The tenant id, or null for the operator.</summary>
    public Guid? TenantId => ScopeOrNull?.TenantId;

    /// <summary>
    /// The user this request acts for. A session caller acts only as itself: naming another user
    /// is "not found", never "forbidden". A tenant key must name the user.
    /// </summary>
    public Guid ActAs(Guid? requestedUserId, string field = "userId")
    {
        if (Kind == CallerKind.User)
        {
            if (requestedUserId is Guid other && other != UserId)
                throw new ChatStoreNotFoundException("user", other);
            return UserId!.Value;
        }
        return requestedUserId is Guid id && id != Guid.Empty
            ? id
            : throw new ChatStoreValidationException(field, "required", "is required with a tenant API key (a session acts as its own user).");
    }

    /// <summary>For resources found by id: a session caller may only reach rows it owns.</summary>
    public void EnsureOwns(Guid ownerUserId, string entity, object id)
    {
        if (Kind == CallerKind.User && ownerUserId != UserId)
            throw new ChatStoreNotFoundException(entity, id);
    }

    /// <summary>Conversations (and share links) this caller reaches: a session caller only its own.</summary>
    public Conversations.ConversationStore Conversations =>
        IsUser ? Scope.Conversations.ForUser(UserId!.Value) : Scope.Conversations;

    /// <summary>Subjects this caller reaches: a session caller only its own.</summary>
    public Subjects.SubjectStore Subjects => IsUser ? Scope.Subjects.ForUser(UserId!.Value) : Scope.Subjects;

    /// <summary>Login sessions this caller reaches: a session caller only its own user's.</summary>
    public Sessions.SessionStore Sessions => IsUser ? Scope.Sessions.ForUser(UserId!.Value) : Scope.Sessions;

    /// <summary>Minimal API binding: the caller the authentication middleware resolved.</summary>
    public static ValueTask<Caller?> BindAsync(HttpContext context, ParameterInfo parameter) =>
        ValueTask.FromResult(context.Items[ItemKey] as Caller);
}
