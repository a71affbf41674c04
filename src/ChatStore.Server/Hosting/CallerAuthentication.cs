using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
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
                caller = Caller.ForUser(client.ForTenant(session.TenantId), session.UserId);
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

/// <summary>Puts the request's <see cref="Caller"/> into <see cref="HttpContext.Items"/>; routes that need one reject requests without it.</summary>
internal sealed class CallerMiddleware(RequestDelegate next, CallerAuthentication authentication)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var header = context.Request.Headers.Authorization.ToString();
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) && header.Length > 7)
        {
            var caller = await authentication.AuthenticateAsync(header[7..].Trim(), context.RequestAborted).ConfigureAwait(false);
            if (caller is not null)
                context.Items[Caller.ItemKey] = caller;
        }
        await next(context).ConfigureAwait(false);
    }
}

/// <summary>Endpoint filters that admit only some callers.</summary>
internal static class Require
{
    /// <summary>A tenant API key or a user session.</summary>
    public static async ValueTask<object?> Tenant(EndpointFilterInvocationContext context, EndpointFilterDelegate next) =>
        context.HttpContext.Items[Caller.ItemKey] is Caller { Kind: CallerKind.Tenant or CallerKind.User }
            ? await next(context).ConfigureAwait(false)
            : Unauthorized(context.HttpContext);

    /// <summary>A tenant API key (not a user session).</summary>
    public static async ValueTask<object?> TenantKey(EndpointFilterInvocationContext context, EndpointFilterDelegate next) =>
        context.HttpContext.Items[Caller.ItemKey] switch
        {
            Caller { Kind: CallerKind.Tenant } => await next(context).ConfigureAwait(false),
            Caller { Kind: CallerKind.User } => TypedResults.Problem(statusCode: 403, title: "Forbidden", detail: "This route needs a tenant API key; a user session cannot use it."),
            _ => Unauthorized(context.HttpContext),
        };

    /// <summary>The operator key.</summary>
    public static async ValueTask<object?> Operator(EndpointFilterInvocationContext context, EndpointFilterDelegate next) =>
        context.HttpContext.Items[Caller.ItemKey] is Caller { Kind: CallerKind.Operator }
            ? await next(context).ConfigureAwait(false)
            : Unauthorized(context.HttpContext);

    static IResult Unauthorized(HttpContext context)
    {
        context.Response.Headers.WWWAuthenticate = "Bearer";
        return TypedResults.Problem(statusCode: 401, title: "Unauthorized",
            detail: "Send Authorization: Bearer <key>: the operator key, a tenant API key (cs_key_…) or a session token (cs_sess_…).");
    }
}
