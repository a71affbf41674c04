using System.Text.Json;
using ChatStore.Tenants;
using Npgsql;
using NpgsqlTypes;

namespace ChatStore.Documents
{
    /// <summary>
    /// A tenant's uploaded documents: metadata, processing status (pending → processing → ready or failed),
    /// extracted text, and versioned AI analyses.
    /// </summary>
    public sealed class DocumentStore
    {
        const string Columns = """
            id, tenant_id, user_id, conversation_id, filename, mime_type, size_bytes, sha256, storage_uri, status, error,
            extracted_text IS NOT NULL AS has_extracted_text, metadata::text AS metadata, last_analysis_version, language::text AS language,
            created_at, updated_at, deleted_at
            """;

        const string AnalysisColumns = """
            id, document_id, version, category, summary, result::text AS result, provider, model, trace_id, created_at
            """;

        /// <summary>The longest file name (the schema's limit).</summary>
        const int MaxFilenameLength = 1000;

        /// <summary>The longest storage URI (presigned URLs run to a few thousand characters).</summary>
        const int MaxStorageUriLength = 4096;

        readonly TenantScope _scope;

        internal DocumentStore(TenantScope scope) => _scope = scope;

        /// <summary>Creates a document in status <c>pending</c>. The user and the conversation (if any) must belong to the tenant and user.</summary>
        public async Task<Document> CreateAsync(NewDocument document, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(document);
            using var op = Telemetry.Start("documents.create");
            var limits = _scope.Limits;
            Validate.Id(document.UserId, "userId");
            if (document.ConversationId is Guid c) Validate.Id(c, "conversationId");
            var filename = Validate.Required(document.Filename, "filename", MaxFilenameLength);
            var mimeType = ValidateMimeType(document.MimeType) ?? "application/octet-stream";
            Validate.NotNegative(document.SizeBytes, "sizeBytes");
            if (document.Sha256 is { Length: not 32 } digest)
                throw new ChatStoreValidationException("sha256", "length", $"must be a 32-byte SHA-256 digest; got {digest.Length} bytes.");
            var sha256 = document.Sha256?.ToArray();
            var storageUri = Validate.Text(document.StorageUri, "storageUri", MaxStorageUriLength);
            var metadata = Validate.Json(document.Metadata, "metadata", limits.MaxJsonBytes, JsonValueKind.Object) ?? "{}";
            var id = Ids.New();

            const string sql = $$"""
                INSERT INTO {schema}.documents AS target (id, tenant_id, user_id, conversation_id, filename, mime_type, size_bytes, sha256, storage_uri, metadata, language)
                SELECT $1, u.tenant_id, u.id, $3, $4, $5, $6, $7, $8, $9, t.search_language
                  FROM {schema}.users u JOIN {schema}.tenants t ON t.id = u.tenant_id
                 WHERE u.tenant_id = {tenant} AND u.id = $2 AND u.deleted_at IS NULL
                   AND ($3::uuid IS NULL OR EXISTS (
                        SELECT 1 FROM {schema}.conversations c WHERE c.tenant_id = {tenant} AND c.id = $3 AND c.user_id = u.id AND c.deleted_at IS NULL))
                RETURNING {{Columns}}
                """;
            Document? created;
            await using (var cmd = await _scope.CommandAsync(sql, cancellationToken).ConfigureAwait(false))
            {
                cmd.Add(id).Add(document.UserId).Add(document.ConversationId).Add(filename).Add(mimeType).Add(document.SizeBytes)
                    .Add(sha256).Add(storageUri).Add(metadata, NpgsqlDbType.Jsonb);
                try
                {
                    created = await cmd.ReadSingleAsync(Map, cancellationToken).ConfigureAwait(false);
                }
                catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.ForeignKeyViolation)
                {
                    // The user or conversation was deleted between the check and the commit.
                    throw e.ConstraintName?.Contains("conversation", StringComparison.Ordinal) == true
                        ? new ChatStoreNotFoundException("conversation", document.ConversationId!)
                        : new ChatStoreNotFoundException("user", document.UserId);
                }
            }
            if (created is not null)
                return created;

            const string userSql = """SELECT 1 FROM {schema}.users WHERE tenant_id = {tenant} AND id = $1 AND deleted_at IS NULL""";
            await using var check = await _scope.CommandAsync(userSql, cancellationToken).ConfigureAwait(false);
            check.Add(document.UserId);
            throw await check.ReadSingleAsync(r => r.GetInt32(0), cancellationToken).ConfigureAwait(false) == 0
                ? new ChatStoreNotFoundException("user", document.UserId)
                : new ChatStoreNotFoundException("conversation", document.ConversationId!);
        }

