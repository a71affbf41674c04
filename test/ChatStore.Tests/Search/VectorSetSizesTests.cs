using ChatStore.Search;
using Microsoft.Extensions.Time.Testing;

namespace ChatStore.Tests.Search;

public sealed class VectorSetSizesTests
{
    [Fact]
    public void A_learnt_set_size_is_used_for_30_s_on_the_clients_clock_and_then_counted_again()
    {
        var time = new FakeTimeProvider();
        var sets = new VectorSetSizes(time);
        Guid tenant = Guid.NewGuid(), space = Guid.NewGuid(), user = Guid.NewGuid();
        Assert.Equal(VectorSearchMode.Auto, sets.ModeFor(tenant, space, user, null, 5));
        sets.Remember(tenant, space, user, null, 5, size: 4);
        sets.Remember(tenant, space, null, null, 5, size: 9);
        Assert.Equal(VectorSearchMode.Exact, sets.ModeFor(tenant, space, user, null, 5));
        Assert.Equal(VectorSearchMode.Index, sets.ModeFor(tenant, space, null, null, 5));
        time.Advance(VectorSetSizes.Ttl - TimeSpan.FromMilliseconds(1));
        Assert.Equal(VectorSearchMode.Exact, sets.ModeFor(tenant, space, user, null, 5));
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(VectorSearchMode.Auto, sets.ModeFor(tenant, space, user, null, 5));
        Assert.Equal(VectorSearchMode.Auto, sets.ModeFor(tenant, space, null, null, 5));
    }
}
