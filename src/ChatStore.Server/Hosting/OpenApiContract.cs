using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using ChatStore.Documents;
using ChatStore.Memories;
using ChatStore.Messages;
using ChatStore.Reminders;
using ChatStore.Search;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace ChatStore.Server.Hosting;

/// <summary>
/// Shapes the schemas for generated clients: a request property is required only where the server requires it
/// (a non-nullable constructor parameter), every response property is present (required) and nullable only
/// where it can be null; closed sets of strings are enums; the one ProblemDetails schema carries
/// <c>field</c>, <c>rule</c> and <c>traceId</c>; <see cref="HybridSources"/> is an array of enum; the main
/// request bodies have examples.
/// </summary>
internal sealed class OpenApiSchemas : IOpenApiSchemaTransformer
{
    // The closed sets of strings, per schema and property.
    static readonly string[] MessageStatuses = [.. MessageStatus.All];
    static readonly string[] HitStatuses = [.. MessageStatus.All.Concat(DocumentStatuses.All).Distinct(StringComparer.Ordinal)];
    static readonly string[] ReminderStatuses = [ReminderStatus.Pending, ReminderStatus.Sent, ReminderStatus.Completed, ReminderStatus.Cancelled];
    static readonly string[] SearchModes = [ChatStore.SearchHistory.SearchMode.FullText, ChatStore.SearchHistory.SearchMode.Vector, ChatStore.SearchHistory.SearchMode.Hybrid];

    static readonly Dictionary<(string Schema, string Property), string[]> ClosedSets = new()
    {
        [("Message", "role")] = [.. MessageRole.All],
        [("Message", "status")] = MessageStatuses,
        [("SharedMessage", "role")] = [MessageRole.User, MessageRole.Assistant],
        [("AppendMessageRequest", "role")] = [.. MessageRole.All],
        [("AppendMessageRequest", "status")] = [MessageStatus.Complete, MessageStatus.Streaming],
        [("RegenerateRequest", "role")] = [.. MessageRole.All],
        [("RegenerateRequest", "status")] = [MessageStatus.Complete, MessageStatus.Streaming],
        [("SearchHit", "role")] = [.. MessageRole.All],
        [("SearchHit", "status")] = HitStatuses,
        [("HybridHit", "role")] = [.. MessageRole.All],
        [("HybridHit", "status")] = HitStatuses,
        [("FullTextRequest", "roles")] = [.. MessageRole.All],
        [("FullTextRequest", "statuses")] = HitStatuses,
        [("Feedback", "rating")] = [.. FeedbackRating.All],
        [("SetFeedbackRequest", "rating")] = [.. FeedbackRating.All],
        [("Document", "status")] = [.. DocumentStatuses.All],
        [("Memory", "kind")] = [.. MemoryKinds.All],
        [("AddMemoryRequest", "kind")] = [.. MemoryKinds.All],
        [("UpdateMemoryRequest", "kind")] = [.. MemoryKinds.All],
        [("Reminder", "status")] = ReminderStatuses,
        [("SearchHistoryEntry", "mode")] = SearchModes,
        [("RecordSearchRequest", "mode")] = SearchModes,
    };

    // Request properties the handlers require although their records declare them nullable (the library
    // validates them): required in the document, and not nullable, since null is refused.
    static readonly Dictionary<string, string[]> RequiredByServer = new(StringComparer.Ordinal)
    {
        ["AppendMessageRequest"] = ["role"],
        ["EditRequest"] = ["content"],
        ["ChunkRequest"] = ["chunk"],
        ["FailRequest"] = ["error"],
        ["FailedRequest"] = ["error"],
        ["AddCorrectionRequest"] = ["correctedContent"],
        ["AddMemoryRequest"] = ["content"],
        ["CreateDocumentRequest"] = ["filename"],
        ["CreateReminderRequest"] = ["title", "dueAt"],
        ["SetCacheRequest"] = ["value"],
        ["GrantRequest"] = ["amount"],
        ["DebitRequest"] = ["amount"],
        ["RecordUsageRequest"] = ["action"],
        ["RecordSearchRequest"] = ["query"],
        ["FullTextRequest"] = ["text"],
        ["HybridRequest"] = ["text", "space"],
        ["VectorRequest"] = ["space"],
    };

