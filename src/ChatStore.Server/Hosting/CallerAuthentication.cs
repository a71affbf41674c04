using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace ChatStore.Server.Hosting;

/// <summary>
/// Resolves <c>Authorization: Bearer …</c> into a <see cref="Caller"/>: the operator key, a tenant
/// API key (<c>cs_key_…</c>) or a user session token (<c>cs_sess_…</c>). Verified credentials are
/// trusted for a few seconds without another database round trip; revocation through this
/// service takes effect at once, elsewhere within that window.
/// </summary>
public sealed class CallerAuthentication(ChatStoreClient client, IOptions<ServerOptions> options)
{
    readonly ConcurrentDictionary<string, (Caller Caller, long ExpiresAt)> _cache = new(StringComparer.Ordinal);
    readonly byte[]? _operatorKey = options.Value.OperatorKey is { Length: > 0 } k ? Encoding.UTF8.GetBytes(k) : null;
    readonly long _cacheTicks = (long)(options.Value.CredentialCacheDuration.TotalSeconds * System.Diagnostics.Stopwatch.Frequency);

    /// <summary>The caller for a bearer token, or null when the token is not valid.</summary>
    public async ValueTask<Caller?> AuthenticateAsync(string token, CancellationToken cancellationToken)
    {
        if (_operatorKey is not null && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(token), _operatorKey))
            return Caller.Operator();
        var now = System.Diagnostics.Stopwatch.GetTimestamp();
        if (_cache.TryGetValue(token, out var cached) && cached.ExpiresAt > now)
            return cached.Caller;

        Caller? caller = null;
        if (token.StartsWith("cs_key_", StringComparison.Ordinal))
        {
            var key = await client.Tenants.AuthenticateApiKeyAsync(token, cancellationToken).ConfigureAwait(false);
            if (key is not null)
                caller = Caller.ForTenant(client.ForTenant(key.TenantId));
        }
        else if (token.StartsWith("cs_sess_", StringComparison.Ordinal))
        {
            var session = await client.ValidateSessionAsync(token, cancellationToken).ConfigureAwait(false);
            if (session is not null)
                caller = Caller.ForUser(client.ForTenant(session.TenantId), session.UserId, session.Id);
        }
        if (caller is null)
        {
            _cache.TryRemove(token, out _);
            return null;
        }
        if (_cache.Count > 100_000)
            _cache.Clear();
        _cache[token] = (caller, now + _cacheTicks);
        return caller;
    }

    /// <summary>Forgets every cached credential (after a revocation).</summary>
    public void Invalidate() => _cache.Clear();
}

/// <summary>
/// Puts the request's <see cref="Caller"/> into <see cref="HttpContext.Items"/> and enforces the
/// route's <see cref="CallerRequirement"/> before anything else runs (binding, body reading, rate
/// limiting): no valid credential is 401; a valid one of the wrong kind is 403 (a session on a
/// tenant-key route, a tenant key on a session route) or 401 (the operator key inside a tenant, a
/// tenant key on operator routes).
/// </summary>
internal sealed class CallerMiddleware(RequestDelegate next, CallerAuthentication authentication, IProblemDetailsService problems)
{
    public async Task InvokeAsync(HttpContext context)
    {
        Caller? caller = null;
        var header = context.Request.Headers.Authorization.ToString();
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) && header.Length > 7)
        {
            caller = await authentication.AuthenticateAsync(header[7..].Trim(), context.RequestAborted).ConfigureAwait(false);
            if (caller is not null)
                context.Items[Caller.ItemKey] = caller;
        }
        if (context.GetEndpoint()?.Metadata.GetMetadata<CallerRequirement>() is { } requirement && !requirement.Admits(caller))
        {
            var forbidden = caller is not null && requirement.Forbids(caller.Kind);
            context.Response.StatusCode = forbidden ? 403 : 401;
            if (!forbidden)
                context.Response.Headers.WWWAuthenticate = "Bearer";
            await problems.WriteAsync(new()
            {
                HttpContext = context,
                ProblemDetails = forbidden
                    ? ProblemMapping.Problem(403, "Forbidden", requirement.ForbiddenDetail)
                    : ProblemMapping.Problem(401, "Unauthorized",
                        "Send Authorization: Bearer <key>: the operator key, a tenant API key (cs_key_…) or a session token (cs_sess_…) as this route needs."),
            }).ConfigureAwait(false);
            return;
        }
        await next(context).ConfigureAwait(false);
    }
}

/// <summary>Which callers a route admits (endpoint metadata; the most specific one, the route's own, wins over its group's).</summary>
internal sealed class CallerRequirement(CallerKind[] admitted, CallerKind? forbidden, string forbiddenDetail)
{
    public static readonly CallerRequirement Tenant = new([CallerKind.Tenant, CallerKind.User], null, "");
    public static readonly CallerRequirement TenantKey = new([CallerKind.Tenant], CallerKind.User,
        "This route needs a tenant API key; a user session cannot use it.");
    public static readonly CallerRequirement Session = new([CallerKind.User], CallerKind.Tenant,
        "This route needs a user session token (cs_sess_…); a tenant API key has no session.");
    public static readonly CallerRequirement Operator = new([CallerKind.Operator], null, "");

    public string ForbiddenDetail => forbiddenDetail;

    public bool Admits(Caller? caller) => caller is not null && Array.IndexOf(admitted, caller.Kind) >= 0;

    /// <summary>A valid credential that this route refuses by design (403), rather than one that means nothing here (401).</summary>
    public bool Forbids(CallerKind kind) => kind == forbidden;
}

/// <summary>Route conventions that declare who may call a route (enforced by <see cref="CallerMiddleware"/>), with their OpenAPI error responses.</summary>
internal static class Require
{
    /// <summary>A tenant API key or a user session.</summary>
    public static TBuilder RequireTenant<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(CallerRequirement.Tenant).ProducesProblem(StatusCodes.Status401Unauthorized);

    /// <summary>A tenant API key (a user session gets 403).</summary>
    public static TBuilder RequireTenantKey<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(CallerRequirement.TenantKey).ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status403Forbidden);

    /// <summary>A user session (a tenant API key gets 403).</summary>
    public static TBuilder RequireSession<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(CallerRequirement.Session).ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status403Forbidden);

    /// <summary>The operator key.</summary>
    public static TBuilder RequireOperator<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(CallerRequirement.Operator).ProducesProblem(StatusCodes.Status401Unauthorized);
}
