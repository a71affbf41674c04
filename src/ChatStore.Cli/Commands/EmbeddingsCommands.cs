using System.CommandLine;
using System.Globalization;
using ChatStore.Embeddings;
using Microsoft.Extensions.AI;
using Spectre.Console;

namespace ChatStore.Cli.Commands;

/// <summary><c>chatstore embeddings …</c>: embedding spaces and their vectors.</summary>
internal static class EmbeddingsCommands
{
    public static Command Build()
    {
        var embeddings = new Command("embeddings", "Register embedding spaces, build their indexes and embed rows that lack vectors");
        embeddings.Subcommands.Add(Spaces());
        embeddings.Subcommands.Add(Register());
        embeddings.Subcommands.Add(BuildIndex());
        embeddings.Subcommands.Add(Reindex());
        return embeddings;
    }

    static Command Spaces()
    {
        var command = new Command("spaces", "List the embedding spaces");
        CliAction.Set(command, async (parse, client, ct) =>
        {
            var table = new Table().AddColumns("Name", "Model", "Dimensions", "Metric", "Index", "Created");
            foreach (var s in await client.Embeddings.ListSpacesAsync(ct))
                table.AddRow(Markup.Escape(s.Name), Markup.Escape(s.Model), s.Dimensions.ToString(CultureInfo.InvariantCulture), s.Metric.ToString(),
                    s.IndexKind.ToString(), s.CreatedAt.ToString("u", CultureInfo.InvariantCulture));
            AnsiConsole.Write(table);
            return 0;
        });
        return command;
    }

    static Command Register()
    {
        var name = new Option<string>("--name") { Description = "Space name (lower-case letters, digits, _ . -)", Required = true };
        var model = new Option<string>("--model")
        {
            Description = $"Embedding model (default: {LocalHashingEmbeddingGenerator.DefaultModelId}, the built-in offline embedder)",
            DefaultValueFactory = _ => LocalHashingEmbeddingGenerator.DefaultModelId,
        };
        var dimensions = new Option<int>("--dimensions") { Description = "Vector dimensions", DefaultValueFactory = _ => 384 };
        var metric = new Option<string>("--metric") { Description = "cosine, l2 or inner_product", DefaultValueFactory = _ => "cosine" };
        var index = new Option<string>("--index") { Description = "hnsw, ivfflat or none", DefaultValueFactory = _ => "hnsw" };
        var m = new Option<int?>("--m") { Description = "HNSW connections per node (default 16)" };
        var ef = new Option<int?>("--ef-construction") { Description = "HNSW build candidate list (default 64)" };
        var lists = new Option<int?>("--lists") { Description = "IVFFlat lists (default 100)" };
        var defer = new Option<bool>("--defer-index") { Description = "Do not build the index yet (build it with `embeddings build-index` after a first load)" };
        var command = new Command("register", "Register an embedding space and build its vector index") { name, model, dimensions, metric, index, m, ef, lists, defer };
        CliAction.Set(command, async (parse, client, ct) =>
        {
            var space = await client.Embeddings.RegisterSpaceAsync(new NewEmbeddingSpace
            {
                Name = parse.GetValue(name)!,
                Model = parse.GetValue(model)!,
                Dimensions = parse.GetValue(dimensions),
                Metric = parse.GetValue(metric) switch
                {
                    "cosine" => DistanceMetric.Cosine,
                    "l2" => DistanceMetric.L2,
                    "inner_product" => DistanceMetric.InnerProduct,
                    var other => throw new ChatStoreValidationException("metric", "enum", $"must be cosine, l2 or inner_product; got '{other}'."),
                },
                IndexKind = parse.GetValue(index) switch
                {
                    "hnsw" => VectorIndexKind.Hnsw,
                    "ivfflat" => VectorIndexKind.IvfFlat,
                    "none" => VectorIndexKind.None,
                    var other => throw new ChatStoreValidationException("index", "enum", $"must be hnsw, ivfflat or none; got '{other}'."),
                },
                IndexParameters = new VectorIndexParameters { M = parse.GetValue(m), EfConstruction = parse.GetValue(ef), Lists = parse.GetValue(lists) },
            }, deferIndex: parse.GetValue(defer), cancellationToken: ct);
            AnsiConsole.MarkupLineInterpolated($"[green]Registered[/] space {space.Name} ({space.Model}, {space.Dimensions} dimensions, {space.Metric}, {space.IndexKind}).");
            return 0;
        });
        return command;
    }