        /// <summary>A document by id (not soft-deleted). Its extracted text is read with <see cref="GetExtractedTextAsync"/>.</summary>
        public async Task<Document> GetAsync(Guid id, CancellationToken cancellationToken = default)
        {
            using var op = Telemetry.Start("documents.get");
            const string sql = $$"""SELECT {{Columns}} FROM {schema}.documents WHERE tenant_id = {tenant} AND id = $1 AND deleted_at IS NULL""";
            await using var cmd = await _scope.CommandAsync(sql, cancellationToken).ConfigureAwait(false);
            cmd.Add(id);
            return await cmd.ReadSingleAsync(Map, cancellationToken).ConfigureAwait(false) ?? throw new ChatStoreNotFoundException("document", id);
        }

        /// <summary>A document's extracted text, whole; null when none is stored.</summary>
        public async Task<string?> GetExtractedTextAsync(Guid id, CancellationToken cancellationToken = default)
        {
            using var op = Telemetry.Start("documents.get_extracted_text");
            const string sql = """SELECT extracted_text FROM {schema}.documents WHERE tenant_id = {tenant} AND id = $1 AND deleted_at IS NULL""";
            await using var cmd = await _scope.CommandAsync(sql, cancellationToken).ConfigureAwait(false);
            cmd.Add(id);
            var (found, text) = await cmd.ReadSingleAsync(r => (true, r.IsDBNull(0) ? null : r.GetString(0)), cancellationToken).ConfigureAwait(false);
            return found ? text : throw new ChatStoreNotFoundException("document", id);
        }

        /// <summary>A user's documents, newest first, keyset-paginated, optionally only one status.</summary>
        public async Task<Page<Document>> ListAsync(Guid userId, DocumentQuery? query = null, CancellationToken cancellationToken = default)
        {
            using var op = Telemetry.Start("documents.list");
            query ??= new DocumentQuery();
            var limit = Validate.PageSize(query.Limit, _scope.Limits.MaxPageSize);
            var status = query.Status is null ? null : Validate.OneOf(query.Status, "status", DocumentStatuses.All);
            var (afterAt, afterId) = query.Cursor is null ? (DateTimeOffset.MaxValue, Guid.AllBitsSet) : Cursor.DecodeTime(query.Cursor);
            // documents_user_idx (tenant_id, user_id, created_at DESC) serves the order; ties on created_at are sorted by id.
            const string sql = $$"""
                SELECT {{Columns}} FROM {schema}.documents
                 WHERE tenant_id = {tenant} AND user_id = $1 AND deleted_at IS NULL
                   AND (created_at, id) < ($2, $3) AND ($4::text IS NULL OR status = $4)
                 ORDER BY created_at DESC, id DESC LIMIT $5
                """;
            await using var cmd = await _scope.CommandAsync(sql, cancellationToken).ConfigureAwait(false);
            cmd.Add(userId).Add(afterAt).Add(afterId).Add(status).Add(limit + 1);
            var items = await cmd.ReadListAsync(Map, cancellationToken).ConfigureAwait(false);
            return Page.Of(items, limit, d => Cursor.Encode(d.CreatedAt, d.Id));
        }

        /// <summary>Starts processing: <c>pending</c> or <c>failed</c> (a retry) → <c>processing</c>; clears the error.</summary>
        public Task<Document> MarkProcessingAsync(Guid id, CancellationToken cancellationToken = default) =>
            TransitionAsync("documents.mark_processing", id, DocumentStatuses.Processing, [DocumentStatuses.Pending, DocumentStatuses.Failed], null, null, cancellationToken);

        /// <summary>Finishes processing: <c>processing</c> → <c>ready</c>, storing the extracted text when it is given.</summary>
        public Task<Document> MarkReadyAsync(Guid id, string? extractedText = null, CancellationToken cancellationToken = default)
        {
            var text = Validate.Text(extractedText, "extractedText", _scope.Limits.MaxDocumentTextLength);
            return TransitionAsync("documents.mark_ready", id, DocumentStatuses.Ready, [DocumentStatuses.Processing], text, null, cancellationToken);
        }

