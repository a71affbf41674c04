using System.Text.Json;

namespace ChatStore.Preferences;

/// <summary>A user's preferences, learned patterns and feature toggles: three JSON objects, empty until first written.</summary>
/// <param name="UserId">The user.</param>
/// <param name="Preferences">Settings the user chose (a JSON object).</param>
/// <param name="LearnedPatterns">What the app learned about the user (a JSON object).</param>
/// <param name="FeatureToggles">Features switched on or off for the user (a JSON object).</param>
/// <param name="UpdatedAt">When they were last written; null when they never were.</param>
public sealed record UserPreferences(
    Guid UserId, JsonElement Preferences, JsonElement LearnedPatterns, JsonElement FeatureToggles, DateTimeOffset? UpdatedAt);

/// <summary>
/// RFC 7396 JSON merge patches, one per part; a null part is left as it is. In each patch a
/// member set to JSON null deletes the key, an object merges into the stored object recursively,
/// and any other value (array, string, number, boolean) replaces the stored one.
/// </summary>
public sealed record PreferencesPatch
{
    /// <summary>A merge patch (a JSON object) for <see cref="UserPreferences.Preferences"/>.</summary>
    public JsonElement? Preferences { get; init; }

    /// <summary>A merge patch (a JSON object) for <see cref="UserPreferences.LearnedPatterns"/>.</summary>
    public JsonElement? LearnedPatterns { get; init; }

    /// <summary>A merge patch (a JSON object) for <see cref="UserPreferences.FeatureToggles"/>.</summary>
    public JsonElement? FeatureToggles { get; init; }
}

/// <summary>The whole of a user's preferences, replacing what is stored; a null part becomes an empty object.</summary>
public sealed record PreferencesReplacement
{
    /// <summary>The new preferences (a JSON object).</summary>
    public JsonElement? Preferences { get; init; }

    /// <summary>The new learned patterns (a JSON object).</summary>
    public JsonElement? LearnedPatterns { get; init; }

    /// <summary>The new feature toggles (a JSON object).</summary>
    public JsonElement? FeatureToggles { get; init; }
}
