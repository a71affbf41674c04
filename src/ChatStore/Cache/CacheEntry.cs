using System.Text.Json;

namespace ChatStore.Cache;

/// <summary>A cached value.</summary>
/// <param name="Key">The key (unique per tenant).</param>
/// <param name="Value">The value (any JSON).</param>
/// <param name="UserId">The user the entry belongs to, if any (it goes when the user does).</param>
/// <param name="ExpiresAt">When it expires; null for never.</param>
/// <param name="CreatedAt">When it was (last) set.</param>
public sealed record CacheEntry(string Key, JsonElement Value, Guid? UserId, DateTimeOffset? ExpiresAt, DateTimeOffset CreatedAt);
