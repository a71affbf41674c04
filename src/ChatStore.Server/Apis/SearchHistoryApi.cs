using ChatStore.SearchHistory;
using ChatStore.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace ChatStore.Server.Apis;

/// <summary>The searches users ran. A session caller reaches only its own.</summary>
public static class SearchHistoryApi
{
    /// <summary>A search: the query text, the mode (fts, vector, hybrid) and how many results it found.</summary>
    public sealed record RecordSearchRequest(Guid? UserId, string? Query, string? Mode, int? ResultCount);

    public sealed record SearchHistoryQuery(Guid? UserId, int? Limit, string? Cursor);

    public sealed record ClearSearchHistoryQuery(Guid? UserId);

    public sealed record Cleared(int Deleted);

    public static RouteGroupBuilder MapSearchHistoryApi(this RouteGroupBuilder v1)
    {
        var api = v1.MapGroup("/search-history").WithTags("Search history").RequireTenant().TenantProblems();

        api.MapPost("/", async (RecordSearchRequest body, Caller caller, CancellationToken ct) =>
            {
                var entry = await caller.Scope.SearchHistory.RecordAsync(caller.ActAs(body.UserId), body.Query!, body.Mode ?? SearchMode.FullText, body.ResultCount ?? 0, ct);
                return TypedResults.Created("/v1/search-history", entry);
            })
            .NotFound().Idempotent()
            .WithName("RecordSearch").WithSummary("Record a search a user ran")
            .WithDescription(ApiMetadata.UserIdRule);

        api.MapGet("/", async ([AsParameters] SearchHistoryQuery query, Caller caller, CancellationToken ct) =>
            {
                var user = caller.ActAs(query.UserId);
                var page = await caller.Scope.SearchHistory.ListAsync(user, query.Limit ?? 50, query.Cursor, ct);
                return TypedResults.Ok(await Access.ListOfUserAsync(caller, user, page, page.Items.Count, ct));
            })
            .NotFound()
            .WithName("ListSearchHistory").WithSummary("A user's searches, newest first, keyset-paginated")
            .WithDescription(ApiMetadata.UserIdRule);

        api.MapDelete("/", async ([AsParameters] ClearSearchHistoryQuery query, Caller caller, CancellationToken ct) =>
            {
                var user = caller.ActAs(query.UserId);
                var deleted = await caller.Scope.SearchHistory.ClearAsync(user, ct);
                return TypedResults.Ok(await Access.ListOfUserAsync(caller, user, new Cleared(deleted), deleted, ct));
            })
            .NotFound()
            .WithName("ClearSearchHistory").WithSummary("Delete all of a user's searches; returns how many there were")
            .WithDescription(ApiMetadata.UserIdRule);
        return api;
    }
}