        /// <summary>Records that processing failed: <c>processing</c> → <c>failed</c> with the error.</summary>
        public Task<Document> MarkFailedAsync(Guid id, string error, CancellationToken cancellationToken = default)
        {
            var message = Validate.Required(error, "error", _scope.Limits.MaxContentLength);
            return TransitionAsync("documents.mark_failed", id, DocumentStatuses.Failed, [DocumentStatuses.Processing], null, message, cancellationToken);
        }

        async Task<Document> TransitionAsync(string operation, Guid id, string to, string[] from, string? extractedText, string? error,
            CancellationToken cancellationToken)
        {
            using var op = Telemetry.Start(operation);
            // The first column is the status before the statement, to name it when the transition is not allowed.
            const string sql = $$"""
                WITH cur AS (
                    SELECT status FROM {schema}.documents WHERE tenant_id = {tenant} AND id = $1 AND deleted_at IS NULL),
                upd AS (
                    UPDATE {schema}.documents SET status = $2, error = $4, extracted_text = coalesce($5, extracted_text)
                     WHERE tenant_id = {tenant} AND id = $1 AND deleted_at IS NULL AND status = ANY ($3)
                    RETURNING {{Columns}})
                SELECT (SELECT status FROM cur), upd.* FROM (SELECT 1) one LEFT JOIN upd ON true
                """;
            await using var cmd = await _scope.CommandAsync(sql, cancellationToken).ConfigureAwait(false);
            cmd.Add(id).Add(to).Add(from).Add(error).Add(extractedText);
            var (current, document) = await cmd.ReadSingleAsync(
                r => (r.IsDBNull(0) ? null : r.GetString(0), r.IsDBNull(1) ? null : Map(r, 1)), cancellationToken).ConfigureAwait(false);
            if (document is not null)
                return document;
            if (current is null)
                throw new ChatStoreNotFoundException("document", id);
            if (from.Contains(current))
                throw new ChatStoreConflictException($"Document {id} changed status while it was being set to {to}; read it and retry.");
            throw new ChatStoreConflictException(
                $"Document {id} cannot go from {current} to {to}; only {string.Join(" or ", from)} → {to} is allowed.");
        }

        /// <summary>Stores (or with null, removes) a document's extracted text, whole, in any status. Full-text search indexes its first 100,000 characters.</summary>
        public async Task<Document> SetExtractedTextAsync(Guid id, string? extractedText, CancellationToken cancellationToken = default)
        {
            using var op = Telemetry.Start("documents.set_extracted_text");
            var text = Validate.Text(extractedText, "extractedText", _scope.Limits.MaxDocumentTextLength);
            const string sql = $$"""
                UPDATE {schema}.documents SET extracted_text = $2 WHERE tenant_id = {tenant} AND id = $1 AND deleted_at IS NULL RETURNING {{Columns}}
                """;
            await using var cmd = await _scope.CommandAsync(sql, cancellationToken).ConfigureAwait(false);
            cmd.Add(id).Add(text);
            return await cmd.ReadSingleAsync(Map, cancellationToken).ConfigureAwait(false) ?? throw new ChatStoreNotFoundException("document", id);
        }

        /// <summary>Soft-deletes a document; it and its analyses are no longer found.</summary>
        public async Task DeleteAsync(Guid id, CancellationToken cancellationToken = default)
        {
            using var op = Telemetry.Start("documents.delete");
            // A deleted document has no vectors, nor have its analyses (search reads no liveness inside the index scan).
            const string sql = """
                WITH d AS (
                    UPDATE {schema}.documents SET deleted_at = now() WHERE tenant_id = {tenant} AND id = $1 AND deleted_at IS NULL RETURNING id
                ), e AS (
                    DELETE FROM {schema}.embeddings e
                     WHERE e.tenant_id = {tenant}
                       AND (e.document_id = ANY (ARRAY(SELECT id FROM d)) OR e.analysis_id = ANY (ARRAY(
                            SELECT a.id FROM {schema}.document_analyses a WHERE a.tenant_id = {tenant} AND a.document_id = ANY (ARRAY(SELECT id FROM d)))))
                )
                SELECT count(*)::int FROM d
                """;
            await using var cmd = await _scope.CommandAsync(sql, cancellationToken).ConfigureAwait(false);
            cmd.Add(id);
            if (await cmd.ReadSingleAsync(r => r.GetInt32(0), cancellationToken).ConfigureAwait(false) == 0)
                throw new ChatStoreNotFoundException("document", id);
        }

