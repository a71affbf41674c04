using ChatStore.Search;

namespace ChatStore.Tests.Search;

/// <summary>The query text PostgreSQL is given: cut after a number of words, stacked negations broken up.</summary>
public sealed class QueryTextTests
{
    [Theory]
    [InlineData("quick brown fox", 3, "quick brown fox")]
    [InlineData("quick brown fox jumps", 3, "quick brown fox ")]
    [InlineData("\"lazy dog\" -cat or fox", 10, "\"lazy dog\" -cat or fox")]
    [InlineData("a --b", 10, "a - b")]
    [InlineData("---x", 10, "-  x")]
    [InlineData("-a-b--c", 10, "-a-b- c")]
    [InlineData("--a b c", 2, "- a b ")]
    [InlineData("🐶 dog --🐱", 10, "🐶 dog - 🐱")]
    [InlineData("日本語 テキスト", 1, "日本語 ")]
    [InlineData("", 5, "")]
    public void Cuts_and_breaks_up_negations(string text, int max, string expected) =>
        Assert.Equal(expected, SearchStore.QueryText(text, max));

    [Fact]
    public void Text_that_needs_no_change_is_returned_as_it_is() =>
        Assert.Same("tea or \"green tea\" -coffee", SearchStore.QueryText("tea or \"green tea\" -coffee", 10));
}
