using ChatStore.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace ChatStore.Server.Apis;

/// <summary>Credit balances: grant (tenant API key), read, and debit atomically (never below zero).</summary>
public static class CreditsApi
{
    public sealed record GrantRequest(decimal? Amount);

    /// <summary>A debit; usage (when given) is recorded in the same statement with credits = amount (its userId is the path's).</summary>
    public sealed record DebitRequest(decimal? Amount, UsageApi.RecordUsageRequest? Usage);

    public sealed record Balance(Guid UserId, decimal Credits);

    public static RouteGroupBuilder MapCreditsApi(this RouteGroupBuilder v1)
    {
        var api = v1.MapGroup("/users/{userId:guid}/credits").WithTags("Credits").RequireTenant().TenantProblems();

        api.MapGet("/", async (Guid userId, Caller caller, CancellationToken ct) =>
            {
                var user = caller.ActAs(userId);
                return TypedResults.Ok(new Balance(user, await caller.Scope.Usage.GetBalanceAsync(user, ct)));
            })
            .NotFound()
            .WithName("GetCreditBalance").WithSummary("A user's credit balance (0 when never granted)");

        api.MapPost("/grant", async (Guid userId, GrantRequest body, Caller caller, CancellationToken ct) =>
                TypedResults.Ok(new Balance(userId, await caller.Scope.Usage.GrantCreditsAsync(caller.ActAs(userId), Amount(body.Amount), ct))))
            .TenantKeyOnly().NotFound().Conflict().Idempotent()
            .WithName("GrantCredits").WithSummary("Add credits to a user's balance (tenant API key); send Idempotency-Key to make a retry safe");

        api.MapPost("/debit", async (Guid userId, DebitRequest body, Caller caller, CancellationToken ct) =>
            {
                var user = caller.ActAs(userId);
                var usage = body.Usage is null ? null : UsageApi.ToEvent(caller, body.Usage, user);
                return TypedResults.Ok(await caller.Scope.Usage.DebitAsync(user, Amount(body.Amount), usage, ct));
            })
            .NotFound().Conflict().Idempotent()
            .WithName("DebitCredits").WithSummary("Take credits from a user's balance, atomically; 409 (nothing changes) when the balance is too low");
        return api;
    }

    static decimal Amount(decimal? amount) => amount ?? throw new ChatStoreValidationException("amount", "required", "is required.");
}
