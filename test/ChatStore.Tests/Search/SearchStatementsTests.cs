using ChatStore.Embeddings;
using ChatStore.Search;
using static ChatStore.Search.SearchStatements;

namespace ChatStore.Tests.Search;

/// <summary>How a rendered statement numbers its parameters: with two or more integers, the other slots first, then one int[] of the integers.</summary>
public sealed class SearchStatementsTests
{
    [Fact]
    public void Integer_slots_are_the_elements_of_one_last_parameter_in_slot_order()
    {
        var shape = new Shape(Statement.Hybrid, KindBit(SearchKind.Memory), Has.User, VectorSearchMode.Index, Guid.NewGuid(), 8, DistanceMetric.Cosine);
        var rendered = For(shape);
        var sql = rendered.Sql;
        Assert.Equal(IntegerSlots & ~(1 << (int)Slot.Threshold), rendered.Packed);

        // user $1, text $2, vector $3, headline $4; k, limit, rrfK, text candidates ($5)[1..4]. No threshold in index mode.
        Assert.Contains("x.user_id = $1", sql);
        Assert.Contains("e.user_id = $1", sql);
        Assert.Contains("LIMIT ($5)[1]", sql);
        Assert.Contains("LIMIT ($5)[2]", sql);
        Assert.Contains("1.0 / (($5)[3] + t.r)", sql);
        Assert.Contains("LIMIT ($5)[4]", sql);
        Assert.DoesNotContain("($5)[5]", sql);
        Assert.DoesNotContain("$6", sql);
        Assert.DoesNotContain("{", sql.Replace("{schema}", "").Replace("{tenant}", ""));
    }

    [Fact]
    public void A_single_integer_is_a_plain_parameter_in_slot_order()
    {
        var shape = new Shape(Statement.FullText, KindBit(SearchKind.Message), Has.None, default, default, 0, default);
        var rendered = For(shape);
        Assert.Equal(1 << (int)Slot.Text | 1 << (int)Slot.Limit | 1 << (int)Slot.Headline, rendered.Slots);
        Assert.Equal(0, rendered.Packed);
        Assert.Contains("websearch_to_tsquery(l.cfg, $1)", rendered.Sql);
        Assert.Contains("LIMIT $2", rendered.Sql);
        Assert.Contains(", $3)", rendered.Sql);
        Assert.DoesNotContain("[1]", rendered.Sql.Replace("[1:32]", ""));
    }
}