    static Command BuildIndex()
    {
        var space = new Option<string>("--space") { Description = "Space name", Required = true };
        var command = new Command("build-index", "Build (or rebuild) a space's vector index concurrently") { space };
        CliAction.Set(command, async (parse, client, ct) =>
        {
            var s = await client.Embeddings.RebuildIndexAsync(parse.GetValue(space)!, cancellationToken: ct);
            AnsiConsole.MarkupLineInterpolated($"[green]Built[/] index {s.IndexName} of space {s.Name}.");
            return 0;
        });
        return command;
    }

    static Command Reindex()
    {
        var space = new Option<string>("--space") { Description = "Space name", Required = true };
        var tenant = new Option<string?>("--tenant") { Description = "Only this tenant (default: every tenant)" };
        var batch = new Option<int>("--batch-size") { Description = "Rows per batch", DefaultValueFactory = _ => 128 };
        var command = new Command("reindex", "Embed the messages, memories, documents and analyses that have no vector in a space") { space, tenant, batch };
        CliAction.Set(command, async (parse, client, ct) =>
        {
            var s = await client.Embeddings.GetSpaceAsync(parse.GetValue(space)!, ct);
            using var generator = Generator(s);
            var tenants = parse.GetValue(tenant) is { } one ? [ParseId(one, "tenant")] : await AllTenantsAsync(client, ct);
            var options = new ReindexOptions { BatchSize = parse.GetValue(batch) };
            long total = 0;
            if (AnsiConsole.Profile.Capabilities.Interactive)
            {
                await AnsiConsole.Progress()
                    .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
                    .StartAsync(async progress =>
                    {
                        foreach (var id in tenants)
                        {
                            var scope = client.ForTenant(id);
                            var missing = await scope.Embeddings.CountMissingAsync(s, cancellationToken: ct);
                            var task = progress.AddTask(Markup.Escape($"tenant {id}"), maxValue: Math.Max(1, missing));
                            var result = await scope.Embeddings.ReindexAsync(s, generator, options, new Progress<long>(n => task.Value = n), ct);
                            task.Value = task.MaxValue;
                            total += result.Rows;
                        }
                    });
            }
            else
            {
                foreach (var id in tenants)
                {
                    var result = await client.ForTenant(id).Embeddings.ReindexAsync(s, generator, options, null, ct);
                    Console.Out.WriteLine($"tenant {id}: {result.Rows} rows embedded");
                    total += result.Rows;
                }
            }
            AnsiConsole.MarkupLineInterpolated($"[green]Embedded[/] {total} rows into space {s.Name}.");
            return 0;
        });
        return command;
    }

    /// <summary>
    /// The embedder for a space: the built-in one for its model, else an OpenAI-compatible API from
    /// CHATSTORE_EMBEDDINGS_URL (and CHATSTORE_EMBEDDINGS_API_KEY, or CHATSTORE_EMBEDDINGS_API_KEY_FILE naming a file holding it).
    /// </summary>
    internal static IEmbeddingGenerator<string, Embedding<float>> Generator(EmbeddingSpace space)
    {
        if (EmbeddingGenerators.ForSpace(space) is { } local)
            return local;
        var url = Environment.GetEnvironmentVariable("CHATSTORE_EMBEDDINGS_URL");
        if (string.IsNullOrWhiteSpace(url) || !Uri.TryCreate(url, UriKind.Absolute, out var baseUrl))
            throw new ChatStoreConfigurationException(
                $"Space '{space.Name}' holds vectors of model '{space.Model}'. Set CHATSTORE_EMBEDDINGS_URL (an OpenAI-compatible API such as https://api.openai.com/v1) and CHATSTORE_EMBEDDINGS_API_KEY to embed with it.");
        return new OpenAiCompatibleEmbeddingGenerator(new OpenAiCompatibleEmbeddingOptions
        {
            BaseUrl = baseUrl, Model = space.Model, ApiKey = Connection.SecretVariable.Read("CHATSTORE_EMBEDDINGS_API_KEY"),
        });
    }

    internal static Guid ParseId(string value, string option) =>
        Guid.TryParse(value, out var id) && id != Guid.Empty ? id : throw new ChatStoreValidationException(option, "format", $"'{value}' is not an id (a UUID).");

    static async Task<List<Guid>> AllTenantsAsync(ChatStoreClient client, CancellationToken ct)
    {
        var ids = new List<Guid>();
        string? cursor = null;
        do
        {
            var page = await client.Tenants.ListAsync(500, cursor, ct);
            ids.AddRange(page.Items.Select(t => t.Id));
            cursor = page.NextCursor;
        } while (cursor is not null);
        return ids;
    }
}
