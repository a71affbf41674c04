using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using ChatStore.Documents;
using ChatStore.Tests.Memories;

namespace ChatStore.Tests.Documents;

public sealed class DocumentStoreTests
{
    static NewDocument Upload(Guid userId, string filename = "report.pdf") =>
        new() { UserId = userId, Filename = filename, MimeType = "application/pdf", SizeBytes = 1234, StorageUri = "s3://bucket/" + filename };

    [Fact]
    public async Task Create_stores_a_pending_document_with_its_fields_and_the_tenants_language()
    {
        var (_, scope, tenant) = await TestStore.NewTenantAsync(searchLanguage: "simple");
        var user = await TestStore.NewUserAsync(scope);
        var conversation = await ChatRows.ConversationAsync(tenant.Id, user.Id);
        var digest = SHA256.HashData("content"u8);
        var document = await scope.Documents.CreateAsync(new NewDocument
        {
            UserId = user.Id, ConversationId = conversation, Filename = "Ünïcode 🐶.pdf", MimeType = "application/pdf; charset=binary",
            SizeBytes = 5_000_000_000, Sha256 = digest, StorageUri = "s3://bucket/key", Metadata = JsonDocument.Parse("""{"pages":3}""").RootElement,
        });
        Assert.Equal((tenant.Id, user.Id, (Guid?)conversation), (document.TenantId, document.UserId, document.ConversationId));
        Assert.Equal(("Ünïcode 🐶.pdf", "application/pdf; charset=binary", 5_000_000_000L, "s3://bucket/key"),
            (document.Filename, document.MimeType, document.SizeBytes, document.StorageUri));
        Assert.Equal(digest, document.Sha256!.Value.ToArray());
        Assert.Equal(("pending", (string?)null, false, 0, "simple"), (document.Status, document.Error, document.HasExtractedText, document.LastAnalysisVersion, document.Language));
        Assert.Equal(3, document.Metadata.GetProperty("pages").GetInt32());

        var read = await scope.Documents.GetAsync(document.Id);
        Assert.Equal(digest, read.Sha256!.Value.ToArray());
        Assert.Equal((document.Id, document.Filename, document.CreatedAt), (read.Id, read.Filename, read.CreatedAt));
        var plain = await scope.Documents.CreateAsync(new NewDocument { UserId = user.Id, Filename = "x" });
        Assert.Equal(("application/octet-stream", 0L, (string?)null), (plain.MimeType, plain.SizeBytes, plain.StorageUri));
        Assert.Null(plain.Sha256);
        Assert.Null(plain.ConversationId);
    }

    [Fact]
    public async Task Status_goes_pending_processing_failed_processing_ready()
    {
        var (_, scope, _) = await TestStore.NewTenantAsync();
        var user = await TestStore.NewUserAsync(scope);
        var document = await scope.Documents.CreateAsync(Upload(user.Id));

        Assert.Equal("processing", (await scope.Documents.MarkProcessingAsync(document.Id)).Status);
        var failed = await scope.Documents.MarkFailedAsync(document.Id, "OCR timed out");
        Assert.Equal(("failed", "OCR timed out"), (failed.Status, failed.Error));
        var retried = await scope.Documents.MarkProcessingAsync(document.Id);
        Assert.Equal(("processing", (string?)null), (retried.Status, retried.Error));
        var ready = await scope.Documents.MarkReadyAsync(document.Id, "the extracted text");
        Assert.Equal(("ready", true), (ready.Status, ready.HasExtractedText));
        Assert.Equal("the extracted text", await scope.Documents.GetExtractedTextAsync(document.Id));
        Assert.Equal("ready", (await scope.Documents.GetAsync(document.Id)).Status);
    }

