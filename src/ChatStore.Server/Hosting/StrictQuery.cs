using System.Collections.Concurrent;
using System.Collections.Frozen;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.ApiExplorer;
using Microsoft.AspNetCore.Mvc.ModelBinding;
using Microsoft.AspNetCore.Routing;

namespace ChatStore.Server.Hosting;

/// <summary>
/// Refuses a query parameter the route does not declare with a 400 that names it, so that a misspelt or
/// unsupported filter (<c>?organizationId=</c>) is an error instead of a silently ignored one. The declared
/// names are the ones the OpenAPI document lists for the route (case-insensitive, as binding is).
/// </summary>
internal sealed class StrictQuery(RequestDelegate next, IApiDescriptionGroupCollectionProvider descriptions)
{
    readonly ConcurrentDictionary<Endpoint, FrozenSet<string>?> _allowed = new();
    Dictionary<(string Method, string Route), FrozenSet<string>>? _byRoute;

    public Task InvokeAsync(HttpContext context)
    {
        if (context.Request.Query.Count == 0 || context.GetEndpoint() is not RouteEndpoint endpoint)
            return next(context);
        var allowed = _allowed.GetOrAdd(endpoint, e => Declared((RouteEndpoint)e));
        if (allowed is null)
            return next(context);
        foreach (var key in context.Request.Query.Keys)
        {
            if (!allowed.Contains(key))
            {
                var known = allowed.Count == 0 ? "it takes no query parameters" : $"it takes {string.Join(", ", allowed.Order(StringComparer.Ordinal))}";
                throw new ChatStoreValidationException(key, "unknown_parameter",
                    $"is not a query parameter of {context.Request.Method} {endpoint.RoutePattern.RawText}: {known}. Remove it or check its spelling.");
            }
        }
        return next(context);
    }

    // Null for a route the document does not describe (the OpenAPI document itself): it is not checked.
    FrozenSet<string>? Declared(RouteEndpoint endpoint)
    {
        _byRoute ??= descriptions.ApiDescriptionGroups.Items
            .SelectMany(g => g.Items)
            .Where(d => d.HttpMethod is not null && d.RelativePath is not null)
            .GroupBy(d => (d.HttpMethod!.ToUpperInvariant(), Normalize(d.RelativePath!)))
            .ToDictionary(g => g.Key, g => g.SelectMany(d => d.ParameterDescriptions)
                .Where(p => p.Source == BindingSource.Query)
                .Select(p => p.Name)
                .ToFrozenSet(StringComparer.OrdinalIgnoreCase));
        var methods = endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? [];
        foreach (var method in methods)
        {
            if (_byRoute.TryGetValue((method.ToUpperInvariant(), Normalize(endpoint.RoutePattern.RawText ?? "")), out var names))
                return names;
        }
        return null;
    }

    // ApiExplorer drops route constraints and the leading slash; the endpoint's pattern keeps them.
    static string Normalize(string route)
    {
        var trimmed = route.Trim('/');
        var builder = new System.Text.StringBuilder(trimmed.Length);
        var inParameter = false;
        var skipping = false;
        foreach (var c in trimmed)
        {
            if (c == '{') { inParameter = true; skipping = false; }
            else if (c == '}') { inParameter = false; skipping = false; }
            else if (inParameter && (c == ':' || c == '=' || c == '?')) { skipping = true; continue; }
            if (!skipping) builder.Append(c);
        }
        return builder.ToString().Replace("//", "/", StringComparison.Ordinal);
    }
}