    static readonly Dictionary<string, string> Examples = new(StringComparer.Ordinal)
    {
        ["CreateUserRequest"] = """{"externalId":"auth0|5f1c","email":"ada@example.com","name":"Ada","role":"student"}""",
        ["CreateConversationRequest"] = """{"userId":"0192f3a4-5b6c-7d8e-9f01-23456789abcd","title":"Trip to Lisbon","metadata":{"channel":"web"}}""",
        ["AppendMessageRequest"] = """{"role":"user","content":"What should I pack for Lisbon in March?","metadata":{"client":"web"}}""",
        ["AddMemoryRequest"] = """{"userId":"0192f3a4-5b6c-7d8e-9f01-23456789abcd","content":"Prefers window seats","kind":"preference","importance":0.7}""",
        ["FullTextRequest"] = """{"text":"\"window seat\" -aisle","userId":"0192f3a4-5b6c-7d8e-9f01-23456789abcd","limit":20}""",
        ["HybridRequest"] = """{"text":"packing for rain","space":"default","limit":10}""",
        ["CreateTenantRequest"] = """{"name":"Acme Tutoring","roles":["student","teacher","admin"],"defaultRole":"student"}""",
    };

    public Task TransformAsync(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken cancellationToken)
    {
        var type = context.JsonTypeInfo.Type;
        if (type == typeof(HybridSources))
        {
            schema.Enum = null;
            schema.Type = JsonSchemaType.Array;
            schema.Items = new OpenApiSchema { Type = JsonSchemaType.String, Enum = [JsonValue.Create("fullText"), JsonValue.Create("vector")] };
            schema.UniqueItems = true;
            schema.Description = "Which ranked lists the hit came from: fullText, vector or both.";
            return Task.CompletedTask;
        }
        if (type == typeof(ProblemDetails) || type == typeof(HttpValidationProblemDetails))
        {
            DescribeProblem(schema);
            return Task.CompletedTask;
        }
        if (context.JsonPropertyInfo is not null || schema.Properties is not { Count: > 0 } properties)
            return Task.CompletedTask;

        var name = SchemaName(type);
        if (IsRequest(type))
        {
            // Required only where the server requires the value: a constructor parameter that cannot be null and has no default.
            schema.Required = context.JsonTypeInfo.Properties
                .Where(p => p.AssociatedParameter is { IsNullable: false, HasDefaultValue: false } && properties.ContainsKey(p.Name))
                .Select(p => p.Name)
                .ToHashSet(StringComparer.Ordinal);
        }
        if (IsRequest(type) && RequiredByServer.TryGetValue(name, out var required))
        {
            foreach (var property in required.Where(properties.ContainsKey))
            {
                schema.Required!.Add(property);
                if (properties[property] is OpenApiSchema concrete)
                    NotNull(concrete);
            }
        }
        else if (!IsRequest(type))
        {
            // The server writes every property of a response, null or not.
            schema.Required = properties.Keys.ToHashSet(StringComparer.Ordinal);
        }

        foreach (var (property, propertySchema) in properties)
        {
            if (ClosedSets.TryGetValue((name, property), out var values) && propertySchema is OpenApiSchema concrete)
                Restrict(concrete, values);
        }
        if (Examples.TryGetValue(name, out var example))
            schema.Examples = [JsonNode.Parse(example)!];
        return Task.CompletedTask;
    }

    /// <summary>Requests are the records the routes bind bodies and queries to, and the library's update records they take as is.</summary>
    internal static bool IsRequest(Type type) =>
        (type.Namespace == typeof(Apis.UsersApi).Namespace && (type.Name.EndsWith("Request", StringComparison.Ordinal) || type.Name.EndsWith("Query", StringComparison.Ordinal)))
        || type.Name.EndsWith("Update", StringComparison.Ordinal) || type.Name.EndsWith("Patch", StringComparison.Ordinal);

    static string SchemaName(Type type) => type.IsGenericType ? type.Name[..type.Name.IndexOf('`', StringComparison.Ordinal)] : type.Name;

