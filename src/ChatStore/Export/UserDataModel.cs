using Npgsql;

namespace ChatStore.Export;

/// <summary>A column of a tenant-owned table, as the catalog describes it.</summary>
internal sealed record ColumnInfo(string Name, string Quoted, string Type, bool IsVector, bool Generated, bool NotNull);

/// <summary>A foreign key between two tables of the model.</summary>
internal sealed record ForeignKeyInfo(string Name, TableInfo Child, IReadOnlyList<string> Columns, TableInfo Parent,
    IReadOnlyList<string> ParentColumns, char OnDelete)
{
    /// <summary>
    /// The child row cannot outlive its parent row (ON DELETE CASCADE, or NO ACTION or RESTRICT on NOT NULL columns), so it
    /// belongs to whoever owns the parent. SET NULL and SET DEFAULT keys, and NO ACTION or RESTRICT keys on nullable
    /// columns, only point at the parent: the row is someone else's, and deleting the parent clears the reference
    /// (see <see cref="DeleteStatement"/>).
    /// </summary>
    public bool Owns => OnDelete == 'c' || OnDelete is 'a' or 'r' && Columns.All(c => Child.Column(c)?.NotNull == true);

    /// <summary>The key points at the same table (a message's parent, a memory's successor).</summary>
    public bool IsSelf => ReferenceEquals(Child, Parent);
}

/// <summary>A table of the schema with a <c>tenant_id</c> column (partitioned tables as one table, partitions left out).</summary>
internal sealed class TableInfo(string name, string quoted, IReadOnlyList<ColumnInfo> columns)
{
    public string Name { get; } = name;

    /// <summary>Schema-qualified, quoted.</summary>
    public string Quoted { get; } = quoted;

    public IReadOnlyList<ColumnInfo> Columns { get; } = columns;

    public IReadOnlyList<string> PrimaryKey { get; set; } = [];

    public List<IReadOnlyList<string>> UniqueKeys { get; } = [];

    /// <summary>Outgoing foreign keys to tables of the model.</summary>
    public List<ForeignKeyInfo> ForeignKeys { get; } = [];

    /// <summary>A soft-delete column (<c>deleted_at timestamptz</c>).</summary>
    public bool HasDeletedAt { get; } = columns.Any(c => c.Name == "deleted_at" && c.Type == "timestamp with time zone");

    /// <summary>The columns an export carries and an import writes: all but generated ones and <c>tenant_id</c>.</summary>
    public IEnumerable<ColumnInfo> DataColumns => Columns.Where(c => !c.Generated && c.Name != "tenant_id");

    public ColumnInfo? Column(string name) => Columns.FirstOrDefault(c => c.Name == name);

    public override string ToString() => Name;
}

/// <summary>
/// The tenant-owned tables of a schema and the foreign keys between them, read from the catalog at run
/// time, so export, erasure and retention cover tables that later migrations (ChatStore's or an app's) add.
/// A row belongs to a user when it references the user through an owning foreign key (see
/// <see cref="ForeignKeyInfo.Owns"/>), directly or through rows that belong to the user.
/// </summary>
internal sealed class UserDataModel
{
    public const string UsersTable = "users";

    /// <summary>
    /// Every table of the model has it. Keys are read without a leading tenant_id (a key (tenant_id, id) is the key id
    /// within the tenant): every statement built from the model names the tenant on every table it reads or writes
    /// (<see cref="OwnershipSql"/>), so rows of one statement are always one tenant's.
    /// </summary>
    public const string TenantColumn = "tenant_id";

    static string[] WithoutTenant(string[] key) => key.Length > 1 && key[0] == TenantColumn ? key[1..] : key;

    /// <summary>
    /// The command timeout of statements that move a whole user's data (erase, import, export queries): at
    /// least 15 minutes, since every deleted row fires its foreign keys' ON DELETE triggers. Cancel with the token.
    /// </summary>
    public static int BulkTimeout(NpgsqlConnection connection) => Math.Max(connection.CommandTimeout, 900);

    /// <summary>
    /// Tables a user's export leaves out: login sessions hold token hashes (secrets) and mean nothing
    /// elsewhere. Erasure still deletes them.
    /// </summary>
    public static readonly IReadOnlySet<string> NotExported = new HashSet<string>(StringComparer.Ordinal) { "sessions" };

    const string TablesSql = """
        SELECT c.relname::text, a.attname::text, format_type(a.atttypid, a.atttypmod), ty.typname = 'vector', a.attgenerated <> '', a.attnotnull
          FROM pg_class c
          JOIN pg_namespace n ON n.oid = c.relnamespace
          JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
          JOIN pg_type ty ON ty.oid = a.atttypid
         WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND NOT c.relispartition
           AND EXISTS (SELECT 1 FROM pg_attribute x WHERE x.attrelid = c.oid AND x.attname = 'tenant_id' AND x.attnum > 0 AND NOT x.attisdropped)
         ORDER BY c.relname, a.attnum
        """;

    // Primary keys, unique constraints and foreign keys (constraints cloned onto partitions left out).
    const string ConstraintsSql = """
        SELECT c.relname::text, k.contype::text,  k.conname::text,
               ARRAY(SELECT a.attname::text FROM unnest(k.conkey) WITH ORDINALITY u (num, ord)
                       JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.num ORDER BY u.ord),
               f.relname::text,
               ARRAY(SELECT a.attname::text FROM unnest(k.confkey) WITH ORDINALITY u (num, ord)
                       JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.num ORDER BY u.ord),
               k.confdeltype::text
          FROM pg_constraint k
          JOIN pg_class c ON c.oid = k.conrelid
          JOIN pg_namespace n ON n.oid = c.relnamespace
          LEFT JOIN pg_class f ON f.oid = k.confrelid AND f.relnamespace = n.oid
         WHERE n.nspname = $1 AND k.contype IN ('p', 'u', 'f') AND k.conparentid = 0
         ORDER BY c.relname, k.conname
        """;

