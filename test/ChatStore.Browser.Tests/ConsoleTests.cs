using System.Text.Json;
using ChatStore.Users;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace ChatStore.Browser.Tests;

/// <summary>The console in headless chromium, as an operator and as an app developer with a tenant key meet it.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class ConsoleTests(ConsoleFixture fixture)
{
    [Fact]
    public async Task Operator_signs_in_creates_a_tenant_and_a_key_that_then_signs_in()
    {
        var page = await fixture.SignInAsync(ConsoleFixture.OperatorKey);
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Tenants" })).ToBeVisibleAsync();
        await Expect(page.GetByRole(AriaRole.Cell, new() { Name = "Acme" })).ToBeVisibleAsync();
        await fixture.ScreenshotAsync(page, "operator-tenants");

        var name = $"Initech {Guid.NewGuid():N}"[..16];
        await page.GetByLabel("New tenant's name").FillAsync(name);
        await page.GetByRole(AriaRole.Button, new() { Name = "Create tenant" }).ClickAsync();
        var row = page.GetByRole(AriaRole.Row).Filter(new() { HasText = name });
        await Expect(row).ToBeVisibleAsync();
        await row.GetByRole(AriaRole.Link, new() { Name = "0 keys" }).ClickAsync();

        await page.GetByLabel("Key name").FillAsync("console-test");
        await page.GetByLabel("Scopes (comma-separated)").FillAsync("read, write");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create key" }).ClickAsync();
        var secret = await page.Locator("#new-key").TextContentAsync();
        Assert.StartsWith("cs_key_", secret);
        await Expect(page.GetByRole(AriaRole.Cell, new() { Name = "read, write" })).ToBeVisibleAsync();
        await fixture.ScreenshotAsync(page, "operator-api-keys");
        // The secret never lands in the address bar.
        Assert.DoesNotContain(secret!, page.Url, StringComparison.Ordinal);

        var tenantPage = await fixture.SignInAsync(secret!);
        await Expect(tenantPage.Locator("#who")).ToHaveTextAsync("Tenant: " + name);
        await Expect(tenantPage.GetByRole(AriaRole.Heading, new() { Name = "Conversations" })).ToBeVisibleAsync();
    }

    [Fact]
    public async Task Operator_pages_show_embedding_spaces_schema_and_health()
    {
        var page = await fixture.SignInAsync(ConsoleFixture.OperatorKey);
        await page.GetByRole(AriaRole.Link, new() { Name = "Embedding spaces" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Cell, new() { Name = "local-384" })).ToBeVisibleAsync();
        await Expect(page.GetByRole(AriaRole.Cell, new() { Name = "ready" })).ToBeVisibleAsync();
        await fixture.ScreenshotAsync(page, "operator-embedding-spaces");

        await page.GetByRole(AriaRole.Link, new() { Name = "Schema" }).ClickAsync();
        await Expect(page.GetByText("no drift")).ToBeVisibleAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { NameRegex = new System.Text.RegularExpressions.Regex(@"^Source chatstore: \d+ applied, 0 pending$") })).ToBeVisibleAsync();
        await fixture.ScreenshotAsync(page, "operator-schema");

        await page.GetByRole(AriaRole.Link, new() { Name = "Health" }).ClickAsync();
        await Expect(page.GetByText("healthy", new() { Exact = true })).ToBeVisibleAsync();
        await fixture.ScreenshotAsync(page, "operator-health");
    }

    [Fact]
    public async Task Tenant_key_opens_a_seeded_transcript_with_the_message_details()
    {
        var a = fixture.TenantA;
        var page = await fixture.SignInAsync(a.Key);
        await fixture.ScreenshotAsync(page, "tenant-conversations");
        await page.GetByRole(AriaRole.Link, new() { Name = a.Title }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = a.Title })).ToBeVisibleAsync();
        var answer = page.Locator("article.role-assistant");
        await Expect(answer).ToContainTextAsync("Alfama and Chiado are compact and walkable.");
        await Expect(answer).ToContainTextAsync("model gpt-4o-mini");
        await Expect(answer).ToContainTextAsync("120 in / 40 out tokens");
        await Expect(answer).ToContainTextAsync("900 ms");
        await Expect(answer).ToContainTextAsync("1 citation(s)");
        await Expect(answer).ToContainTextAsync("like · “spot on”");
        await Expect(answer).ToContainTextAsync("Alfama, Chiado and Baixa are walkable.");
        await Expect(answer.GetByText("travel", new() { Exact = true })).ToBeVisibleAsync();
        await fixture.ScreenshotAsync(page, "tenant-transcript");
    }

    [Fact]
    public async Task Soft_deleted_message_is_shown_as_deleted_and_restored_from_the_transcript()
    {
        var a = fixture.TenantA;
        var page = await fixture.SignInAsync(a.Key);
        await page.GotoAsync($"{fixture.BaseUrl}/console#/conversations/{a.ConversationId}");
        var deleted = page.Locator($"article[data-message-id='{a.DeletedMessageId}']");
        await Expect(deleted).ToHaveClassAsync(new System.Text.RegularExpressions.Regex("deleted"));
        await deleted.GetByRole(AriaRole.Button, new() { Name = "Restore message #4" }).ClickAsync();
        await Expect(page.Locator($"article[data-message-id='{a.DeletedMessageId}']")).Not.ToHaveClassAsync(new System.Text.RegularExpressions.Regex("deleted"));
        var restored = await fixture.Client.ForTenant(a.TenantId).Messages.GetAsync(a.DeletedMessageId);
        Assert.Null(restored.DeletedAt);
        await fixture.Client.ForTenant(a.TenantId).Messages.DeleteAsync(a.DeletedMessageId);
    }

    [Fact]
    public async Task Markup_in_a_message_stays_inert_text()
    {
        var a = fixture.TenantA;
        var page = await fixture.SignInAsync(a.Key);
        var dialogs = 0;
        page.Dialog += (_, dialog) => { dialogs++; _ = dialog.DismissAsync(); };
        await page.GotoAsync($"{fixture.BaseUrl}/console#/conversations/{a.ConversationId}");
        await Expect(page.GetByText(ConsoleFixture.XssContent, new() { Exact = true })).ToBeVisibleAsync();
        Assert.Equal(0, await page.Locator(".transcript img").CountAsync());
        // Its onerror would have run by now if an <img> had been made; the page's own script still works.
        await page.GetByRole(AriaRole.Link, new() { Name = "Users" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Users" })).ToBeVisibleAsync();
        Assert.Equal(0, dialogs);
    }

    [Fact]
    public async Task Search_playground_finds_a_seeded_message_by_full_text_and_hybrid()
    {
        var a = fixture.TenantA;
        var page = await fixture.SignInAsync(a.Key);
        await page.GetByRole(AriaRole.Link, new() { Name = "Search" }).ClickAsync();
        await page.GetByLabel("Search for").FillAsync("neighbourhoods walking");
        await page.GetByRole(AriaRole.Button, new() { Name = "Search" }).ClickAsync();
        var results = page.Locator("#results");
        await Expect(results.Locator("mark").First).ToBeVisibleAsync();
        await Expect(results).ToContainTextAsync("Which neighbourhoods in Lisbon are good for walking");
        await fixture.ScreenshotAsync(page, "tenant-search");

        await page.GetByLabel("Mode").SelectOptionAsync("hybrid");
        await page.GetByRole(AriaRole.Button, new() { Name = "Search" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Columnheader, new() { Name = "Vector rank" })).ToBeVisibleAsync();
        await Expect(results).ToContainTextAsync("neighbourhoods");
        // Another tenant's data never comes back.
        await page.GetByLabel("Search for").FillAsync("merger Initech");
        await page.GetByRole(AriaRole.Button, new() { Name = "Search" }).ClickAsync();
        await Expect(page.GetByText("result(s) in")).ToBeVisibleAsync();
        await Expect(results).Not.ToContainTextAsync("Initech");
    }

    [Fact]
    public async Task Tenant_key_cannot_open_another_tenants_conversation_by_url()
    {
        var page = await fixture.SignInAsync(fixture.TenantA.Key);
        await page.GotoAsync($"{fixture.BaseUrl}/console#/conversations/{fixture.TenantB.ConversationId}");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Not found" })).ToBeVisibleAsync();
        await Expect(page.GetByText(fixture.TenantB.Title)).ToHaveCountAsync(0);
        await page.GotoAsync($"{fixture.BaseUrl}/console#/users/{fixture.TenantB.User.Id}");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Not found" })).ToBeVisibleAsync();
    }

    [Fact]
    public async Task Export_downloads_the_users_data_as_ndjson()
    {
        var a = fixture.TenantA;
        var page = await fixture.SignInAsync(a.Key);
        await page.GotoAsync($"{fixture.BaseUrl}/console#/users/{a.User.Id}");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Ada Lovelace" })).ToBeVisibleAsync();
        await fixture.ScreenshotAsync(page, "tenant-user");
        var download = await page.RunAndWaitForDownloadAsync(() => page.GetByRole(AriaRole.Button, new() { Name = "Download export" }).ClickAsync());
        Assert.Equal($"chatstore-user-{a.User.Id}.ndjson", download.SuggestedFilename);
        var path = await download.PathAsync();
        var lines = (await File.ReadAllLinesAsync(path)).Where(l => l.Length > 0).ToList();
        Assert.NotEmpty(lines);
        var documents = lines.Select(l => JsonDocument.Parse(l)).ToList(); // every line is one JSON value
        var text = string.Join("\n", lines);
        Assert.Contains(a.User.Id.ToString(), text, StringComparison.Ordinal);
        Assert.Contains("Which neighbourhoods in Lisbon are good for walking?", text, StringComparison.Ordinal);
        Assert.All(documents, d => Assert.Equal(JsonValueKind.Object, d.RootElement.ValueKind));
    }

    [Fact]
    public async Task Erase_after_typed_confirmation_removes_the_user()
    {
        var a = fixture.TenantA;
        var scope = fixture.Client.ForTenant(a.TenantId);
        var user = await scope.Users.CreateAsync(new NewUser { Email = $"erase-{Guid.NewGuid():N}@example.com", Name = "To Erase" });
        var conversation = await scope.Conversations.CreateAsync(new() { UserId = user.Id, Title = "Soon gone" });
        await scope.Messages.AppendAsync(conversation.Id, new Messages.NewMessage { Role = "user", Content = "forget me" });

        var page = await fixture.SignInAsync(a.Key);
        await page.GetByRole(AriaRole.Link, new() { Name = "Users" }).ClickAsync();
        await page.GetByLabel("Email, external id or name").FillAsync("To Erase");
        await page.GetByRole(AriaRole.Button, new() { Name = "Find" }).ClickAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "To Erase" }).ClickAsync();

        var confirm = page.GetByLabel($"Type {user.Email} to confirm");
        await confirm.FillAsync("not the email");
        await page.GetByRole(AriaRole.Button, new() { Name = "Erase this user" }).ClickAsync();
        await Expect(page.GetByText($"Type {user.Email} exactly to confirm.")).ToBeVisibleAsync();
        Assert.Equal(user.Id, (await scope.Users.GetAsync(user.Id)).Id);

        await confirm.FillAsync(user.Email!);
        await page.GetByRole(AriaRole.Button, new() { Name = "Erase this user" }).ClickAsync();
        await Expect(page.GetByText("Erased. Rows deleted per table:")).ToBeVisibleAsync();
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => scope.Users.GetAsync(user.Id));
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => scope.Conversations.GetAsync(conversation.Id));
    }

    [Fact]
    public async Task Usage_page_draws_tokens_and_cost_per_day_as_svg()
    {
        var a = fixture.TenantA;
        var scope = fixture.Client.ForTenant(a.TenantId);
        await scope.Usage.RecordAsync(new Usage.NewUsageEvent
        {
            UserId = a.User.Id, Action = "chat", Model = "gpt-4o-mini", InputTokens = 500, OutputTokens = 200, CostUsd = 0.001m,
        });
        var page = await fixture.SignInAsync(a.Key);
        await page.GotoAsync($"{fixture.BaseUrl}/console#/usage?userId={a.User.Id}");
        await Expect(page.Locator(".chart svg rect").First).ToBeVisibleAsync();
        await Expect(page.Locator(".legend")).ToContainTextAsync("gpt-4o-mini");
        await Expect(page.GetByRole(AriaRole.Cell, new() { Name = "gpt-4o-mini" }).First).ToBeVisibleAsync();
        await fixture.ScreenshotAsync(page, "tenant-usage");
    }

    [Fact]
    public async Task Console_sends_a_strict_csp_and_forbids_framing_and_fits_a_phone()
    {
        var page = await fixture.NewPageAsync(390, 844);
        var response = await page.GotoAsync(fixture.BaseUrl + "/console");
        var headers = await response!.AllHeadersAsync();
        Assert.DoesNotContain("unsafe-inline", headers["content-security-policy"], StringComparison.Ordinal);
        Assert.Contains("script-src 'self'", headers["content-security-policy"], StringComparison.Ordinal);
        Assert.Equal("DENY", headers["x-frame-options"]);
        using (var http = new HttpClient())
        {
            // An unknown API path is 404, not the page; the app's own files are served.
            Assert.Equal(System.Net.HttpStatusCode.NotFound, (await http.GetAsync(fixture.BaseUrl + "/console/api/tenant/nothing-here")).StatusCode);
            Assert.Equal(System.Net.HttpStatusCode.NotFound, (await http.GetAsync(fixture.BaseUrl + "/console/missing.js")).StatusCode);
            Assert.Equal("text/javascript", (await http.GetAsync(fixture.BaseUrl + "/console/app.js")).Content.Headers.ContentType?.MediaType);
        }

        var phone = await fixture.SignInAsync(fixture.TenantA.Key, 390, 844);
        await phone.GotoAsync($"{fixture.BaseUrl}/console#/conversations/{fixture.TenantA.ConversationId}");
        await Expect(phone.Locator("article.role-assistant")).ToBeVisibleAsync();
        var overflow = await phone.EvaluateAsync<bool>("document.documentElement.scrollWidth > window.innerWidth + 1");
        Assert.False(overflow, "the transcript is wider than a phone screen");
        await fixture.ScreenshotAsync(phone, "phone-transcript");
    }

    [Fact]
    public async Task Api_reference_renders_loads_nothing_from_outside_the_service_and_tries_a_request_with_a_tenant_key()
    {
        var page = await fixture.NewPageAsync();
        var requests = new List<string>();
        page.Request += (_, request) => { lock (requests) requests.Add(request.Url); };
        var response = await page.GotoAsync(fixture.BaseUrl + "/docs/");
        Assert.Equal(200, response!.Status);
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "ChatStore", Level = 1 })).ToBeVisibleAsync(new() { Timeout = 60_000 });
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "Tenants", Exact = true })).ToBeVisibleAsync();
        await Expect(page.GetByText("Ask AI")).ToHaveCountAsync(0);
        await fixture.ScreenshotAsync(page, "docs");

        // Try it with a tenant key: the request goes to this service with the key as the bearer.
        await page.GotoAsync(fixture.BaseUrl + "/docs/#tag/users/GET/v1/users");
        await page.GetByRole(AriaRole.Button, new() { Name = "Test Request (get /v1/users)" }).First.ClickAsync();
        await page.GetByRole(AriaRole.Textbox, new() { Name = "Bearer Token" }).Last.FillAsync(fixture.TenantA.Key);
        var tried = await page.RunAndWaitForResponseAsync(
            () => page.GetByRole(AriaRole.Button, new() { NameRegex = new System.Text.RegularExpressions.Regex("^Send get request") }).ClickAsync(),
            r => r.Url == fixture.BaseUrl + "/v1/users" && r.Request.Method == "GET");
        Assert.Equal(200, tried.Status);
        Assert.Equal("Bearer " + fixture.TenantA.Key, await tried.Request.HeaderValueAsync("authorization"));
        Assert.Contains(fixture.TenantA.User.Email!, await tried.TextAsync(), StringComparison.Ordinal);
        string[] seen;
        lock (requests) seen = [.. requests];
        Assert.Contains(seen, u => u.EndsWith("/openapi/v1.json", StringComparison.Ordinal));
        Assert.All(seen, u => Assert.True(u.StartsWith(fixture.BaseUrl + "/", StringComparison.Ordinal) || u.StartsWith("data:", StringComparison.Ordinal)
            || u.StartsWith("blob:", StringComparison.Ordinal), $"a request left the service: {u}"));
    }
}
