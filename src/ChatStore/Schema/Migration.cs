using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace ChatStore.Schema;

/// <summary>One migration: its up script, its down script, and whether it runs inside a transaction.</summary>
/// <param name="Source">The migration source, <c>chatstore</c> for ChatStore's own.</param>
/// <param name="Version">The version, from the file name's <c>NNNN</c> prefix.</param>
/// <param name="Name">The name, from the file name after the version.</param>
/// <param name="Up">The up script with the <c>{schema}</c> and <c>{app_role}</c> tokens still in place.</param>
/// <param name="Down">The down script, or null when the migration cannot be rolled back.</param>
public sealed record Migration(string Source, int Version, string Name, string Up, string? Down)
{
    /// <summary>The first line that marks a migration to run outside a transaction (for <c>CREATE INDEX CONCURRENTLY</c>).</summary>
    public const string NoTransactionMarker = "-- chatstore:no-transaction";

    /// <summary>True unless the up script starts with <see cref="NoTransactionMarker"/>.</summary>
    public bool Transactional { get; } = !Up.TrimStart().StartsWith(NoTransactionMarker, StringComparison.Ordinal);

    /// <summary>SHA-256 of the up script (line endings normalised), lower-case hex.</summary>
    public string Checksum { get; } = Convert.ToHexStringLower(
        SHA256.HashData(Encoding.UTF8.GetBytes(Up.ReplaceLineEndings("\n"))));

    /// <summary>The file name this migration was read from, for messages.</summary>
    public string FileName => $"{Version:D4}_{Name}.up.sql";
}

/// <summary>A named, ordered set of migrations: ChatStore's own, or an app's (from a folder or an assembly).</summary>
public sealed partial class MigrationSource
{
    /// <summary>The name of ChatStore's own source.</summary>
    public const string ChatStoreName = "chatstore";

    MigrationSource(string name, IReadOnlyList<Migration> migrations)
    {
        Name = name;
        Migrations = migrations;
    }

    /// <summary>The source name recorded in the history table.</summary>
    public string Name { get; }

    /// <summary>The migrations, by ascending version.</summary>
    public IReadOnlyList<Migration> Migrations { get; }

    /// <summary>ChatStore's own migrations, embedded in this assembly.</summary>
    public static MigrationSource ChatStore { get; } =
        FromAssembly(ChatStoreName, typeof(MigrationSource).Assembly, "ChatStore.Migrations.");

    /// <summary>Migrations embedded in <paramref name="assembly"/> as resources named <c>{prefix}NNNN_name.up.sql</c> / <c>.down.sql</c>.</summary>
    public static MigrationSource FromAssembly(string name, Assembly assembly, string resourcePrefix)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        var files = assembly.GetManifestResourceNames()
            .Where(r => r.StartsWith(resourcePrefix, StringComparison.Ordinal))
            .ToDictionary(r => r[resourcePrefix.Length..], r => Read(assembly, r));
        return Build(name, files, $"assembly {assembly.GetName().Name}");
    }

    /// <summary>Migrations in <paramref name="directory"/> as files named <c>NNNN_name.up.sql</c> / <c>.down.sql</c>.</summary>
    public static MigrationSource FromDirectory(string name, string directory)
    {
        if (!Directory.Exists(directory))
            throw new ChatStoreConfigurationException($"The migration folder '{directory}' does not exist.");
        var files = Directory.EnumerateFiles(directory, "*.sql")
            .ToDictionary(f => Path.GetFileName(f), File.ReadAllText);
        return Build(name, files, $"folder {directory}");
    }

    static string Read(Assembly assembly, string resource)
    {
        using var stream = assembly.GetManifestResourceStream(resource)!;
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    static MigrationSource Build(string name, Dictionary<string, string> files, string origin)
    {
        if (!SourceName().IsMatch(name))
            throw new ChatStoreConfigurationException($"The migration source name '{name}' must be lower-case letters, digits, '_' or '-'.");
        var ups = new SortedDictionary<int, Migration>();
        foreach (var (file, text) in files)
        {
            var m = FileName().Match(file);
            if (!m.Success)
                throw new ChatStoreConfigurationException($"The migration file '{file}' in {origin} is not named NNNN_name.up.sql or NNNN_name.down.sql.");
            if (m.Groups["dir"].Value != "up")
                continue;
            var version = int.Parse(m.Groups["version"].Value, System.Globalization.CultureInfo.InvariantCulture);
            var migrationName = m.Groups["name"].Value;
            files.TryGetValue($"{m.Groups["version"].Value}_{migrationName}.down.sql", out var down);
            if (!ups.TryAdd(version, new Migration(name, version, migrationName, text, down)))
                throw new ChatStoreConfigurationException($"Two migrations in {origin} have version {version}.");
        }
        return new MigrationSource(name, [.. ups.Values]);
    }

    [GeneratedRegex(@"^(?<version>\d{4})_(?<name>[A-Za-z0-9_]+)\.(?<dir>up|down)\.sql$")]
    private static partial Regex FileName();

    [GeneratedRegex("^[a-z0-9_-]{1,100}$")]
    private static partial Regex SourceName();
}