    static void NotNull(OpenApiSchema schema)
    {
        if (schema.Type is { } type && type.HasFlag(JsonSchemaType.Null))
            schema.Type = type & ~JsonSchemaType.Null;
        if (schema.OneOf is { Count: > 0 } options)
        {
            var kept = options.Where(o => o is not OpenApiSchema { Type: JsonSchemaType.Null }).ToList();
            if (kept.Count == 1)
            {
                schema.OneOf = null;
                schema.AllOf = kept;
            }
            else
            {
                schema.OneOf = kept;
            }
        }
    }

    static void Restrict(OpenApiSchema schema, string[] values)
    {
        if (schema.Items is OpenApiSchema items && schema.Type?.HasFlag(JsonSchemaType.Array) == true)
        {
            Restrict(items, values);
            return;
        }
        var nullable = schema.Type?.HasFlag(JsonSchemaType.Null) == true;
        schema.Enum = [.. values.Select(v => (JsonNode)JsonValue.Create(v)), .. nullable ? new JsonNode[] { null! } : []];
    }

    static void DescribeProblem(OpenApiSchema schema)
    {
        schema.Description = "An RFC 9457 problem: every error ChatStore answers. 400s name the input (field) and the rule it broke.";
        schema.AdditionalPropertiesAllowed = true;
        schema.AdditionalProperties = null;
        schema.Properties = new Dictionary<string, IOpenApiSchema>(StringComparer.Ordinal)
        {
            ["type"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "A URI for the kind of problem." },
            ["title"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "A short summary of the kind of problem." },
            ["status"] = new OpenApiSchema { Type = JsonSchemaType.Integer, Format = "int32", Description = "The HTTP status code." },
            ["detail"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "What happened and what to do next." },
            ["instance"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "The request this problem is about, when given." },
            ["field"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "400 only: the input that broke a rule, as the JSON path or parameter name (for example `metadata.tags[2]` or `limit`)." },
            ["rule"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "400 only: the stable name of the rule, such as `required`, `max_length`, `unknown_property`, `unknown_parameter`, `type` or `enum`." },
            ["traceId"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "The request's trace id, to find it in the server log." },
        };
        schema.Required = new HashSet<string>(["title", "status", "detail", "traceId"], StringComparer.Ordinal);
    }
}

/// <summary>Writes <see cref="HybridSources"/> as the array of lists a hit came from (<c>["fullText","vector"]</c>), and reads it back.</summary>
internal sealed class HybridSourcesConverter : JsonConverter<HybridSources>
{
    public override HybridSources Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
            throw new JsonException("must be an array of fullText and vector.");
        var sources = HybridSources.None;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            sources |= reader.GetString() switch
            {
                "fullText" => HybridSources.FullText,
                "vector" => HybridSources.Vector,
                _ => throw new JsonException("must be an array of fullText and vector."),
            };
        }
        return sources;
    }

    public override void Write(Utf8JsonWriter writer, HybridSources value, JsonSerializerOptions options)
    {
        writer.WriteStartArray();
        if (value.HasFlag(HybridSources.FullText)) writer.WriteStringValue("fullText");
        if (value.HasFlag(HybridSources.Vector)) writer.WriteStringValue("vector");
        writer.WriteEndArray();
    }
}

/// <summary>
/// Per-operation contract: camelCase parameter names (binding is case-insensitive; the document is what clients
/// generate from), enums for closed query values, a description on every operation, and the JSON Lines bodies of
/// export and import with the schema of one line.
/// </summary>
internal static class OpenApiContract
{
    static readonly Dictionary<string, string[]> QueryStatuses = new(StringComparer.Ordinal)
    {
        ["ListConversations"] = ["active", "archived"],
        ["ListReminders"] = [ReminderStatus.Pending, ReminderStatus.Sent, ReminderStatus.Completed, ReminderStatus.Cancelled],
        ["ListDocuments"] = [.. DocumentStatuses.All],
    };

