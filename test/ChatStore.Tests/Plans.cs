using System.Text.Json;

namespace ChatStore.Tests;

/// <summary>Reading EXPLAIN (FORMAT JSON) output.</summary>
public static class Plans
{
    /// <summary>A plan node and every node below it, depth first.</summary>
    public static IEnumerable<JsonElement> Nodes(JsonElement node)
    {
        yield return node;
        if (node.TryGetProperty("Plans", out var children))
            foreach (var child in children.EnumerateArray())
                foreach (var n in Nodes(child))
                    yield return n;
    }
}
