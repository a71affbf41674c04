using System.Collections.Concurrent;

namespace ChatStore.Search;

/// <summary>
/// What auto-mode vector search recently learnt about filtered sets (tenant, space, user, conversation):
/// whether each held fewer rows than its exact threshold. Auto mode counts the set (up to the threshold)
/// before choosing the exact or the index branch, and the count costs about as much as the search; for
/// <see cref="Ttl"/> after a count, the set is searched the way the count chose, without counting. A set
/// that changes size meanwhile is still searched correctly: a small set that grows is searched exactly,
/// a large set that shrinks through the index. Time comes from the client's <see cref="TimeProvider"/>.
/// </summary>
internal sealed class VectorSetSizes(TimeProvider time)
{
    public static readonly TimeSpan Ttl = TimeSpan.FromSeconds(30);
    const int MaxEntries = 100_000;

    readonly ConcurrentDictionary<(Guid Tenant, Guid Space, Guid? User, Guid? Conversation, int Threshold), (long Until, bool Small)> _sets = new();

    /// <summary>Exact or Index when the set's size was learnt within <see cref="Ttl"/>; otherwise Auto (count).</summary>
    public VectorSearchMode ModeFor(Guid tenant, Guid space, Guid? user, Guid? conversation, int threshold) =>
        _sets.TryGetValue((tenant, space, user, conversation, threshold), out var known) && known.Until > time.GetTimestamp()
            ? known.Small ? VectorSearchMode.Exact : VectorSearchMode.Index
            : VectorSearchMode.Auto;

    public void Remember(Guid tenant, Guid space, Guid? user, Guid? conversation, int threshold, long size)
    {
        if (_sets.Count >= MaxEntries)
            _sets.Clear();
        _sets[(tenant, space, user, conversation, threshold)] = (time.GetTimestamp() + (long)(Ttl.TotalSeconds * time.TimestampFrequency), size < threshold);
    }
}
