using System.Data;
using System.Globalization;
using System.Text;
using System.Text.Json;
using ChatStore.Schema;
using Npgsql;
using NpgsqlTypes;
using static ChatStore.Export.ScopedBatch;

namespace ChatStore.Export
{
    /// <summary>
    /// A user's whole data: export as JSON Lines, import into another tenant (or database), and erase (GDPR).
    /// <para>
    /// Which tables hold a user's data is read from the catalog at run time: every table with a
    /// <c>tenant_id</c> whose rows reference the user, or rows of the user, through a foreign key that
    /// does not let them outlive the referenced row (ON DELETE CASCADE, NO ACTION or RESTRICT). Tables
    /// that later migrations add (ChatStore's or an app's own) are covered without code changes.
    /// </para>
    /// <para>
    /// The export format: the first line is a header
    /// <c>{"type":"chatstore-export","version":1,"schemaVersion":N,"exportedAt":…,"tenantId":…,"userId":…}</c>;
    /// every other line is <c>{"type":"&lt;table&gt;","row":{…}}</c> with every column except generated ones and
    /// <c>tenant_id</c> (vectors as arrays of numbers, timestamps in UTC, bytea as <c>\x</c> hex). Tables come
    /// parents first, and rows within a table referenced rows first, so an import inserts them in file order.
    /// Login sessions are not exported (they hold token hashes).
    /// </para>
    /// </summary>
    public sealed class ExportStore
    {
        const string Format = "chatstore-export";
        const int FormatVersion = 1;
        const int ImportBatchRows = 1000;
        const int ImportBatchChars = 4 * 1024 * 1024;

        static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false);

        readonly TenantScope _scope;

        internal ExportStore(TenantScope scope) => _scope = scope;

        /// <summary>
        /// Writes every row of the user's data to <paramref name="destination"/> as UTF-8 JSON Lines (see
        /// <see cref="ExportStore"/>), streamed row by row from one consistent snapshot. Returns the rows
        /// written per table. Another tenant's user is not found; nothing is written then.
        /// </summary>
        public async Task<IReadOnlyDictionary<string, long>> ExportUserAsync(Guid userId, Stream destination, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(destination);
            var writer = new StreamWriter(destination, Utf8, 1 << 16, leaveOpen: true);
            await using (writer.ConfigureAwait(false))
            {
                var rows = await ExportUserAsync(userId, writer, cancellationToken).ConfigureAwait(false);
                await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
                return rows;
            }
        }

