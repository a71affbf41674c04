using System.Text.Json;
using ChatStore.Connection;
using ChatStore.Embeddings;
using ChatStore.Messages;
using ChatStore.Server.Hosting;
using ChatStore.Tenants;
using ChatStore.Users;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Playwright;
using Npgsql;

namespace ChatStore.Browser.Tests;

/// <summary>
/// The ChatStore service listening on a real port of 127.0.0.1 (Kestrel, in this process) over a database made
/// for this run, and Debian's chromium driven by Playwright. Two tenants are seeded through the library;
/// each test opens its own browser context (its own session storage) and makes any other data it changes.
/// </summary>
public sealed class ConsoleFixture : IAsyncLifetime
{
    public const string OperatorKey = "browser-test-operator-key-0123456789";

    /// <summary>A message whose content is markup: the console must show it as text.</summary>
    public const string XssContent = "<img src=x onerror=alert(1)>";

    static readonly string[] ChromiumArgs =
        ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"];

    WebApplication? _app;
    IPlaywright? _playwright;

    public string BaseUrl { get; private set; } = "";

    public IBrowser Browser { get; private set; } = null!;

    public ChatStoreClient Client { get; private set; } = null!;

    /// <summary>The connection string of this run's database.</summary>
    public string ConnectionString { get; private set; } = "";

    public Seeded TenantA { get; private set; } = null!;

    public Seeded TenantB { get; private set; } = null!;

    /// <summary>Where screenshots go: a folder of the test output.</summary>
    public string Artifacts { get; } = Path.Combine(AppContext.BaseDirectory, "screenshots");

    public sealed record Seeded(Guid TenantId, string Key, User User, Guid ConversationId, string Title, Guid MessageId, Guid DeletedMessageId);

    public async Task InitializeAsync()
    {
        var url = Environment.GetEnvironmentVariable("CHATSTORE_TEST_DATABASE_URL")
            ?? throw new InvalidOperationException("CHATSTORE_TEST_DATABASE_URL is not set: run the tests through scripts/test.sh.");
        var server = DatabaseUrl.ToConnectionString(url);
        var name = $"browser_{Guid.NewGuid():N}";
        await using (var conn = new NpgsqlConnection(server))
        {
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", conn);
            await cmd.ExecuteNonQueryAsync();
        }
        ConnectionString = new NpgsqlConnectionStringBuilder(server) { Database = name }.ConnectionString;
        var settings = new ChatStoreSettings { ConnectionString = ConnectionString };
        Client = await ChatStoreClient.CreateAsync(settings);
        await Client.Migrator.InitAsync();
        var space = await Client.Embeddings.RegisterSpaceAsync(new NewEmbeddingSpace
        {
            Name = "local-384", Model = LocalHashingEmbeddingGenerator.DefaultModelId, Dimensions = 384,
        });
        TenantA = await SeedAsync("Acme", "Lisbon trip", "Which neighbourhoods in Lisbon are good for walking?", space);
        TenantB = await SeedAsync("Globex", "Secret merger plans", "The merger with Initech closes on Friday.", space);

        _app = ChatStoreServer.Build([], settings, builder =>
        {
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Configuration["Server:OperatorKey"] = OperatorKey;
        });
        await _app.StartAsync();
        BaseUrl = _app.Urls.Single().TrimEnd('/');

        Directory.CreateDirectory(Artifacts);
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = "/usr/bin/chromium", Headless = true, Args = ChromiumArgs,
        });
    }

    async Task<Seeded> SeedAsync(string tenantName, string title, string question, EmbeddingSpace space)
    {
        var tenant = await Client.Tenants.CreateAsync(new NewTenant { Name = tenantName });
        var key = await Client.Tenants.CreateApiKeyAsync(tenant.Id, "browser-tests");
        var scope = Client.ForTenant(tenant.Id);
        var user = await scope.Users.CreateAsync(new NewUser { Email = $"ada-{Guid.NewGuid():N}@example.com", Name = "Ada Lovelace" });
        var conversation = await scope.Conversations.CreateAsync(new() { UserId = user.Id, Title = title });
        var message = await scope.Messages.AppendAsync(conversation.Id, new NewMessage { Role = MessageRole.User, Content = question });
        var answer = await scope.Messages.AppendAsync(conversation.Id, new NewMessage
        {
            Role = MessageRole.Assistant, Content = "Alfama and Chiado are compact and walkable.", Model = "gpt-4o-mini",
            InputTokens = 120, OutputTokens = 40, CostUsd = 0.0002m, ResponseMs = 900,
            Citations = JsonSerializer.SerializeToElement(new[] { new { title = "Visit Lisboa", url = "https://example.com/lisboa" } }),
            Domains = ["travel"],
        });
        await scope.Messages.SetFeedbackAsync(answer.Id, user.Id, new NewFeedback { Rating = FeedbackRating.Like, Comment = "spot on" });
        await scope.Messages.AddCorrectionAsync(answer.Id, user.Id, "Alfama, Chiado and Baixa are walkable.", "one more");
        await scope.Messages.AppendAsync(conversation.Id, new NewMessage { Role = MessageRole.User, Content = XssContent });
        var deleted = await scope.Messages.AppendAsync(conversation.Id, new NewMessage { Role = MessageRole.User, Content = "A message deleted later." });
        await scope.Messages.DeleteAsync(deleted.Id);
        await scope.Embeddings.ReindexAsync(space, EmbeddingGenerators.ForSpace(space)!);
        return new Seeded(tenant.Id, key.Secret, user, conversation.Id, title, message.Id, deleted.Id);
    }

    /// <summary>A page in a new browser context (its own session storage) at a 1280×800 window, or another size.</summary>
    public async Task<IPage> NewPageAsync(int width = 1280, int height = 800)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            ViewportSize = new ViewportSize { Width = width, Height = height }, AcceptDownloads = true,
        });
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(20_000);
        return page;
    }

    /// <summary>Opens the console and signs in with <paramref name="key"/>, using the keyboard only.</summary>
    public async Task<IPage> SignInAsync(string key, int width = 1280, int height = 800)
    {
        var page = await NewPageAsync(width, height);
        await page.GotoAsync(BaseUrl + "/console");
        await page.GetByLabel("Operator key or tenant API key").FocusAsync();
        await page.Keyboard.TypeAsync(key);
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Sign out" })).ToBeVisibleAsync();
        return page;
    }

    public Task ScreenshotAsync(IPage page, string name) =>
        page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Artifacts, name + ".png"), FullPage = true });

    public async Task DisposeAsync()
    {
        if (Browser is not null) await Browser.DisposeAsync();
        _playwright?.Dispose();
        if (_app is not null) await _app.DisposeAsync();
        if (Client is not null) await Client.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class ConsoleCollection : ICollectionFixture<ConsoleFixture>
{
    public const string Name = "console";
}