    public static void Describe(OpenApiOperation operation, OpenApiOperationTransformerContext context)
    {
        foreach (var parameter in (operation.Parameters ?? []).OfType<OpenApiParameter>())
        {
            if (parameter.Name is { Length: > 0 } name && parameter.In is ParameterLocation.Query or ParameterLocation.Path)
                parameter.Name = JsonNamingPolicy.CamelCase.ConvertName(name);
            if (parameter.Name == "ownerKind" && parameter.Schema is OpenApiSchema owner)
                owner.Enum = [.. Enum.GetNames<ChatStore.Embeddings.EmbeddingOwnerKind>().Select(n => (JsonNode)JsonValue.Create(n.ToLowerInvariant()))];
            if (parameter.Name == "status" && operation.OperationId is { } id && QueryStatuses.TryGetValue(id, out var statuses) && parameter.Schema is OpenApiSchema schema)
                schema.Enum = [.. statuses.Select(v => (JsonNode)JsonValue.Create(v))];
        }

        var metadata = context.Description.ActionDescriptor.EndpointMetadata;
        if (string.IsNullOrWhiteSpace(operation.Description))
        {
            var who = metadata.OfType<Microsoft.AspNetCore.Authorization.IAllowAnonymous>().Any()
                ? "Takes no credentials."
                : "Authenticate with a bearer token; another tenant's or user's id is 404, never 403.";
            operation.Description = $"{operation.Summary}. {who}";
        }

        switch (operation.OperationId)
        {
            case "ExportUser":
                if (operation.Responses?.TryGetValue("200", out var ok) == true && ok is OpenApiResponse response)
                {
                    response.Description = "The user's data as JSON Lines: the header line, then one line per row.";
                    response.Content = new Dictionary<string, OpenApiMediaType>(StringComparer.Ordinal)
                    {
                        ["application/x-ndjson"] = new() { Schema = ExportLine(), Example = JsonNode.Parse(ExportHeaderExample) },
                    };
                }
                break;
            case "ImportUser":
                operation.RequestBody = new OpenApiRequestBody
                {
                    Required = true,
                    Description = "A file written by export (or `chatstore export`), unedited: the header line, then one line per row.",
                    Content = new Dictionary<string, OpenApiMediaType>(StringComparer.Ordinal)
                    {
                        ["application/x-ndjson"] = new() { Schema = ExportLine(), Example = JsonNode.Parse(ExportHeaderExample) },
                    },
                };
                break;
        }
    }

    // The first line of an export; every further line is {"type":"<table>","row":{…}}.
    const string ExportHeaderExample =
        """{"type":"chatstore-export","version":1,"schemaVersion":12,"tenantId":"0192f3a4-5b6c-7d8e-9f01-23456789abcf","userId":"0192f3a4-5b6c-7d8e-9f01-23456789abcd","exportedAt":"2026-01-31T12:00:00Z"}""";

    // The schema of one line: the header first, then rows.
    static OpenApiSchema ExportLine() => new()
    {
        Description = "One line of a JSON Lines export: the first is the header, every other one a row of a table of the user's data.",
        OneOf =
        [
            new OpenApiSchema
            {
                Title = "Header",
                Type = JsonSchemaType.Object,
                Required = new HashSet<string>(["type", "version", "schemaVersion", "tenantId", "userId", "exportedAt"], StringComparer.Ordinal),
                Properties = new Dictionary<string, IOpenApiSchema>(StringComparer.Ordinal)
                {
                    ["type"] = new OpenApiSchema { Type = JsonSchemaType.String, Const = "chatstore-export" },
                    ["version"] = new OpenApiSchema { Type = JsonSchemaType.Integer, Description = "The export format version (1)." },
                    ["schemaVersion"] = new OpenApiSchema { Type = JsonSchemaType.Integer, Description = "The schema version the export was taken from." },
                    ["tenantId"] = new OpenApiSchema { Type = JsonSchemaType.String, Format = "uuid" },
                    ["userId"] = new OpenApiSchema { Type = JsonSchemaType.String, Format = "uuid" },
                    ["exportedAt"] = new OpenApiSchema { Type = JsonSchemaType.String, Format = "date-time" },
                },
            },
            new OpenApiSchema
            {
                Title = "Row",
                Type = JsonSchemaType.Object,
                Required = new HashSet<string>(["type", "row"], StringComparer.Ordinal),
                Properties = new Dictionary<string, IOpenApiSchema>(StringComparer.Ordinal)
                {
                    ["type"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "The table, for example users, conversations, messages, memories." },
                    ["row"] = new OpenApiSchema { Type = JsonSchemaType.Object, Description = "The row's columns by name, as JSON." },
                },
            },
        ],
    };
}