        /// <summary>
        /// Adds an analysis as the document's next version. The version comes from bumping
        /// <c>documents.last_analysis_version</c> in the same statement, so versions are gapless under concurrency.
        /// </summary>
        public async Task<DocumentAnalysis> AddAnalysisAsync(Guid documentId, NewAnalysis analysis, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(analysis);
            using var op = Telemetry.Start("documents.add_analysis");
            var limits = _scope.Limits;
            var category = Validate.Text(analysis.Category, "category", limits.MaxShortTextLength);
            var summary = Validate.Text(analysis.Summary, "summary", limits.MaxContentLength) ?? "";
            var result = Validate.Json(analysis.Result, "result", limits.MaxJsonBytes, JsonValueKind.Object) ?? "{}";
            var provider = Validate.Text(analysis.Provider, "provider", limits.MaxShortTextLength);
            var model = Validate.Text(analysis.Model, "model", limits.MaxShortTextLength);
            var traceId = Validate.Text(analysis.TraceId, "traceId", limits.MaxShortTextLength);
            var id = Ids.New();

            // The row lock the UPDATE takes orders concurrent adds; the bump and the insert commit together.
            const string sql = $$"""
                WITH d AS (
                    UPDATE {schema}.documents SET last_analysis_version = last_analysis_version + 1
                     WHERE tenant_id = {tenant} AND id = $1 AND deleted_at IS NULL
                    RETURNING id, tenant_id, last_analysis_version, language)
                INSERT INTO {schema}.document_analyses AS target (id, tenant_id, document_id, version, category, summary, result, provider, model, trace_id, language)
                SELECT $2, d.tenant_id, d.id, d.last_analysis_version, $3, $4, $5, $6, $7, $8, d.language FROM d
                RETURNING {{AnalysisColumns}}
                """;
            await using var cmd = await _scope.CommandAsync(sql, cancellationToken).ConfigureAwait(false);
            cmd.Add(documentId).Add(id).Add(category).Add(summary).Add(result, NpgsqlDbType.Jsonb).Add(provider).Add(model).Add(traceId);
            return await cmd.ReadSingleAsync(MapAnalysis, cancellationToken).ConfigureAwait(false)
                ?? throw new ChatStoreNotFoundException("document", documentId);
        }

        /// <summary>The document's latest analysis; null when it has none.</summary>
        public async Task<DocumentAnalysis?> GetLatestAnalysisAsync(Guid documentId, CancellationToken cancellationToken = default)
        {
            using var op = Telemetry.Start("documents.get_latest_analysis");
            const string sql = $$"""
                SELECT a.* FROM {schema}.documents d
                  LEFT JOIN LATERAL (
                      SELECT {{AnalysisColumns}} FROM {schema}.document_analyses x WHERE x.tenant_id = {tenant} AND x.document_id = d.id AND x.version = d.last_analysis_version) a ON true
                 WHERE d.tenant_id = {tenant} AND d.id = $1 AND d.deleted_at IS NULL
                """;
            await using var cmd = await _scope.CommandAsync(sql, cancellationToken).ConfigureAwait(false);
            cmd.Add(documentId);
            var (found, analysis) = await cmd.ReadSingleAsync(r => (true, r.IsDBNull(0) ? null : MapAnalysis(r)), cancellationToken).ConfigureAwait(false);
            return found ? analysis : throw new ChatStoreNotFoundException("document", documentId);
        }

        /// <summary>One version of the document's analyses.</summary>
        public async Task<DocumentAnalysis> GetAnalysisAsync(Guid documentId, int version, CancellationToken cancellationToken = default)
        {
            using var op = Telemetry.Start("documents.get_analysis");
            Validate.Range(version, "version", 1, int.MaxValue);
            const string sql = $$"""
                SELECT a.* FROM {schema}.documents d
                  LEFT JOIN LATERAL (
                      SELECT {{AnalysisColumns}} FROM {schema}.document_analyses x WHERE x.tenant_id = {tenant} AND x.document_id = d.id AND x.version = $2) a ON true
                 WHERE d.tenant_id = {tenant} AND d.id = $1 AND d.deleted_at IS NULL
                """;
            await using var cmd = await _scope.CommandAsync(sql, cancellationToken).ConfigureAwait(false);
            cmd.Add(documentId).Add(version);
            var (found, analysis) = await cmd.ReadSingleAsync(r => (true, r.IsDBNull(0) ? null : MapAnalysis(r)), cancellationToken).ConfigureAwait(false);
            if (!found) throw new ChatStoreNotFoundException("document", documentId);
            return analysis ?? throw new ChatStoreNotFoundException("analysis", $"{documentId} version {version}");
        }

