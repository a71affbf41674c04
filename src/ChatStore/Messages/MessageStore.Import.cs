using System.Runtime.CompilerServices;
using System.Text.Json;
using Npgsql;
using NpgsqlTypes;

namespace ChatStore.Messages;

/// <summary>
/// A message to import in bulk with <see cref="MessageStore.ImportAsync(IEnumerable{ImportedMessage}, IProgress{long}?, CancellationToken)"/>:
/// appended at the end of its conversation, in input order. Only <see cref="ConversationId"/> and <see cref="MessageInput.Role"/> are required.
/// </summary>
public sealed record ImportedMessage : MessageInput
{
    /// <summary>The conversation (of this tenant, not deleted) the message is appended to.</summary>
    public required Guid ConversationId { get; init; }

    /// <summary>When it was written (for history brought over from elsewhere); now when null.</summary>
    public DateTimeOffset? CreatedAt { get; init; }
}

public sealed partial class MessageStore
{
    // The rows travel by binary COPY into a temporary table: PostgreSQL refuses COPY FROM into a table under
    // row-level security, and an INSERT … SELECT from the staging table is checked by the policies like any insert.
    const string StagingSql = """
        CREATE TEMP TABLE chatstore_import (
            k bigint NOT NULL, id uuid NOT NULL, conversation_id uuid NOT NULL, role text NOT NULL, content text NOT NULL,
            status text NOT NULL, citations jsonb NOT NULL, metadata jsonb NOT NULL, domains text[] NOT NULL, model text,
            input_tokens integer NOT NULL, output_tokens integer NOT NULL, cost_usd numeric NOT NULL, response_ms integer,
            error text, created_at timestamptz
        ) ON COMMIT DROP
        """;

    const string StagingCopySql = """
        COPY pg_temp.chatstore_import (k, id, conversation_id, role, content, status, citations, metadata, domains, model,
                                       input_tokens, output_tokens, cost_usd, response_ms, error, created_at) FROM STDIN (FORMAT BINARY)
        """;

    // One statement: each conversation's counters are bumped once by its number of staged rows (the row
    // locks serialise concurrent appenders, as in AppendSql), and the messages take the seqs after the
    // conversation's previous last_seq: k is a message's position among its conversation's staged rows,
    // counted while streaming, so no sort is needed here. Conversations that are deleted or not this
    // tenant's bump nothing, so their messages are not inserted (the caller then rolls back).
    const string ImportSql = """
        WITH counts AS (
            SELECT conversation_id, count(*) AS n, max(coalesce(created_at, now())) AS last
              FROM pg_temp.chatstore_import GROUP BY conversation_id
        ), bumped AS (
            UPDATE {schema}.conversations c
               SET last_seq = c.last_seq + counts.n, message_count = c.message_count + counts.n,
                   last_message_at = greatest(c.last_message_at, counts.last), last_activity_at = now()
              FROM counts
             WHERE c.tenant_id = {tenant} AND c.id = counts.conversation_id AND c.deleted_at IS NULL
            RETURNING c.id, c.tenant_id, c.user_id, c.last_seq - counts.n AS base
        )
        INSERT INTO {schema}.messages AS target (id, tenant_id, conversation_id, user_id, seq, role, content, status, citations, metadata, domains, model,
                                       input_tokens, output_tokens, cost_usd, response_ms, error, language, created_at, updated_at)
        SELECT s.id, b.tenant_id, b.id, b.user_id, b.base + s.k, s.role, s.content, s.status, s.citations, s.metadata, s.domains, s.model,
               s.input_tokens, s.output_tokens, s.cost_usd, s.response_ms, s.error, t.search_language,
               coalesce(s.created_at, now()), coalesce(s.created_at, now())
          FROM pg_temp.chatstore_import s JOIN bumped b ON b.id = s.conversation_id JOIN {schema}.tenants t ON t.id = b.tenant_id
        """;

    const string MissingConversationSql = """
        SELECT s.conversation_id FROM pg_temp.chatstore_import s
         WHERE NOT EXISTS (SELECT 1 FROM {schema}.conversations c WHERE c.tenant_id = {tenant} AND c.id = s.conversation_id AND c.deleted_at IS NULL)
         LIMIT 1
        """;

    /// <summary>
    /// Imports messages in bulk (binary COPY, one transaction): each is appended at the end of its conversation in
    /// input order, with gapless seqs, and every conversation's <c>last_seq</c>, <c>message_count</c>,
    /// <c>last_message_at</c> and <c>last_activity_at</c> are updated once. All or nothing: an invalid message, an
    /// unknown conversation or a taken id stores nothing. Idempotency keys, parents and document links are not
    /// part of an import; use <see cref="AppendAsync"/> for those.
    /// </summary>
    /// <param name="messages">The messages, streamed: they are validated and sent as they are enumerated.</param>
    /// <param name="progress">Told the number of messages sent so far, every 10,000 and at the end.</param>
    /// <param name="cancellationToken">Cancels the import; nothing is stored.</param>
    /// <returns>The number of messages imported.</returns>
    /// <exception cref="ChatStoreValidationException">A message broke a rule (the field names its index, e.g. <c>messages[12].content</c>).</exception>
    /// <exception cref="ChatStoreNotFoundException">A conversation does not exist for this tenant or is deleted.</exception>
    /// <exception cref="ChatStoreConflictException">A message id is already taken.</exception>
    public Task<long> ImportAsync(IEnumerable<ImportedMessage> messages, IProgress<long>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        return ImportAsync(AsAsync(messages), progress, cancellationToken);
    }

