using ChatStore.Server.Hosting;
using ChatStore.Sessions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace ChatStore.Server.Apis;

/// <summary>
/// Login sessions: an app's server creates one for a user with its tenant API key and hands the token
/// (<c>cs_sess_…</c>) to the user's client, which then calls ChatStore as that user only.
/// </summary>
public static class SessionsApi
{
    /// <summary>A new session. The client's IP address and user agent are the end user's, passed on by the app.</summary>
    public sealed record CreateSessionRequest(Guid? UserId, int? LifetimeSeconds, string? IpAddress, string? UserAgent);

    public sealed record ValidateSessionRequest(string? Token);

    /// <summary>Revoke every active session of a user; with <c>keepCurrent</c> a session caller keeps its own.</summary>
    public sealed record RevokeAllRequest(Guid? UserId, bool? KeepCurrent);

    public sealed record RevokedCount(int Revoked);

    public sealed record SessionListQuery(Guid? UserId, int? Limit, string? Cursor);

    /// <summary>The default lifetime of a session: 30 days.</summary>
    const int DefaultLifetimeSeconds = 30 * 24 * 3600;

    public static RouteGroupBuilder MapSessionsApi(this RouteGroupBuilder v1)
    {
        var api = v1.MapGroup("/sessions").WithTags("Sessions").RequireTenant().TenantProblems();

        api.MapPost("/", async (CreateSessionRequest body, Caller caller, CancellationToken ct) =>
            {
                var seconds = body.LifetimeSeconds ?? DefaultLifetimeSeconds;
                var min = (int)SessionStore.MinLifetime.TotalSeconds;
                var max = (int)SessionStore.MaxLifetime.TotalSeconds;
                if (seconds < min || seconds > max)
                    throw new ChatStoreValidationException("lifetimeSeconds", "range", $"must be between {min} and {max}; got {seconds}.");
                var created = await caller.Scope.Sessions.CreateAsync(caller.ActAs(body.UserId), TimeSpan.FromSeconds(seconds), body.IpAddress, body.UserAgent, ct);
                return TypedResults.Created($"/v1/sessions/{created.Session.Id}", created);
            })
            .TenantKeyOnly().NotFound().ReturnsSecret()
            .WithName("CreateSession").WithSummary("Create a login session for a user; the token is returned only in this response (tenant API key)")
            .WithDescription("lifetimeSeconds defaults to 30 days (60 s to 365 days). ipAddress and userAgent describe the end user's client. Idempotency-Key is ignored: the token is never stored for replay. " + ApiMetadata.UserIdRule);

        api.MapPost("/validate", async (ValidateSessionRequest body, Caller caller, CancellationToken ct) =>
                await caller.Scope.Sessions.ValidateAsync(body.Token ?? "", ct) is Session session
                    ? TypedResults.Ok(session)
                    : throw new ChatStoreNotFoundException("session", "(token)"))
            .TenantKeyOnly().NotFound()
            .WithName("ValidateSession").WithSummary("Check a user's session token: the session, or 404 when it is unknown, expired or revoked (tenant API key)");

        api.MapGet("/me", async (HttpContext context, CancellationToken ct) =>
            {
                var token = context.Request.Headers.Authorization.ToString()[7..].Trim();
                var caller = (Caller)context.Items[Caller.ItemKey]!;
                return await caller.Scope.Sessions.ValidateAsync(token, ct) is Session session
                    ? TypedResults.Ok(session)
                    : throw new ChatStoreNotFoundException("session", caller.SessionId!);
            })
            .RequireSession().NotFound()
            .WithName("GetCurrentSession").WithSummary("The calling session and its user (session token)");

        api.MapGet("/", async ([AsParameters] SessionListQuery query, Caller caller, CancellationToken ct) =>
            {
                var user = caller.ActAs(query.UserId);
                var sessions = await caller.Sessions.ListForUserAsync(user, ct);
                return TypedResults.Ok(await Access.ListOfUserAsync(caller, user, Slice.Of(sessions, query.Limit, query.Cursor, s => s.Id), sessions.Count, ct));
            })
            .NotFound()
            .WithName("ListSessions").WithSummary("A user's active sessions, most recently used first")
            .WithDescription(ApiMetadata.UserIdRule);

        api.MapDelete("/{sessionId:guid}", async (Guid sessionId, Caller caller, CallerAuthentication auth, CancellationToken ct) =>
            {
                await caller.Sessions.RevokeAsync(sessionId, ct);
                auth.Invalidate();
                return TypedResults.NoContent();
            })
            .NotFound()
            .WithName("RevokeSession").WithSummary("Revoke a session (sign out); a session caller may revoke only its own user's sessions");

        api.MapPost("/revoke-all", async (RevokeAllRequest body, Caller caller, CallerAuthentication auth, CancellationToken ct) =>
            {
                var except = body.KeepCurrent == true ? caller.SessionId : null;
                var user = caller.ActAs(body.UserId);
                var revoked = await caller.Sessions.RevokeAllForUserAsync(user, except, ct);
                auth.Invalidate();
                return TypedResults.Ok(await Access.ListOfUserAsync(caller, user, new RevokedCount(revoked), revoked, ct));
            })
            .NotFound()
            .WithName("RevokeAllSessions").WithSummary("Sign a user out everywhere (keepCurrent: a session caller keeps its own session)")
            .WithDescription(ApiMetadata.UserIdRule);
        return api;
    }
}