        /// <summary>The document's analyses, newest version first, keyset-paginated.</summary>
        public async Task<Page<DocumentAnalysis>> ListAnalysesAsync(Guid documentId, int limit = 50, string? cursor = null,
            CancellationToken cancellationToken = default)
        {
            using var op = Telemetry.Start("documents.list_analyses");
            Validate.PageSize(limit, _scope.Limits.MaxPageSize);
            var before = int.MaxValue;
            if (cursor is not null)
            {
                var position = Cursor.Decode(cursor).Value;
                if (position is < 1 or > int.MaxValue)
                    throw new ChatStoreValidationException("cursor", "cursor", "is not a cursor this store returned.");
                before = (int)position;
            }
            // Served by document_analyses (document_id, version); a document without analyses gives one all-NULL row.
            const string sql = $$"""
                SELECT a.* FROM {schema}.documents d
                  LEFT JOIN LATERAL (
                      SELECT {{AnalysisColumns}} FROM {schema}.document_analyses x
                       WHERE x.tenant_id = {tenant} AND x.document_id = d.id AND x.version < $2 ORDER BY x.version DESC LIMIT $3) a ON true
                 WHERE d.tenant_id = {tenant} AND d.id = $1 AND d.deleted_at IS NULL
                """;
            await using var cmd = await _scope.CommandAsync(sql, cancellationToken).ConfigureAwait(false);
            cmd.Add(documentId).Add(before).Add(limit + 1);
            var rows = await cmd.ReadListAsync(r => r.IsDBNull(0) ? null : MapAnalysis(r), cancellationToken).ConfigureAwait(false);
            if (rows.Count == 0)
                throw new ChatStoreNotFoundException("document", documentId);
            return Page.Of(rows.OfType<DocumentAnalysis>().ToList(), limit, a => Cursor.Encode(a.Version, a.Id));
        }

        static string? ValidateMimeType(string? mimeType)
        {
            mimeType = Validate.Text(mimeType, "mimeType", 255);
            if (mimeType is null)
                return null;
            // type/subtype, optionally followed by ;parameters.
            var semicolon = mimeType.IndexOf(';', StringComparison.Ordinal);
            var type = (semicolon < 0 ? mimeType : mimeType[..semicolon]).TrimEnd();
            var slash = type.IndexOf('/', StringComparison.Ordinal);
            if (slash < 1 || slash == type.Length - 1 || type.IndexOf('/', slash + 1) >= 0 || type.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
                throw new ChatStoreValidationException("mimeType", "format", $"must be a media type such as application/pdf; got '{mimeType}'.");
            return mimeType;
        }

        static Document Map(NpgsqlDataReader r) => Map(r, 0);

        static Document Map(NpgsqlDataReader r, int o) => new(
            r.GetGuid(o), r.GetGuid(o + 1), r.GetGuid(o + 2), r.IsDBNull(o + 3) ? null : r.GetGuid(o + 3), r.GetString(o + 4), r.GetString(o + 5),
            r.GetInt64(o + 6), r.IsDBNull(o + 7) ? null : (ReadOnlyMemory<byte>?)r.GetFieldValue<byte[]>(o + 7), r.IsDBNull(o + 8) ? null : r.GetString(o + 8),
            r.GetString(o + 9), r.IsDBNull(o + 10) ? null : r.GetString(o + 10), r.GetBoolean(o + 11), Json.Read(r, o + 12), r.GetInt32(o + 13),
            r.GetString(o + 14), r.GetFieldValue<DateTimeOffset>(o + 15), r.GetFieldValue<DateTimeOffset>(o + 16),
            r.IsDBNull(o + 17) ? null : r.GetFieldValue<DateTimeOffset>(o + 17));

        static DocumentAnalysis MapAnalysis(NpgsqlDataReader r) => new(
            r.GetGuid(0), r.GetGuid(1), r.GetInt32(2), r.IsDBNull(3) ? null : r.GetString(3), r.GetString(4), Json.Read(r, 5),
            r.IsDBNull(6) ? null : r.GetString(6), r.IsDBNull(7) ? null : r.GetString(7), r.IsDBNull(8) ? null : r.GetString(8),
            r.GetFieldValue<DateTimeOffset>(9));
    }
}

namespace ChatStore
{
    public sealed partial class TenantScope
    {
        /// <summary>The tenant's uploaded documents and their analyses.</summary>
        public Documents.DocumentStore Documents => new(this);
    }
}
