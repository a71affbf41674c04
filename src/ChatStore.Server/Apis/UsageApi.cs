using System.Text.Json;
using ChatStore.Server.Hosting;
using ChatStore.Usage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace ChatStore.Server.Apis;

/// <summary>Usage events (tokens, credits and cost per action) and their totals. A session caller reaches only its own.</summary>
public static class UsageApi
{
    /// <summary>
    /// Client-settable fields of a usage event. occurredAt (when it happened; now by default) is honoured
    /// only for a tenant API key; a session's events happen now.
    /// </summary>
    public sealed record RecordUsageRequest(
        Guid? UserId, Guid? ConversationId, Guid? MessageId, string? Action, string? Model, int? InputTokens, int? OutputTokens,
        decimal? Credits, decimal? CostUsd, JsonElement? Metadata, DateTimeOffset? OccurredAt);

    /// <summary>Totals over [from, to), optionally of one user, grouped by any of user, model, day (comma-separated).</summary>
    public sealed record UsageTotalsRequest(Guid? UserId, DateTimeOffset From, DateTimeOffset To, string? GroupBy);

    public static RouteGroupBuilder MapUsageApi(this RouteGroupBuilder v1)
    {
        var api = v1.MapGroup("/usage").WithTags("Usage").RequireTenant().TenantProblems();

        api.MapPost("/", async (RecordUsageRequest body, Caller caller, CancellationToken ct) =>
            {
                var usage = await caller.Scope.Usage.RecordAsync(ToEvent(caller, body), ct);
                return TypedResults.Created($"/v1/usage/{usage.Id}", usage);
            })
            .NotFound().Idempotent()
            .WithName("RecordUsage").WithSummary("Record a usage event (an action's tokens, credits and cost)")
            .WithDescription("conversationId and messageId must be the user's. " + ApiMetadata.UserIdRule);

        api.MapGet("/totals", async ([AsParameters] UsageTotalsRequest query, Caller caller, CancellationToken ct) =>
            {
                var totals = await caller.Scope.Usage.TotalsAsync(new UsageTotalsQuery
                {
                    UserId = caller.IsUser ? caller.ActAs(query.UserId) : query.UserId,
                    From = query.From,
                    To = query.To,
                    GroupBy = query.GroupBy is { Length: > 0 } g ? g.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries) : [],
                }, ct);
                var page = new Page<UsageTotal>(totals, null);
                return TypedResults.Ok(query.UserId is Guid user ? await Access.ListOfUserAsync(caller, user, page, totals.Sum(t => (int)t.EventCount), ct) : page);
            })
            .NotFound()
            .WithName("GetUsageTotals").WithSummary("Usage totals over [from, to), grouped by any of user, model and UTC day")
            .WithDescription("With a tenant API key userId is optional (all users when left out); a session sees only its own user's totals. One page: the groups are bounded by the period.");
        return api;
    }

    /// <summary>The library's event for a request (shared with credit debits).</summary>
    internal static NewUsageEvent ToEvent(Caller caller, RecordUsageRequest body, Guid? userId = null) => new()
    {
        UserId = userId ?? caller.ActAs(body.UserId), ConversationId = body.ConversationId, MessageId = body.MessageId, Action = body.Action!,
        Model = body.Model, InputTokens = body.InputTokens ?? 0, OutputTokens = body.OutputTokens ?? 0, Credits = body.Credits ?? 0,
        CostUsd = body.CostUsd ?? 0, Metadata = body.Metadata, OccurredAt = caller.IsUser ? null : body.OccurredAt,
    };
}