    /// <inheritdoc cref="ImportAsync(IEnumerable{ImportedMessage}, IProgress{long}?, CancellationToken)"/>
    public async Task<long> ImportAsync(IAsyncEnumerable<ImportedMessage> messages, IProgress<long>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        using var op = Telemetry.Start("messages.import");
        await using var tx = await _scope.BeginAsync(cancellationToken).ConfigureAwait(false);
        await using (var create = tx.Command(StagingSql))
            await create.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);

        long count = 0;
        var positions = new Dictionary<Guid, long>();
        await using (var writer = await tx.Connection.BeginBinaryImportAsync(StagingCopySql, cancellationToken).ConfigureAwait(false))
        {
            await foreach (var m in messages.WithCancellation(cancellationToken).ConfigureAwait(false))
            {
                await WriteImportRowAsync(writer, m, count, positions, cancellationToken).ConfigureAwait(false);
                if (++count % 10_000 == 0)
                    progress?.Report(count);
            }
            await writer.CompleteAsync(cancellationToken).ConfigureAwait(false);
        }
        if (count == 0)
            return 0;

        int inserted;
        try
        {
            await using var insert = tx.Command(ImportSql);
            inserted = await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            throw new ChatStoreConflictException($"A message id in the import is already taken ({e.Detail ?? e.ConstraintName}); nothing was imported.", e);
        }
        if (inserted != count)
        {
            await using var missing = tx.Command(MissingConversationSql);
            var id = await missing.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
            throw id is Guid conversation
                ? new ChatStoreNotFoundException("conversation", conversation)
                : new ChatStoreConflictException("A conversation changed while messages were imported; nothing was imported, retry.");
        }
        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
        progress?.Report(count);
        return count;
    }

    async ValueTask WriteImportRowAsync(NpgsqlBinaryImporter writer, ImportedMessage m, long index, Dictionary<Guid, long> positions, CancellationToken cancellationToken)
    {
        if (m is null)
            throw new ChatStoreValidationException($"messages[{index}]", "required", "is null.");
        Guid conversationId;
        CheckedInput c;
        try
        {
            conversationId = Validate.Id(m.ConversationId, "conversationId");
            c = Check(m, _scope.Limits);
        }
        catch (ChatStoreValidationException e)
        {
            throw new ChatStoreValidationException($"messages[{index}].{e.Field}", e.Rule, e.Message[(e.Field.Length + 2)..]);
        }

        var position = positions.GetValueOrDefault(conversationId) + 1;
        positions[conversationId] = position;
        await writer.StartRowAsync(cancellationToken).ConfigureAwait(false);
        await writer.WriteAsync(position, NpgsqlDbType.Bigint, cancellationToken).ConfigureAwait(false);
        await writer.WriteAsync(c.Id, NpgsqlDbType.Uuid, cancellationToken).ConfigureAwait(false);
        await writer.WriteAsync(conversationId, NpgsqlDbType.Uuid, cancellationToken).ConfigureAwait(false);
        await writer.WriteAsync(c.Role, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
        await writer.WriteAsync(c.Content, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
        await writer.WriteAsync(c.Status, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
        await writer.WriteAsync(c.Citations, NpgsqlDbType.Jsonb, cancellationToken).ConfigureAwait(false);
        await writer.WriteAsync(c.Metadata, NpgsqlDbType.Jsonb, cancellationToken).ConfigureAwait(false);
        await writer.WriteAsync(c.Domains, NpgsqlDbType.Array | NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
        await WriteNullableAsync(writer, c.Model, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
        await writer.WriteAsync(m.InputTokens, NpgsqlDbType.Integer, cancellationToken).ConfigureAwait(false);
        await writer.WriteAsync(m.OutputTokens, NpgsqlDbType.Integer, cancellationToken).ConfigureAwait(false);
        await writer.WriteAsync(m.CostUsd, NpgsqlDbType.Numeric, cancellationToken).ConfigureAwait(false);
        if (m.ResponseMs is int responseMs)
            await writer.WriteAsync(responseMs, NpgsqlDbType.Integer, cancellationToken).ConfigureAwait(false);
        else
            await writer.WriteNullAsync(cancellationToken).ConfigureAwait(false);
        await WriteNullableAsync(writer, c.Error, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
        if (m.CreatedAt is DateTimeOffset created)
            await writer.WriteAsync(created.ToUniversalTime(), NpgsqlDbType.TimestampTz, cancellationToken).ConfigureAwait(false);
        else
            await writer.WriteNullAsync(cancellationToken).ConfigureAwait(false);
    }

    static Task WriteNullableAsync(NpgsqlBinaryImporter writer, string? value, NpgsqlDbType type, CancellationToken cancellationToken) =>
        value is null ? writer.WriteNullAsync(cancellationToken) : writer.WriteAsync(value, type, cancellationToken);

    static async IAsyncEnumerable<ImportedMessage> AsAsync(IEnumerable<ImportedMessage> messages, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        foreach (var m in messages)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return m;
        }
        await Task.CompletedTask.ConfigureAwait(false);
    }
}
