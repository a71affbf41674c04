using System.Text.Json;
using ChatStore.Preferences;
using ChatStore.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace ChatStore.Server.Apis;

/// <summary>A user's preferences, learned patterns and feature toggles. A session caller reaches only its own.</summary>
public static class PreferencesApi
{
    /// <summary>
    /// An RFC 7396 merge patch of the user's preferences: each part present is merged into the stored
    /// object (a member set to null is removed); a part left out (or null) is unchanged.
    /// </summary>
    public sealed record PreferencesPatchRequest(JsonElement? Preferences, JsonElement? LearnedPatterns, JsonElement? FeatureToggles);

    /// <summary>All three parts, replacing what is stored; a part left out becomes an empty object.</summary>
    public sealed record PreferencesReplaceRequest(JsonElement? Preferences, JsonElement? LearnedPatterns, JsonElement? FeatureToggles);

    public static RouteGroupBuilder MapPreferencesApi(this RouteGroupBuilder v1)
    {
        var api = v1.MapGroup("/users/{userId:guid}/preferences").WithTags("Preferences").RequireTenant().TenantProblems();

        api.MapGet("/", async (Guid userId, Caller caller, CancellationToken ct) =>
                TypedResults.Ok(await caller.Scope.Preferences.GetAsync(caller.ActAs(userId), ct)))
            .NotFound()
            .WithName("GetPreferences").WithSummary("A user's preferences, learned patterns and feature toggles (empty objects until written)");

        api.MapPatch("/", async (Guid userId, PreferencesPatchRequest body, Caller caller, CancellationToken ct) =>
                TypedResults.Ok(await caller.Scope.Preferences.PatchAsync(caller.ActAs(userId), new PreferencesPatch
                {
                    Preferences = Part(body.Preferences), LearnedPatterns = Part(body.LearnedPatterns), FeatureToggles = Part(body.FeatureToggles),
                }, ct)))
            .Accepts<PreferencesPatchRequest>("application/merge-patch+json", "application/json")
            .NotFound()
            .WithName("PatchPreferences").WithSummary("Merge-patch a user's preferences (RFC 7396; application/merge-patch+json or application/json)")
            .WithDescription("Concurrent patches to different keys all survive: the merge runs in the database.");

        api.MapPut("/", async (Guid userId, PreferencesReplaceRequest body, Caller caller, CancellationToken ct) =>
                TypedResults.Ok(await caller.Scope.Preferences.ReplaceAsync(caller.ActAs(userId), new PreferencesReplacement
                {
                    Preferences = Part(body.Preferences), LearnedPatterns = Part(body.LearnedPatterns), FeatureToggles = Part(body.FeatureToggles),
                }, ct)))
            .NotFound()
            .WithName("ReplacePreferences").WithSummary("Replace all of a user's preferences, learned patterns and feature toggles");
        return api;
    }

    /// <summary>A JSON null part means "not given" (the binder gives it as an element of kind Null).</summary>
    static JsonElement? Part(JsonElement? part) => part is { ValueKind: JsonValueKind.Null or JsonValueKind.Undefined } ? null : part;
}
