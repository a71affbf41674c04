using System.CommandLine;
using System.Globalization;
using ChatStore.Search;
using Spectre.Console;

namespace ChatStore.Cli.Commands;

/// <summary><c>chatstore search "…"</c>: full-text, vector or hybrid search as a tenant.</summary>
internal static class SearchCommands
{
    // Snippet markers that text never contains in practice; replaced by markup after escaping.
    const string Start = "\u0002", End = "\u0003";

    public static Command Build()
    {
        var text = new Argument<string>("text") { Description = "What to search for (web-search syntax: \"phrases\", or, -excluded)" };
        var tenant = new Option<string>("--tenant") { Description = "Tenant id", Required = true };
        var user = new Option<string?>("--user") { Description = "Only this user's rows (id)" };
        var mode = new Option<string>("--mode") { Description = "fts, vector or hybrid", DefaultValueFactory = _ => "fts" };
        var space = new Option<string?>("--space") { Description = "Embedding space for vector and hybrid search (default: the only one)" };
        var limit = new Option<int>("--limit") { Description = "Results", DefaultValueFactory = _ => 10 };
        var command = new Command("search", "Search a tenant's messages, memories and documents") { text, tenant, user, mode, space, limit };
        CliAction.Set(command, async (parse, client, ct) =>
        {
            var scope = client.ForTenant(EmbeddingsCommands.ParseId(parse.GetValue(tenant)!, "tenant"));
            var userId = parse.GetValue(user) is { } u ? EmbeddingsCommands.ParseId(u, "user") : (Guid?)null;
            var query = parse.GetValue(text)!;
            var n = parse.GetValue(limit);
            var table = new Table();
            switch (parse.GetValue(mode))
            {
                case "fts":
                    var page = await scope.Search.FullTextAsync(new SearchQuery
                    {
                        Text = query, UserId = userId, Limit = n, HighlightStart = Start, HighlightEnd = End,
                    }, ct);
                    Columns(table, "Rank", "Kind", "Id", "Created", "Snippet");
                    foreach (var h in page.Items)
                        table.AddRow(h.Rank.ToString("F4", CultureInfo.InvariantCulture), h.Kind.ToString(), h.Id.ToString(), Time(h.CreatedAt), Snippet(h.Snippet));
                    break;
                case "vector":
                    var vectorSpace = await SpaceAsync(client, parse.GetValue(space), ct);
                    using (var generator = EmbeddingsCommands.Generator(vectorSpace))
                    {
                        var hits = await scope.Search.VectorAsync(new VectorSearchQuery
                        {
                            Space = vectorSpace, Text = query, Generator = generator, UserId = userId, K = n,
                        }, ct);
                        Columns(table, "Distance", "Kind", "Id", "Chunk", "Created", "Text");
                        foreach (var h in hits)
                            table.AddRow(h.Distance.ToString("F4", CultureInfo.InvariantCulture), h.Kind.ToString(), h.Id.ToString(),
                                h.ChunkIndex.ToString(CultureInfo.InvariantCulture), h.CreatedAt is { } at ? Time(at) : "", Markup.Escape(Clip(h.ChunkText ?? "")));
                    }
                    break;
                case "hybrid":
                    var hybridSpace = await SpaceAsync(client, parse.GetValue(space), ct);
                    using (var generator = EmbeddingsCommands.Generator(hybridSpace))
                    {
                        var hits = await scope.Search.HybridAsync(new HybridSearchQuery
                        {
                            Space = hybridSpace, Text = query, Generator = generator, UserId = userId, Limit = n, HighlightStart = Start, HighlightEnd = End,
                        }, ct);
                        Columns(table, "Score", "Text rank", "Vector rank", "Kind", "Id", "Created", "Snippet");
                        foreach (var h in hits)
                            table.AddRow(h.Score.ToString("F5", CultureInfo.InvariantCulture), h.FullTextRank?.ToString(CultureInfo.InvariantCulture) ?? "-",
                                h.VectorRank?.ToString(CultureInfo.InvariantCulture) ?? "-", h.Kind.ToString(), h.Id.ToString(), Time(h.CreatedAt),
                                h.Snippet is { } s ? Snippet(s) : Markup.Escape(Clip(h.ChunkText ?? "")));
                    }
                    break;
                default:
                    throw new ChatStoreValidationException("mode", "enum", $"must be fts, vector or hybrid; got '{parse.GetValue(mode)}'.");
            }
            if (table.Rows.Count == 0)
            {
                AnsiConsole.MarkupLine("No results.");
                return 0;
            }
            AnsiConsole.Write(table);
            return 0;
        });
        return command;
    }

    static async Task<Embeddings.EmbeddingSpace> SpaceAsync(ChatStoreClient client, string? name, CancellationToken ct)
    {
        if (name is not null)
            return await client.Embeddings.GetSpaceAsync(name, ct);
        var spaces = await client.Embeddings.ListSpacesAsync(ct);
        return spaces.Count == 1
            ? spaces[0]
            : throw new ChatStoreValidationException("space", "required",
                spaces.Count == 0 ? "there are no embedding spaces; register one with `chatstore embeddings register`." : $"name one of: {string.Join(", ", spaces.Select(s => s.Name))}.");
    }

    /// <summary>Adds the columns; the id keeps to one line, so it can be copied whole.</summary>
    static void Columns(Table table, params string[] names)
    {
        foreach (var name in names)
            table.AddColumn(name == "Id" ? new TableColumn(name).NoWrap() : new TableColumn(name));
    }

    static string Time(DateTimeOffset at) => at.ToString("u", CultureInfo.InvariantCulture);

    static string Clip(string text) => text.Length > 200 ? text[..200] + "…" : text;

    static string Snippet(string snippet)
    {
        var clean = new string([.. snippet.Where(c => c is '\u0002' or '\u0003' || !char.IsControl(c) || c == ' ')]);
        var escaped = Markup.Escape(clean.Replace('\n', ' '));
        // Markers come in pairs from ts_headline; a lone one is dropped rather than left unbalanced.
        var parts = escaped.Split(Start);
        var sb = new System.Text.StringBuilder(parts[0].Replace(End, "", StringComparison.Ordinal));
        foreach (var part in parts.Skip(1))
        {
            var end = part.IndexOf(End, StringComparison.Ordinal);
            if (end < 0)
                sb.Append(part);
            else
                sb.Append("[bold yellow]").Append(part[..end]).Append("[/]").Append(part[(end + 1)..].Replace(End, "", StringComparison.Ordinal));
        }
        return sb.ToString();
    }
}