    [Theory]
    [InlineData("pending", "ready")]
    [InlineData("pending", "failed")]
    [InlineData("processing", "processing")]
    [InlineData("ready", "processing")]
    [InlineData("ready", "failed")]
    [InlineData("ready", "ready")]
    [InlineData("failed", "ready")]
    [InlineData("failed", "failed")]
    public async Task An_illegal_status_transition_is_a_conflict_naming_both_statuses_and_changes_nothing(string from, string to)
    {
        var (_, scope, _) = await TestStore.NewTenantAsync();
        var user = await TestStore.NewUserAsync(scope);
        var id = (await scope.Documents.CreateAsync(Upload(user.Id))).Id;
        if (from != "pending") await scope.Documents.MarkProcessingAsync(id);
        if (from == "ready") await scope.Documents.MarkReadyAsync(id);
        if (from == "failed") await scope.Documents.MarkFailedAsync(id, "first failure");

        var error = await Assert.ThrowsAsync<ChatStoreConflictException>(() => to switch
        {
            "processing" => scope.Documents.MarkProcessingAsync(id),
            "ready" => scope.Documents.MarkReadyAsync(id, "text"),
            _ => scope.Documents.MarkFailedAsync(id, "second failure"),
        });
        Assert.Contains($"from {from} to {to}", error.Message, StringComparison.Ordinal);
        var document = await scope.Documents.GetAsync(id);
        Assert.Equal(from, document.Status);
        Assert.Equal(from == "failed" ? "first failure" : null, document.Error);
        Assert.False(document.HasExtractedText);
    }

