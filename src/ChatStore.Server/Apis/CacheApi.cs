using System.Text.Json;
using ChatStore.Cache;
using ChatStore.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace ChatStore.Server.Apis;

/// <summary>
/// The tenant's keyed JSON cache, for app servers (tenant API key only: keys are shared by the whole
/// tenant, so a user session cannot use them).
/// </summary>
public static class CacheApi
{
    /// <summary>
    /// The value (any JSON) and its expiry: timeToLiveSeconds or expiresAt (at most one; neither means
    /// never). With userId the entry belongs to that user and goes when the user does.
    /// </summary>
    public sealed record SetCacheRequest(JsonElement? Value, long? TimeToLiveSeconds, DateTimeOffset? ExpiresAt, Guid? UserId);

    public static RouteGroupBuilder MapCacheApi(this RouteGroupBuilder v1)
    {
        var api = v1.MapGroup("/cache").WithTags("Cache").RequireTenantKey().TenantProblems();

        api.MapGet("/{*key}", async (string key, Caller caller, CancellationToken ct) =>
                TypedResults.Ok(await caller.Scope.Cache.GetEntryAsync(key, ct) ?? throw new ChatStoreNotFoundException("cache entry", "(key)")))
            .NotFound()
            .WithName("GetCacheEntry").WithSummary("A cached entry by key (404 when missing or expired) (tenant API key)");

        api.MapPut("/{*key}", async (string key, SetCacheRequest body, Caller caller, CancellationToken ct) =>
            {
                TimeSpan? ttl = body.TimeToLiveSeconds is long s
                    ? s is > 0 and <= 36_500L * 86_400 ? TimeSpan.FromSeconds(s)
                        : throw new ChatStoreValidationException("timeToLiveSeconds", "range", $"must be between 1 and {36_500L * 86_400}; got {s}.")
                    : null;
                return TypedResults.Ok(await caller.Scope.Cache.SetAsync(key,
                    body.Value ?? throw new ChatStoreValidationException("value", "required", "is required (any JSON but null)."), ttl, body.ExpiresAt, body.UserId, ct));
            })
            .NotFound()
            .WithName("SetCacheEntry").WithSummary("Set a key to a JSON value, replacing any entry (tenant API key)");

        api.MapDelete("/{*key}", async (string key, Caller caller, CancellationToken ct) =>
                await caller.Scope.Cache.DeleteAsync(key, ct) ? TypedResults.NoContent() : throw new ChatStoreNotFoundException("cache entry", "(key)"))
            .NotFound()
            .WithName("DeleteCacheEntry").WithSummary("Delete a key (404 when there was no entry) (tenant API key)");
        return api;
    }
}
