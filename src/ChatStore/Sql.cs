using System.Text;

namespace ChatStore;

/// <summary>Helpers for SQL text built from fixed fragments: identifier quoting and the text checks PostgreSQL needs.</summary>
public static class Sql
{
    /// <summary>Quotes an identifier from configuration (a schema or role name) so any name, such as <c>teddy-ai</c>, is safe.</summary>
    public static string QuoteIdentifier(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (name.Contains('\0', StringComparison.Ordinal))
            throw new ChatStoreConfigurationException("An identifier cannot contain a NUL character.");
        if (Encoding.UTF8.GetByteCount(name) > 63)
            throw new ChatStoreConfigurationException($"The identifier '{name}' is longer than PostgreSQL's 63-byte limit.");
        return "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
    }
}