    [Fact]
    public async Task Concurrent_analyses_get_gapless_versions_and_latest_and_history_follow_them()
    {
        var (_, scope, _) = await TestStore.NewTenantAsync();
        var user = await TestStore.NewUserAsync(scope);
        var document = await scope.Documents.CreateAsync(Upload(user.Id));
        Assert.Null(await scope.Documents.GetLatestAnalysisAsync(document.Id));
        Assert.Empty((await scope.Documents.ListAnalysesAsync(document.Id)).Items);

        var added = await Task.WhenAll(Enumerable.Range(1, 20).Select(i => Task.Run(() => scope.Documents.AddAnalysisAsync(document.Id, new NewAnalysis
        {
            Category = "invoice", Summary = $"analysis {i}", Result = JsonDocument.Parse($$"""{"run":{{i}}}""").RootElement,
            Provider = "openai", Model = "gpt-test", TraceId = $"trace-{i}",
        }))));
        Assert.Equal(Enumerable.Range(1, 20), added.Select(a => a.Version).Order());
        Assert.Equal(20, (await scope.Documents.GetAsync(document.Id)).LastAnalysisVersion);

        var latest = await scope.Documents.GetLatestAnalysisAsync(document.Id);
        var v20 = added.Single(a => a.Version == 20);
        Assert.Equal((v20.Id, v20.Summary, v20.Result.GetRawText()), (latest!.Id, latest.Summary, latest.Result.GetRawText()));
        var fifth = await scope.Documents.GetAnalysisAsync(document.Id, 5);
        Assert.Equal(added.Single(a => a.Version == 5).Id, fifth.Id);
        Assert.Equal(("invoice", "openai", "gpt-test"), (fifth.Category, fifth.Provider, fifth.Model));
        Assert.Equal(fifth.TraceId, $"trace-{fifth.Result.GetProperty("run").GetInt32()}");

        var versions = new List<int>();
        string? cursor = null;
        do
        {
            var page = await scope.Documents.ListAnalysesAsync(document.Id, limit: 6, cursor: cursor);
            versions.AddRange(page.Items.Select(a => a.Version));
            cursor = page.NextCursor;
        } while (cursor is not null);
        Assert.Equal(Enumerable.Range(1, 20).Reverse(), versions);

        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => scope.Documents.GetAnalysisAsync(document.Id, 21));
        await Assert.ThrowsAsync<ChatStoreValidationException>(() => scope.Documents.GetAnalysisAsync(document.Id, 0));
    }

    [Fact]
    public async Task Two_megabytes_of_unique_words_are_stored_whole_and_the_first_100000_characters_are_indexed()
    {
        var (_, scope, _) = await TestStore.NewTenantAsync(searchLanguage: "simple");
        var user = await TestStore.NewUserAsync(scope);
        var builder = new StringBuilder(2_000_100);
        for (var i = 0; builder.Length < 2_000_000; i++)
            builder.Append(Word(i)).Append(' ');
        var text = builder.ToString(0, 2_000_000);
        var late = Word(300_000); // well past the first 100,000 characters
        Assert.Contains(" " + late + " ", text, StringComparison.Ordinal);

        var viaReady = await scope.Documents.CreateAsync(Upload(user.Id, "ready.txt"));
        await scope.Documents.MarkProcessingAsync(viaReady.Id);
        Assert.True((await scope.Documents.MarkReadyAsync(viaReady.Id, text)).HasExtractedText);
        var viaSet = await scope.Documents.CreateAsync(Upload(user.Id, "set.txt"));
        await scope.Documents.SetExtractedTextAsync(viaSet.Id, text);

        foreach (var id in new[] { viaReady.Id, viaSet.Id })
        {
            Assert.Equal(text, await scope.Documents.GetExtractedTextAsync(id));
            Assert.Equal(2_000_000, await TestStore.ScalarAsync<int>("SELECT length(extracted_text) FROM documents WHERE id = $1", id));
            Assert.True(await TestStore.ScalarAsync<bool>("SELECT search_vector @@ to_tsquery('simple', $2) FROM documents WHERE id = $1", id, Word(1)));
            Assert.False(await TestStore.ScalarAsync<bool>("SELECT search_vector @@ to_tsquery('simple', $2) FROM documents WHERE id = $1", id, late));
        }
        Assert.False((await scope.Documents.SetExtractedTextAsync(viaSet.Id, null)).HasExtractedText);
        Assert.Null(await scope.Documents.GetExtractedTextAsync(viaSet.Id));

        // Distinct words of letters only: a, b, …, z, ba, bb, … (a base-26 numeral, so no two are equal).
        static string Word(int n)
        {
            var word = new StringBuilder();
            do
            {
                word.Insert(0, (char)('a' + n % 26));
                n /= 26;
            } while (n > 0);
            return "w" + word;
        }
    }

    [Fact]
    public async Task List_is_newest_first_by_user_with_a_status_filter_keyset_pages_and_no_deleted_documents()
    {
        var (_, scope, _) = await TestStore.NewTenantAsync();
        var user = await TestStore.NewUserAsync(scope);
        var other = await TestStore.NewUserAsync(scope);
        var documents = new List<Document>();
        for (var i = 0; i < 7; i++) documents.Add(await scope.Documents.CreateAsync(Upload(user.Id, $"file{i}.pdf")));
        await scope.Documents.CreateAsync(Upload(other.Id));
        await scope.Documents.MarkProcessingAsync(documents[2].Id);
        await scope.Documents.MarkProcessingAsync(documents[5].Id);
        await scope.Documents.DeleteAsync(documents[6].Id);

        var seen = new List<Guid>();
        string? cursor = null;
        do
        {
            var page = await scope.Documents.ListAsync(user.Id, new DocumentQuery { Limit = 2, Cursor = cursor });
            seen.AddRange(page.Items.Select(d => d.Id));
            cursor = page.NextCursor;
        } while (cursor is not null);
        Assert.Equal(documents.Take(6).OrderByDescending(d => d.CreatedAt).ThenByDescending(d => d.Id).Select(d => d.Id), seen);

        var processing = await scope.Documents.ListAsync(user.Id, new DocumentQuery { Status = DocumentStatuses.Processing });
        Assert.Equal([documents[5].Id, documents[2].Id], processing.Items.Select(d => d.Id));
        Assert.Equal("status", (await Assert.ThrowsAsync<ChatStoreValidationException>(() => scope.Documents.ListAsync(user.Id, new DocumentQuery { Status = "done" }))).Field);
        await Assert.ThrowsAsync<ChatStoreValidationException>(() => scope.Documents.ListAsync(user.Id, new DocumentQuery { Limit = 501 }));
    }

    [Fact]
    public async Task Soft_deleted_documents_and_their_analyses_are_not_found()
    {
        var (_, scope, _) = await TestStore.NewTenantAsync();
        var user = await TestStore.NewUserAsync(scope);
        var document = await scope.Documents.CreateAsync(Upload(user.Id));
        await scope.Documents.AddAnalysisAsync(document.Id, new NewAnalysis { Summary = "s" });
        await scope.Documents.DeleteAsync(document.Id);

        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => scope.Documents.GetAsync(document.Id));
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => scope.Documents.DeleteAsync(document.Id));
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => scope.Documents.GetLatestAnalysisAsync(document.Id));
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => scope.Documents.AddAnalysisAsync(document.Id, new NewAnalysis()));
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => scope.Documents.MarkProcessingAsync(document.Id));
        Assert.True(await TestStore.ScalarAsync<bool>("SELECT deleted_at IS NOT NULL FROM documents WHERE id = $1", document.Id));
        Assert.Equal(1L, await TestStore.ScalarAsync<long>("SELECT count(*) FROM document_analyses WHERE document_id = $1", document.Id));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Another_tenant_cannot_read_or_change_documents_or_analyses(bool bypassRowLevelSecurity)
    {
        var (_, a, _) = await TestStore.NewTenantAsync(bypassRowLevelSecurity: bypassRowLevelSecurity);
        var (_, b, _) = await TestStore.NewTenantAsync(bypassRowLevelSecurity: bypassRowLevelSecurity);
        var userA = await TestStore.NewUserAsync(a);
        var document = await a.Documents.CreateAsync(Upload(userA.Id));
        await a.Documents.SetExtractedTextAsync(document.Id, "private text");
        await a.Documents.AddAnalysisAsync(document.Id, new NewAnalysis { Summary = "private summary" });

        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => b.Documents.GetAsync(document.Id));
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => b.Documents.GetExtractedTextAsync(document.Id));
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => b.Documents.SetExtractedTextAsync(document.Id, "overwritten"));
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => b.Documents.MarkProcessingAsync(document.Id));
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => b.Documents.DeleteAsync(document.Id));
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => b.Documents.AddAnalysisAsync(document.Id, new NewAnalysis()));
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => b.Documents.GetLatestAnalysisAsync(document.Id));
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => b.Documents.GetAnalysisAsync(document.Id, 1));
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => b.Documents.ListAnalysesAsync(document.Id));
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => b.Documents.CreateAsync(Upload(userA.Id)));
        Assert.Empty((await b.Documents.ListAsync(userA.Id)).Items);

        var still = await a.Documents.GetAsync(document.Id);
        Assert.Equal(("pending", 1), (still.Status, still.LastAnalysisVersion));
        Assert.Equal("private text", await a.Documents.GetExtractedTextAsync(document.Id));
        Assert.Equal(1L, await TestStore.ScalarAsync<long>("SELECT count(*) FROM documents WHERE user_id = $1", userA.Id));
    }

    [Fact]
    public async Task A_conversation_of_another_user_is_not_found_and_nothing_is_stored()
    {
        var (_, scope, tenant) = await TestStore.NewTenantAsync();
        var user = await TestStore.NewUserAsync(scope);
        var other = await TestStore.NewUserAsync(scope);
        var theirs = await ChatRows.ConversationAsync(tenant.Id, other.Id);
        var error = await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => scope.Documents.CreateAsync(Upload(user.Id) with { ConversationId = theirs }));
        Assert.Equal(("conversation", theirs.ToString()), (error.Entity, error.Id));
        Assert.Equal("user", (await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => scope.Documents.CreateAsync(Upload(Guid.NewGuid())))).Entity);
        Assert.Equal(0L, await TestStore.ScalarAsync<long>("SELECT count(*) FROM documents WHERE tenant_id = $1", tenant.Id));
    }

    [Theory]
    [InlineData("filename nul", "filename", "nul_character")]
    [InlineData("filename lone surrogate", "filename", "unpaired_surrogate")]
    [InlineData("filename empty", "filename", "required")]
    [InlineData("filename too long", "filename", "max_length")]
    [InlineData("mime without subtype", "mimeType", "format")]
    [InlineData("mime with space", "mimeType", "format")]
    [InlineData("negative size", "sizeBytes", "not_negative")]
    [InlineData("sha256 short", "sha256", "length")]
    [InlineData("sha256 long", "sha256", "length")]
    [InlineData("storage uri surrogate", "storageUri", "unpaired_surrogate")]
    [InlineData("metadata array", "metadata", "json_type")]
    [InlineData("metadata lone surrogate", "metadata.k[0]", "unpaired_surrogate")]
    [InlineData("empty conversation id", "conversationId", "required")]
    public async Task Bad_documents_are_rejected_naming_the_field_and_nothing_is_stored(string kind, string field, string rule)
    {
        var (_, scope, tenant) = await TestStore.NewTenantAsync();
        var user = await TestStore.NewUserAsync(scope);
        var good = Upload(user.Id);
        // Built here: xunit's theory data would replace a lone surrogate with U+FFFD.
        var document = kind switch
        {
            "filename nul" => good with { Filename = "a\0.pdf" },
            "filename lone surrogate" => good with { Filename = "\ud83d.pdf" },
            "filename empty" => good with { Filename = "" },
            "filename too long" => good with { Filename = new string('f', 1001) },
            "mime without subtype" => good with { MimeType = "pdf" },
            "mime with space" => good with { MimeType = "application/ pdf" },
            "negative size" => good with { SizeBytes = -1 },
            "sha256 short" => good with { Sha256 = new byte[31] },
            "sha256 long" => good with { Sha256 = new byte[33] },
            "storage uri surrogate" => good with { StorageUri = "s3://\udc00" },
            "metadata array" => good with { Metadata = JsonDocument.Parse("[]").RootElement },
            "metadata lone surrogate" => good with { Metadata = JsonDocument.Parse("""{"k":["\ud800"]}""").RootElement },
            _ => good with { ConversationId = Guid.Empty },
        };
        var error = await Assert.ThrowsAsync<ChatStoreValidationException>(() => scope.Documents.CreateAsync(document));
        Assert.Equal((field, rule), (error.Field, error.Rule));
        Assert.Equal(0L, await TestStore.ScalarAsync<long>("SELECT count(*) FROM documents WHERE tenant_id = $1", tenant.Id));
    }

    [Fact]
    public async Task Bad_analyses_and_texts_are_rejected_naming_the_field_and_change_nothing()
    {
        var (_, scope, _) = await TestStore.NewTenantAsync();
        var user = await TestStore.NewUserAsync(scope);
        var document = await scope.Documents.CreateAsync(Upload(user.Id));
        async Task Rejected(string field, Func<Task> act) =>
            Assert.Equal(field, (await Assert.ThrowsAsync<ChatStoreValidationException>(act)).Field);

        await Rejected("result", () => scope.Documents.AddAnalysisAsync(document.Id, new NewAnalysis { Result = JsonDocument.Parse("[1,2]").RootElement }));
        await Rejected("result", () => scope.Documents.AddAnalysisAsync(document.Id, new NewAnalysis { Result = JsonDocument.Parse("42").RootElement }));
        await Rejected("category", () => scope.Documents.AddAnalysisAsync(document.Id, new NewAnalysis { Category = "a\0" }));
        await Rejected("summary", () => scope.Documents.AddAnalysisAsync(document.Id, new NewAnalysis { Summary = "\udbff" }));
        await Rejected("model", () => scope.Documents.AddAnalysisAsync(document.Id, new NewAnalysis { Model = new string('m', 201) }));
        await Rejected("traceId", () => scope.Documents.AddAnalysisAsync(document.Id, new NewAnalysis { TraceId = "t\0" }));
        await Rejected("extractedText", () => scope.Documents.SetExtractedTextAsync(document.Id, "x\0y"));
        await Rejected("extractedText", () => scope.Documents.SetExtractedTextAsync(document.Id, new string('x', scope.Limits.MaxDocumentTextLength + 1)));
        await scope.Documents.MarkProcessingAsync(document.Id);
        await Rejected("error", () => scope.Documents.MarkFailedAsync(document.Id, ""));
        await Rejected("extractedText", () => scope.Documents.MarkReadyAsync(document.Id, "\ud800"));

        var unchanged = await scope.Documents.GetAsync(document.Id);
        Assert.Equal(("processing", 0, false), (unchanged.Status, unchanged.LastAnalysisVersion, unchanged.HasExtractedText));
        Assert.Equal(0L, await TestStore.ScalarAsync<long>("SELECT count(*) FROM document_analyses WHERE document_id = $1", document.Id));
    }
}
