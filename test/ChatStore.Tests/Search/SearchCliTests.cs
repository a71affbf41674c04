using ChatStore.Cli;
using ChatStore.Embeddings;
using Spectre.Console;

namespace ChatStore.Tests.Search;

public sealed class SearchCliTests
{
    [Fact]
    public async Task Reindex_then_search_in_every_mode_from_the_command_line()
    {
        var client = await TestStore.ClientAsync();
        var (_, _, tenant) = await TestStore.NewTenantAsync();
        var user = await SearchData.UserAsync(tenant.Id);
        var c = await SearchData.ConversationAsync(tenant.Id, user);
        var message = await SearchData.MessageAsync(tenant.Id, c, user, "The axolotl regrows its limbs");
        await SearchData.MemoryAsync(tenant.Id, user, "Keeps two cats");
        var space = $"cli-{Guid.NewGuid():N}"[..16];

        var output = new StringWriter();
        var previous = AnsiConsole.Console;
        AnsiConsole.Console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(output), Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors, Interactive = InteractionSupport.No,
        });
        AnsiConsole.Console.Profile.Width = 400; // room for whole ids in the tables
        try
        {
            async Task<int> Run(params string[] args) =>
                await ChatStoreCli.RunAsync([.. args, "--database-url", TestStore.ConnectionString]);

            Assert.Equal(0, await Run("embeddings", "register", "--name", space, "--dimensions", "128"));
            Assert.Equal(0, await Run("embeddings", "reindex", "--space", space, "--tenant", tenant.Id.ToString()));
            var spaceId = (await client.Embeddings.GetSpaceAsync(space)).Id;
            Assert.Equal(2L, await TestStore.ScalarAsync<long>("SELECT count(*) FROM embeddings WHERE tenant_id = $1 AND space_id = $2", tenant.Id, spaceId));
            foreach (var mode in new[] { "fts", "vector", "hybrid" })
            {
                output.GetStringBuilder().Clear();
                Assert.Equal(0, await Run("search", "axolotl limbs", "--tenant", tenant.Id.ToString(), "--user", user.ToString(), "--mode", mode, "--space", space));
                Assert.Contains(message.ToString(), output.ToString(), StringComparison.Ordinal);
            }
            Assert.Equal(2, await Run("search", "x", "--tenant", "not-an-id"));
            Assert.Equal(2, await Run("search", "x", "--tenant", tenant.Id.ToString(), "--mode", "psychic"));
        }
        finally
        {
            AnsiConsole.Console = previous;
            await client.Embeddings.DropSpaceAsync(space);
        }
    }
}
