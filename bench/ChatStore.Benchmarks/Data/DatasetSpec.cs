using System.Security.Cryptography;
using System.Text;

namespace ChatStore.Benchmarks.Data;

/// <summary>
/// The shape of a benchmark dataset. Everything in it is generated from <see cref="Seed"/>, so a spec
/// (plus the schema's migrations, see <see cref="Fingerprint"/>) names one dataset exactly.
/// </summary>
/// <remarks>
/// Conversations: <see cref="LongConversations"/> hold <see cref="LongLength"/> messages each and
/// <see cref="ShortConversations"/> hold <see cref="ShortLength"/>, each of them a different user's (see
/// DatasetBuilder.MakeConversations); the rest share the remaining messages with lengths drawn uniformly
/// around the mean. Memories: tenant 0 holds 50% of
/// them (user 0 of tenant 0 alone 0.5%), tenant 1 holds 5%, the other tenants the remaining 45%: the
/// filters of the kNN scenario at 50%, 5% and 0.5% selectivity.
/// </remarks>
public sealed record DatasetSpec(
    string Name, int Tenants, int UsersPerTenant, int ConversationsPerUser, int Messages,
    int LongConversations, int LongLength, int ShortConversations, int ShortLength,
    int Memories, int Dimensions, int Clusters, int Queries, int Vocabulary, int Seed = 20260101)
{
    /// <summary>Bumped whenever the generator changes what it makes.</summary>
    public const int GeneratorVersion = 4;

    public static DatasetSpec Full { get; } = new("full", Tenants: 20, UsersPerTenant: 100, ConversationsPerUser: 10, Messages: 1_000_000,
        LongConversations: 8, LongLength: 10_000, ShortConversations: 1_000, ShortLength: 10,
        Memories: 100_000, Dimensions: 384, Clusters: 100, Queries: 500, Vocabulary: 20_000);

    public static DatasetSpec Quick { get; } = new("quick", Tenants: 4, UsersPerTenant: 10, ConversationsPerUser: 10, Messages: 40_000,
        LongConversations: 2, LongLength: 10_000, ShortConversations: 100, ShortLength: 10,
        Memories: 6_000, Dimensions: 384, Clusters: 20, Queries: 60, Vocabulary: 5_000);

    public int Conversations => Tenants * UsersPerTenant * ConversationsPerUser;

    public int RegularConversations => Conversations - LongConversations - ShortConversations;

    public int RegularMessages => Messages - LongConversations * LongLength - ShortConversations * ShortLength;

    /// <summary>The database the dataset lives in: the spec and the schema's migrations, hashed.</summary>
    public string Fingerprint(IEnumerable<(string Name, string Text)> migrations)
    {
        var sb = new StringBuilder();
        sb.Append(GeneratorVersion).Append('|').Append(this);
        foreach (var (name, text) in migrations.OrderBy(m => m.Name, StringComparer.Ordinal))
            sb.Append('|').Append(name).Append(':').Append(Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text))));
        var hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(sb.ToString())))[..12].ToLowerInvariant();
        return $"chatstore_bench_{Name}_{hash}";
    }

    /// <summary>The ChatStore migration scripts embedded in the library, by resource name.</summary>
    public static IEnumerable<(string Name, string Text)> LibraryMigrations()
    {
        var assembly = typeof(ChatStoreClient).Assembly;
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.EndsWith(".sql", StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var reader = new StreamReader(stream);
            yield return (name, reader.ReadToEnd());
        }
    }
}