    UserDataModel(Dictionary<string, TableInfo> tables)
    {
        Tables = tables;
        Users = tables.GetValueOrDefault(UsersTable)
            ?? throw new ChatStoreConfigurationException($"The schema has no {UsersTable} table: run the ChatStore migrations first.");
        Order = TopologicalOrder(tables.Values);
        UserTables = Scope(Users);
        Exported = [.. UserTables.Where(t => !NotExported.Contains(t.Name))];
    }

    public IReadOnlyDictionary<string, TableInfo> Tables { get; }

    public TableInfo Users { get; }

    /// <summary>Every table of the model, parents before children.</summary>
    public IReadOnlyList<TableInfo> Order { get; }

    /// <summary><see cref="Users"/> and every table whose rows can belong to a user, parents first.</summary>
    public IReadOnlyList<TableInfo> UserTables { get; }

    /// <summary>The tables an export holds, parents first (the order an import inserts them in).</summary>
    public IReadOnlyList<TableInfo> Exported { get; }

    /// <summary>The statements that read the model; run them with <see cref="ReadAsync"/>.</summary>
    public static void AddTo(NpgsqlBatch batch, string schema)
    {
        foreach (var sql in new[] { TablesSql, ConstraintsSql })
        {
            var cmd = new NpgsqlBatchCommand(sql);
            cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = schema });
            batch.BatchCommands.Add(cmd);
        }
    }

    /// <summary>Reads the two result sets of <see cref="AddTo"/> from <paramref name="reader"/>, which is positioned on the first.</summary>
    public static async Task<UserDataModel> ReadAsync(NpgsqlDataReader reader, string schema, CancellationToken cancellationToken)
    {
        var quotedSchema = Sql.QuoteIdentifier(schema);
        var columns = new Dictionary<string, List<ColumnInfo>>(StringComparer.Ordinal);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var table = reader.GetString(0);
            if (!columns.TryGetValue(table, out var list))
                columns[table] = list = [];
            var name = reader.GetString(1);
            list.Add(new ColumnInfo(name, Sql.QuoteIdentifier(name), reader.GetString(2), reader.GetBoolean(3), reader.GetBoolean(4), reader.GetBoolean(5)));
        }
        var tables = columns.ToDictionary(kv => kv.Key, kv => new TableInfo(kv.Key, $"{quotedSchema}.{Sql.QuoteIdentifier(kv.Key)}", kv.Value), StringComparer.Ordinal);

        await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            if (!tables.TryGetValue(reader.GetString(0), out var table))
                continue;
            var keyColumns = reader.GetFieldValue<string[]>(3);
            switch (reader.GetString(1))
            {
                case "p":
                    table.PrimaryKey = WithoutTenant(keyColumns);
                    break;
                case "u":
                    table.UniqueKeys.Add(WithoutTenant(keyColumns));
                    break;
                case "f" when !reader.IsDBNull(4) && tables.TryGetValue(reader.GetString(4), out var parent):
                    var parentColumns = reader.GetFieldValue<string[]>(5);
                    var (keyOf, references) = keyColumns.Length > 1 && keyColumns[0] == TenantColumn && parentColumns[0] == TenantColumn
                        ? (keyColumns[1..], parentColumns[1..])
                        : (keyColumns, parentColumns);
                    table.ForeignKeys.Add(new ForeignKeyInfo(reader.GetString(2), table, keyOf, parent, references, reader.GetString(6)[0]));
                    break;
            }
        }
        return new UserDataModel(tables);
    }

    /// <summary>
    /// <paramref name="root"/> and every table whose rows hang off its rows through owning foreign keys
    /// (transitively), parents first: what deleting root rows takes with it.
    /// </summary>
    public IReadOnlyList<TableInfo> Scope(TableInfo root)
    {
        var scope = new HashSet<TableInfo> { root };
        bool grew;
        do
        {
            grew = false;
            foreach (var table in Tables.Values)
            {
                if (!scope.Contains(table) && table.ForeignKeys.Any(fk => fk.Owns && !fk.IsSelf && scope.Contains(fk.Parent)))
                    grew = scope.Add(table);
            }
        } while (grew);
        return [.. Order.Where(scope.Contains)];
    }

    /// <summary>The owning foreign keys of <paramref name="table"/> to other tables in <paramref name="scope"/>.</summary>
    public static IEnumerable<ForeignKeyInfo> OwningKeys(TableInfo table, IReadOnlySet<TableInfo> scope) =>
        table.ForeignKeys.Where(fk => fk.Owns && !fk.IsSelf && scope.Contains(fk.Parent));

    /// <summary>
    /// Tables in layers: each layer's tables reference only tables of earlier layers; within a layer by name.
    /// Self-references are ignored (rows are ordered within the table instead). Tables on a reference
    /// cycle between tables (none in ChatStore's schema) come last, by name.
    /// </summary>
    static List<TableInfo> TopologicalOrder(IEnumerable<TableInfo> tables)
    {
        var remaining = tables.OrderBy(t => t.Name, StringComparer.Ordinal).ToList();
        var placed = new HashSet<TableInfo>();
        var order = new List<TableInfo>();
        while (remaining.Count > 0)
        {
            var layer = remaining.Where(t => t.ForeignKeys.All(fk => fk.IsSelf || placed.Contains(fk.Parent))).ToList();
            if (layer.Count == 0)
                layer = remaining;
            order.AddRange(layer);
            placed.UnionWith(layer);
            remaining = [.. remaining.Except(layer)];
        }
        return order;
    }
}