        /// <summary>Like <see cref="ExportUserAsync(Guid, Stream, CancellationToken)"/>, to a text writer (lines end with <c>\n</c>).</summary>
        public async Task<IReadOnlyDictionary<string, long>> ExportUserAsync(Guid userId, TextWriter destination, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(destination);
            using var op = Telemetry.Start("export.export_user");
            Validate.Id(userId, "userId");
            var context = _scope.Context;
            var conn = await context.DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using (conn.ConfigureAwait(false))
            {
                // One snapshot for every table; the tenant setting and output settings are transaction-local.
                var tx = await conn.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken).ConfigureAwait(false);
                await using (tx.ConfigureAwait(false))
                {
                    var (model, schemaVersion, exportedAt, exists) = await StartAsync(conn, tx, userId, exportSettings: true, cancellationToken).ConfigureAwait(false);
                    if (!exists)
                        throw new ChatStoreNotFoundException("user", userId);

                    var header = string.Create(CultureInfo.InvariantCulture,
                        $$"""{"type":"{{Format}}","version":{{FormatVersion}},"schemaVersion":{{schemaVersion}},"exportedAt":"{{exportedAt.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'}}","tenantId":"{{_scope.TenantId}}","userId":"{{userId}}"}""");
                    await destination.WriteAsync((header + "\n").AsMemory(), cancellationToken).ConfigureAwait(false);

                    var counts = new Dictionary<string, long>(StringComparer.Ordinal);
                    foreach (var table in model.Exported)
                    {
                        var prefix = $"{{\"type\":{JsonSerializer.Serialize(table.Name)},\"row\":".AsMemory();
                        long n = 0;
                        var sql = ScopedBatch.Tenanted(_scope, ExportSql(model, table), [P(userId)], out var parameters);
                        await using (var cmd = new NpgsqlCommand(sql, conn, tx) { CommandTimeout = UserDataModel.BulkTimeout(conn) })
                        {
                            cmd.Parameters.AddRange(parameters);
                            var reader = await cmd.ExecuteReaderAsync(CommandBehavior.SequentialAccess, cancellationToken).ConfigureAwait(false);
                            await using (reader.ConfigureAwait(false))
                            {
                                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                                {
                                    await destination.WriteAsync(prefix, cancellationToken).ConfigureAwait(false);
                                    await destination.WriteAsync(reader.GetString(0).AsMemory(), cancellationToken).ConfigureAwait(false);
                                    await destination.WriteAsync("}\n".AsMemory(), cancellationToken).ConfigureAwait(false);
                                    n++;
                                }
                            }
                        }
                        counts[table.Name] = n;
                    }
                    await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
                    return counts;
                }
            }
        }

        /// <summary>
        /// Imports an export (see <see cref="ExportStore"/>) into this scope's tenant, in one transaction: every
        /// row keeps its id and values and gets this tenant's id. The tenant must not have the user or any of the
        /// rows already (a conflict otherwise); keys are per tenant, so importing into another tenant copies the user
        /// (erase the user at the source to move them). Every text and JSON value is checked (NUL characters, unpaired surrogates), every row must
        /// belong to the exported user and reference only rows of the export, and the user's role must be
        /// one of this tenant's roles. A failed import changes nothing. Returns what was imported.
        /// </summary>
        public async Task<UserImport> ImportUserAsync(Stream source, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(source);
            using var op = Telemetry.Start("export.import_user");
            var limits = _scope.Limits;
            var maxLine = (int)Math.Min(Array.MaxLength - 1, Math.Max(64L << 20, limits.MaxDocumentTextLength * 8L + limits.MaxJsonBytes * 8L + (16L << 20)));
            var lines = new JsonLineReader(source, maxLine);
            var first = await lines.ReadLineAsync(cancellationToken).ConfigureAwait(false)
                ?? throw new ChatStoreValidationException("header", "required", "The export is empty: its first line must be the chatstore-export header.");
            var header = ParseHeader(first);

            var tx = await _scope.BeginAsync(cancellationToken).ConfigureAwait(false);
            await using (tx.ConfigureAwait(false))
            {
                var (model, schemaVersion, _, exists) = await StartAsync(tx.Connection, tx.Transaction, header.UserId, exportSettings: false, cancellationToken).ConfigureAwait(false);
                if (header.SchemaVersion > schemaVersion)
                    throw new ChatStoreValidationException("header.schemaVersion", "newer",
                        $"The export is from schema version {header.SchemaVersion}, newer than this ChatStore's {schemaVersion}: upgrade ChatStore and migrate the database first.");
                if (exists)
                    throw new ChatStoreConflictException($"User {header.UserId} already exists in this tenant. Import into a tenant without the user, or erase the user first.");

                var importer = new RowImporter(tx.Connection, tx.Transaction, cancellationToken);
                var rows = new ImportRows(model, header.UserId);
                try
                {
                    while (await lines.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
                    {
                        await importer.AddAsync(rows.Parse(line, lines.LineNumber)).ConfigureAwait(false);
                    }
                    await importer.CompleteAsync().ConfigureAwait(false);
                }
                catch
                {
                    await importer.AbandonAsync().ConfigureAwait(false);
                    throw;
                }
                if (!importer.Counts.ContainsKey(model.Users.Name))
                    throw new ChatStoreValidationException("users", "required", "The export holds no users row: it must hold the user it is the export of.");
                await CheckRoleAsync(tx.Connection, tx.Transaction, model, Sql.QuoteIdentifier(_scope.Context.Schema), _scope.TenantId, header.UserId, cancellationToken).ConfigureAwait(false);
                await tx.CommitAsync(cancellationToken).ConfigureAwait(false);

                var counts = new Dictionary<string, long>(StringComparer.Ordinal);
                foreach (var table in model.Exported)
                    counts[table.Name] = importer.Counts.GetValueOrDefault(table.Name);
                return new UserImport(header.UserId, header.TenantId, header.ExportedAt, header.SchemaVersion, counts);
            }
        }

        /// <summary>
        /// Erases the user (GDPR): deletes, in one transaction (one statement), every row that belongs to the
        /// user in every table, including rows that hang off the user's rows (another user's feedback on the
        /// user's messages, the user's conversations' shares…), soft-deleted ones too, and the user.
        /// Rows that merely point at the user's rows through ON DELETE SET NULL keys (a usage event of
        /// another user's that names the conversation) keep existing, with the pointer cleared. Returns the rows
        /// deleted per table (every table that can hold the user's rows, zeros included). Another tenant's user
        /// is not found, and nothing is deleted then.
        /// </summary>
        public async Task<IReadOnlyDictionary<string, long>> EraseUserAsync(Guid userId, CancellationToken cancellationToken = default)
        {
            using var op = Telemetry.Start("export.erase_user");
            Validate.Id(userId, "userId");
            var conn = await _scope.Context.DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using (conn.ConfigureAwait(false))
            {
                var model = await LoadModelAsync(conn, _scope.Context.Schema, cancellationToken).ConfigureAwait(false);
                var delete = new DeleteStatement(UserRows(model, forUpdate: true));
                var deleted = await delete.RunAsync(_scope, conn, [P(userId)], cancellationToken).ConfigureAwait(false);
                if (deleted[model.Users.Name] == 0)
                    throw new ChatStoreNotFoundException("user", userId);
                return deleted;
            }
        }

        /// <summary>Reads the catalog (outside any tenant: it is the same for all).</summary>
        internal static async Task<UserDataModel> LoadModelAsync(NpgsqlConnection conn, string schema, CancellationToken cancellationToken)
        {
            await using var batch = new NpgsqlBatch(conn);
            UserDataModel.AddTo(batch, schema);
            var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
                return await UserDataModel.ReadAsync(reader, schema, cancellationToken).ConfigureAwait(false);
        }

        /// <summary>
        /// The schema version an export names: the newest ChatStore migration this library has, which is the version
        /// of a migrated database. (The history table is the owner's; the application role does not read it.)
        /// </summary>
        static readonly int SchemaVersion = MigrationSource.ChatStore.Migrations.Max(m => m.Version);

        /// <summary>
        /// The first round trip of export and import: the tenant setting, the catalog, the time, and whether the
        /// user exists in this tenant.
        /// </summary>
        async Task<(UserDataModel Model, int SchemaVersion, DateTimeOffset Now, bool UserExists)> StartAsync(
            NpgsqlConnection conn, NpgsqlTransaction tx, Guid userId, bool exportSettings, CancellationToken cancellationToken)
        {
            var schema = _scope.Context.Schema;
            var quoted = Sql.QuoteIdentifier(schema);
            await using var batch = ScopedBatch.Create(_scope, conn, tx);
            UserDataModel.AddTo(batch, schema);
            // Output settings make an export byte-identical wherever it is taken: UTC timestamps, shortest exact floats, hex bytea.
            var settings = exportSettings
                ? "set_config('TimeZone', 'UTC', true), set_config('extra_float_digits', '1', true), set_config('bytea_output', 'hex', true), set_config('IntervalStyle', 'postgres', true)"
                : "NULL, NULL, NULL, NULL";
            batch.Add($"SELECT {settings}, now(), EXISTS (SELECT 1 FROM {quoted}.users WHERE tenant_id = $2 AND id = $1)", P(userId), P(_scope.TenantId));
            var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                var model = await UserDataModel.ReadAsync(reader, schema, cancellationToken).ConfigureAwait(false);
                await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
                await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                return (model, SchemaVersion, reader.GetFieldValue<DateTimeOffset>(4), reader.GetBoolean(5));
            }
        }

        /// <summary>Statements over the user's rows: the root is user <c>$1</c> in this tenant (row-level security), locked when erasing.</summary>
        internal static OwnershipSql UserRows(UserDataModel model, bool forUpdate = false, string? where = null)
        {
            var users = model.Users;
            if (users.PrimaryKey.Count != 1)
                throw new ChatStoreConfigurationException($"Table {users.Name} must have a one-column primary key.");
            var id = Sql.QuoteIdentifier(users.PrimaryKey[0]);
            return new OwnershipSql(model, users,
                $"SELECT t.{id} FROM {users.Quoted} t WHERE {where ?? $"{OwnershipSql.TenantCondition} AND t.{id} = $1"}{(forUpdate ? " FOR UPDATE" : "")}", singleRoot: true);
        }

        /// <summary>
        /// Rows of another user are left out of an export even when they hang off the user's rows (another
        /// user's feedback on the user's messages): that is their data, and an import could not satisfy them.
        /// </summary>
        static string? OnlyTheUsers(UserDataModel model, TableInfo table)
        {
            if (ReferenceEquals(table, model.Users))
                return null;
            var conditions = table.ForeignKeys
                .Where(fk => fk.Owns && ReferenceEquals(fk.Parent, model.Users) && fk.Columns.Count == 1)
                // coalesce(c, user) = user: "null or the user", in a form no index answers (the user's rows come from the branches).
                .Select(fk => $"coalesce(t.{Sql.QuoteIdentifier(fk.Columns[0])}, (SELECT {Sql.QuoteIdentifier(fk.ParentColumns[0])} FROM root)) = (SELECT {Sql.QuoteIdentifier(fk.ParentColumns[0])} FROM root)")
                .ToList();
            return conditions.Count == 0 ? null : string.Join(" AND ", conditions);
        }

        /// <summary>
        /// A NOT NULL owning key to users: with <see cref="OnlyTheUsers"/> the table's exported rows are exactly the rows
        /// whose key is the user, so the other branches (through conversations, messages…) need not be read.
        /// </summary>
        static ForeignKeyInfo? UserKey(UserDataModel model, TableInfo table) =>
            ReferenceEquals(table, model.Users) ? null
                : table.ForeignKeys.FirstOrDefault(fk => fk.Owns && ReferenceEquals(fk.Parent, model.Users) && fk.Columns.Count == 1 && table.Column(fk.Columns[0])!.NotNull);

        /// <summary>
        /// The export query of one table: its rows of the user as JSON text, referenced rows before the rows
        /// that reference them (by depth along the table's self-reference), then grouped by parent (the first
        /// unique key led by a foreign key: messages by conversation and seq) and by primary key.
        /// </summary>
        static string ExportSql(UserDataModel model, TableInfo table)
        {
            var sql = UserRows(model);
            var extra = OnlyTheUsers(model, table);
            var columns = string.Join(", ", table.DataColumns.Select(c => c.IsVector ? $"t.{c.Quoted}::real[] AS {c.Quoted}" : "t." + c.Quoted));
            var rows = sql.Rows(table, columns, extra, UserKey(model, table));

            var order = new List<string>();
            var join = "";
            var self = table.ForeignKeys.FirstOrDefault(fk => fk.IsSelf && fk.Columns.Count == 1);
            if (self is not null)
            {
                // Depth of each row along the self-reference (a regenerated message after the one it regenerates,
                // an old memory version after the version that superseded it), so the import never inserts a row
                // before the row it points at. Only rows that point somewhere take part.
                var column = Sql.QuoteIdentifier(self.Columns[0]);
                var key = Sql.QuoteIdentifier(self.ParentColumns[0]);
                var o = sql.Name("o");
                var pointing = sql.Conditions(table, disjoint: false, extra: $"t.{column} IS NOT NULL", only: UserKey(model, table));
                sql.AddCte(o, string.Join("\nUNION ", pointing.Select(w => $"SELECT t.{key} AS ref_key, t.{column} AS ref_parent FROM {table.Quoted} t WHERE {w}")));
                var d = sql.Name("depth");
                sql.AddCte(d, $"""
                    SELECT o.ref_key, 1 AS depth FROM {o} o WHERE NOT EXISTS (SELECT 1 FROM {o} p WHERE p.ref_key = o.ref_parent)
                    UNION ALL
                    SELECT o.ref_key, d.depth + 1 FROM {o} o JOIN {d} d ON o.ref_parent = d.ref_key
                    """, materialized: false);
                join = $" LEFT JOIN {d} d ON d.ref_key = x.{key}";
                order.Add("coalesce(d.depth, 0)");
            }
            var data = table.DataColumns.Select(c => c.Name).ToHashSet(StringComparer.Ordinal);
            var parentKeys = table.ForeignKeys.Where(fk => !fk.IsSelf).Select(fk => fk.Columns[0]).ToHashSet(StringComparer.Ordinal);
            var grouping = table.UniqueKeys.FirstOrDefault(k => parentKeys.Contains(k[0]) && k.All(data.Contains)) ?? [];
            foreach (var c in grouping.Concat(table.PrimaryKey).Where(data.Contains).Distinct(StringComparer.Ordinal))
                order.Add("x." + Sql.QuoteIdentifier(c));
            if (!table.PrimaryKey.Any(data.Contains) || table.PrimaryKey.Any(c => !data.Contains(c)))
                order.Add("row_to_json(x)::text COLLATE \"C\"");
            // row_to_json, not to_jsonb: it writes the columns in table order straight to text, several times faster.
            return $"{sql.With}\nSELECT row_to_json(x)::text FROM ({rows}) x{join}\nORDER BY {string.Join(", ", order)}";
        }

        sealed record Header(Guid UserId, Guid TenantId, DateTimeOffset ExportedAt, int SchemaVersion);

        static Header ParseHeader(ReadOnlyMemory<byte> line)
        {
            const string notHeader = "The first line must be the header of a ChatStore export ({\"type\":\"chatstore-export\",\"version\":1,…}).";
            JsonDocument doc;
            try
            {
                doc = JsonDocument.Parse(line);
            }
            catch (JsonException e)
            {
                throw new ChatStoreValidationException("header", "json", $"is not JSON ({e.Message}). {notHeader}");
            }
            using (doc)
            {
                var root = doc.RootElement;
                if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String || type.GetString() != Format)
                    throw new ChatStoreValidationException("header.type", "format", notHeader);
                if (!root.TryGetProperty("version", out var version) || !version.TryGetInt32(out var v) || v != FormatVersion)
                    throw new ChatStoreValidationException("header.version", "unsupported", $"This ChatStore reads export format version {FormatVersion} only.");
                if (!root.TryGetProperty("schemaVersion", out var schema) || !schema.TryGetInt32(out var schemaVersion) || schemaVersion < 0)
                    throw new ChatStoreValidationException("header.schemaVersion", "required", "must be the schema version the export was taken from.");
                return new Header(
                    Id(root, "userId"), Id(root, "tenantId"),
                    root.TryGetProperty("exportedAt", out var at) && at.ValueKind == JsonValueKind.String && at.TryGetDateTimeOffset(out var exportedAt)
                        ? exportedAt
                        : throw new ChatStoreValidationException("header.exportedAt", "required", "must be the time the export was taken."),
                    schemaVersion);
            }

            static Guid Id(JsonElement root, string name) =>
                root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.TryGetGuid(out var id) && id != Guid.Empty
                    ? id
                    : throw new ChatStoreValidationException("header." + name, "required", "must be a non-empty id.");
        }

        /// <summary>After the inserts, in the same transaction: the user's role must be one of this tenant's roles.</summary>
        static async Task CheckRoleAsync(NpgsqlConnection conn, NpgsqlTransaction tx, UserDataModel model, string quotedSchema, Guid tenantId, Guid userId,
            CancellationToken cancellationToken)
        {
            var sql = $"SELECT count(*) FROM {model.Users.Quoted} u JOIN {quotedSchema}.tenants tn ON tn.id = u.tenant_id WHERE u.tenant_id = $2 AND u.id = $1 AND NOT (u.role = ANY (tn.roles))";
            await using var cmd = new NpgsqlCommand(sql, conn, tx);
            cmd.Parameters.Add(P(userId));
            cmd.Parameters.Add(P(tenantId));
            if ((long)(await cmd.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))! > 0)
                throw new ChatStoreValidationException("users.role", "enum", "is not one of this tenant's roles: add the role to the tenant first.");
        }

        /// <summary>
        /// Inserts rows in batches of one table and one column set: a JSON array of rows turned into records by
        /// <c>jsonb_populate_recordset</c> (values typed by the table's own columns, vectors from number arrays),
        /// one round trip per batch. The next batch is parsed while the previous one runs on the server.
        /// </summary>
        sealed class RowImporter(NpgsqlConnection conn, NpgsqlTransaction tx, CancellationToken cancellationToken)
        {
            readonly StringBuilder _json = new();
            ParsedRow? _first;
            int _rows;
            (NpgsqlCommand Command, Task<int> Run, TableInfo Table, int First, int Last)? _pending;

            public Dictionary<string, long> Counts { get; } = new(StringComparer.Ordinal);

            public async Task AddAsync(ParsedRow row)
            {
                if (_first is not null && (!ReferenceEquals(row.Table, _first.Table) || row.Signature != _first.Signature
                    || _rows >= ImportBatchRows || _json.Length + row.Json.Length > ImportBatchChars))
                    await SendAsync().ConfigureAwait(false);
                if (_first is null)
                {
                    _first = row;
                    _json.Clear().Append('[');
                }
                else
                {
                    _json.Append(',');
                }
                _json.Append(row.Json);
                _rows++;
            }

            /// <summary>Sends the last batch and waits for every batch.</summary>
            public async Task CompleteAsync()
            {
                await SendAsync().ConfigureAwait(false);
                await WaitAsync().ConfigureAwait(false);
            }

            /// <summary>Waits for the batch in flight, then sends the collected one without waiting for it.</summary>
            async Task SendAsync()
            {
                await WaitAsync().ConfigureAwait(false);
                if (_first is not { } first)
                    return;
                var columns = string.Join(", ", first.Columns);
                var sql = $"""
                    INSERT INTO {first.Table.Quoted} (tenant_id, {columns}) OVERRIDING SYSTEM VALUE
                    SELECT current_setting('chatstore.tenant_id')::uuid, {string.Join(", ", first.Columns.Select(c => "r." + c))}
                      FROM jsonb_populate_recordset(NULL::{first.Table.Quoted}, $1) r
                    """;
                var cmd = new NpgsqlCommand(sql, conn, tx) { CommandTimeout = UserDataModel.BulkTimeout(conn) };
                cmd.Parameters.Add(P(_json.Append(']').ToString(), NpgsqlDbType.Jsonb));
                _pending = (cmd, cmd.ExecuteNonQueryAsync(cancellationToken), first.Table, first.Index, first.Index + _rows - 1);
                _first = null;
                _rows = 0;
            }

            /// <summary>After a failure elsewhere: lets a batch in flight finish (its error no longer matters) before the transaction rolls back.</summary>
            public async Task AbandonAsync()
            {
                if (_pending is not { } p)
                    return;
                _pending = null;
                try
                {
                    await p.Run.ConfigureAwait(false);
                }
                catch (NpgsqlException)
                {
                    // The import already failed; this batch is rolled back with it.
                }
                finally
                {
                    await p.Command.DisposeAsync().ConfigureAwait(false);
                }
            }

            async Task WaitAsync()
            {
                if (_pending is not { } p)
                    return;
                _pending = null;
                try
                {
                    var n = await p.Run.ConfigureAwait(false);
                    Counts[p.Table.Name] = Counts.GetValueOrDefault(p.Table.Name) + n;
                }
                catch (PostgresException e)
                {
                    throw Error(e, p.Table.Name, p.First, p.Last);
                }
                finally
                {
                    await p.Command.DisposeAsync().ConfigureAwait(false);
                }
            }

            static Exception Error(PostgresException e, string table, int first, int last)
            {
                var rows = first == last ? $"{table}[{first}]" : $"{table}[{first}..{last}]";
                return e.SqlState switch
                {
                    PostgresErrorCodes.UniqueViolation => new ChatStoreConflictException(
                        $"{rows}: a row with the same key already exists in this database ({e.ConstraintName}). Imports keep ids, so the data " +
                        "must not exist anywhere in the database (erase the user at the source first, or import into another database).", e),
                    PostgresErrorCodes.ForeignKeyViolation => new ChatStoreValidationException(table, "reference",
                        $"{rows} reference rows that are neither earlier in the export nor in this database ({e.ConstraintName}; " +
                        "embedding spaces must exist with the same ids)."),
                    _ when e.SqlState.StartsWith("22", StringComparison.Ordinal) || e.SqlState.StartsWith("23", StringComparison.Ordinal) =>
                        new ChatStoreValidationException(table, "invalid_row", $"{rows}: {e.MessageText}"),
                    _ => e,
                };
            }
        }
    }
}

namespace ChatStore
{
    public sealed partial class TenantScope
    {
        /// <summary>A user's whole data: export, import, erase (GDPR).</summary>
        public Export.ExportStore Export => new(this);
    }
}
