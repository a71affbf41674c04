using System.Collections.Concurrent;

namespace ChatStore.Search;

/// <summary>
/// Filtered vector sets (tenant, space, user, conversation) that an auto-mode search recently found at or
/// above its exact threshold. Auto mode counts the set before choosing the exact or the index branch;
/// counting up to the threshold costs about as much as the index scan, so a set known to be large is
/// searched through the index directly for <see cref="Ttl"/>. A set that shrinks meanwhile is still
/// searched correctly (by the index); small sets are counted every time.
/// </summary>
internal sealed class LargeVectorSets
{
    public static readonly TimeSpan Ttl = TimeSpan.FromSeconds(30);
    const int MaxEntries = 100_000;

    readonly ConcurrentDictionary<(Guid Tenant, Guid Space, Guid? User, Guid? Conversation, int Threshold), long> _until = new();

    public bool IsLarge(Guid tenant, Guid space, Guid? user, Guid? conversation, int threshold) =>
        _until.TryGetValue((tenant, space, user, conversation, threshold), out var until) && until > Environment.TickCount64;

    public void MarkLarge(Guid tenant, Guid space, Guid? user, Guid? conversation, int threshold)
    {
        if (_until.Count >= MaxEntries)
            _until.Clear();
        _until[(tenant, space, user, conversation, threshold)] = Environment.TickCount64 + (long)Ttl.TotalMilliseconds;
    }
}
