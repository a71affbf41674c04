using ChatStore.Connection;
using Npgsql;

namespace ChatStore.Tests.Connection;

/// <summary>
/// ChatStore prepares its repeated statements by default; a DATABASE_URL with max_auto_prepare=0 turns that
/// off, as PgBouncer in transaction mode needs (its server connections do not keep a client's prepared statements).
/// </summary>
public sealed class AutoPrepareTests
{
    [Fact]
    public void The_url_parameter_max_auto_prepare_sets_Npgsqls_keyword_and_rejects_anything_but_a_number()
    {
        Assert.Contains("Max Auto Prepare=0", DatabaseUrl.ToConnectionString("postgres://app@localhost/chat?max_auto_prepare=0"), StringComparison.Ordinal);
        Assert.Equal(64, new NpgsqlConnectionStringBuilder(DatabaseUrl.ToConnectionString("postgres://app@localhost/chat?max_auto_prepare=64")).MaxAutoPrepare);
        var e = Assert.Throws<ChatStoreConfigurationException>(() => DatabaseUrl.ToConnectionString("postgres://app@localhost/chat?max_auto_prepare=off"));
        Assert.Contains("max_auto_prepare", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, true)]
    [InlineData("?max_auto_prepare=0", false)]
    [InlineData("?max_auto_prepare=16", true)]
    public async Task Statements_run_repeatedly_are_prepared_unless_the_url_turns_it_off(string? query, bool prepared)
    {
        var url = Environment.GetEnvironmentVariable("CHATSTORE_TEST_DATABASE_URL")!;
        var settings = new ChatStoreSettings { ConnectionString = DatabaseUrl.ToConnectionString(url + query) };
        await using var client = await ChatStoreClient.CreateAsync(settings);
        await using var conn = await client.DataSource.OpenConnectionAsync();
        // Npgsql prepares a statement after its fifth use (ChatStore's own default: the second).
        for (var i = 0; i < 6; i++)
        {
            await using var cmd = new NpgsqlCommand("SELECT count(*) FROM pg_class WHERE relname = $1", conn);
            cmd.Parameters.Add(new() { Value = "pg_class" });
            await cmd.ExecuteScalarAsync();
        }

        await using var count = new NpgsqlCommand("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE '%relname = $1%'", conn);
        Assert.Equal(prepared, (long)(await count.ExecuteScalarAsync())! > 0);
    }
}
