using System.Globalization;
using System.Text;

namespace ChatStore.Export;

/// <summary>
/// Builds one SQL statement over the rows that hang off a set of root rows (a user, a batch of
/// conversations…) through owning foreign keys, from a <see cref="UserDataModel"/>.
/// <para>
/// The statement starts with a <c>root</c> CTE (the root rows' primary keys) and, for every table a
/// condition needs, a materialised key set: the keys of that table's rows in scope, a UNION of one
/// indexed lookup per owning foreign key. A row of a table is in scope when <em>any</em> of its owning
/// keys points into scope; each key is its own <c>EXISTS</c> branch (a semi-join the planner serves
/// from the foreign key's index) rather than one OR, which PostgreSQL could only answer by scanning
/// the table. Tables with <c>deleted_at</c> get each branch twice, for live and for soft-deleted rows,
/// so partial indexes on either side serve them.
/// </para>
/// Every table is read as the tenant's (<c>t.tenant_id = {tenant}</c>, the statement's first parameter once rendered:
/// see <see cref="ScopedBatch.Tenanted"/>), so the keys between them are compared without their tenant_id.
/// Identifiers come from the catalog and are quoted; values are parameters of the caller's statement.
/// </summary>
internal sealed class OwnershipSql
{
    /// <summary>The condition every table access carries.</summary>
    public const string TenantCondition = "t.tenant_id = " + Tenancy.StoreContext.TenantToken;

    readonly TableInfo _root;
    readonly HashSet<TableInfo> _scope;
    readonly bool _singleRoot;
    readonly List<string> _ctes = [];
    readonly Dictionary<string, string> _keySets = new(StringComparer.Ordinal);
    readonly HashSet<TableInfo> _building = [];
    int _names;

    /// <param name="model">The tables.</param>
    /// <param name="root">The table of the root rows.</param>
    /// <param name="rootSelect">A SELECT of the root rows returning the root table's primary key columns (alias them by name).</param>
    /// <param name="singleRoot">The root is at most one row: conditions compare with a scalar subquery.</param>
    /// <param name="prelude">CTEs that <paramref name="rootSelect"/> uses, without the leading WITH.</param>
    public OwnershipSql(UserDataModel model, TableInfo root, string rootSelect, bool singleRoot, string? prelude = null)
    {
        if (root.PrimaryKey.Count == 0)
            throw new ChatStoreConfigurationException($"Table {root.Name} has no primary key, so its rows cannot be the roots of an erase or purge.");
        Model = model;
        _root = root;
        _singleRoot = singleRoot;
        Tables = model.Scope(root);
        _scope = [.. Tables];
        if (prelude is not null)
            _ctes.Add(prelude);
        _ctes.Add($"root AS MATERIALIZED ({rootSelect})");
    }

    /// <summary>The tables.</summary>
    public UserDataModel Model { get; }

    /// <summary>The root table and the tables whose rows hang off root rows, parents first.</summary>
    public IReadOnlyList<TableInfo> Tables { get; }

    /// <summary>The WITH clause of every CTE added so far; take it after building the statement's other parts.</summary>
    public string With => "WITH RECURSIVE\n" + string.Join(",\n", _ctes);

    /// <summary>A fresh CTE name.</summary>
    public string Name(string prefix) => prefix + (++_names).ToString(CultureInfo.InvariantCulture);

    /// <summary>Adds a CTE (after the ones it uses).</summary>
    public void AddCte(string name, string body, bool materialized = true) =>
        _ctes.Add($"{name} AS {(materialized ? "MATERIALIZED " : "")}({body})");

    /// <summary>
    /// Conditions on alias <c>t</c> of <paramref name="table"/> whose union is its rows in scope. When
    /// <paramref name="disjoint"/>, no row matches two of them (each excludes the branches before it), so a
    /// UNION ALL of them, or one DELETE per condition, sees every row once.
    /// </summary>
    /// <param name="table">The table (alias <c>t</c>).</param>
    /// <param name="disjoint">Each condition excludes the rows of the ones before it.</param>
    /// <param name="extra">A further condition on every branch.</param>
    /// <param name="only">Only the branch of this owning key (when the caller knows the others add nothing).</param>
    public List<string> Conditions(TableInfo table, bool disjoint = true, string? extra = null, ForeignKeyInfo? only = null)
    {
        var arms = Arms(table).Where(a => only is null || ReferenceEquals(a.Key, only)).ToList();
        if (arms.Count == 0)
            return ["false"];
        var result = new List<string>(arms.Count * 2);
        var sb = new StringBuilder();
        for (var i = 0; i < arms.Count; i++)
        {
            sb.Clear().Append(TenantCondition).Append(" AND ").Append(arms[i].Match);
            if (disjoint)
            {
                for (var j = 0; j < i; j++)
                    sb.Append(" AND ").Append(arms[j].NoMatch);
            }
            if (extra is not null)
                sb.Append(" AND ").Append(extra);
            var condition = sb.ToString();
            if (table.HasDeletedAt)
            {
                result.Add(condition + " AND t.deleted_at IS NULL");
                result.Add(condition + " AND t.deleted_at IS NOT NULL");
            }
            else
            {
                result.Add(condition);
            }
        }
        return result;
    }

    /// <summary>A SELECT of <paramref name="columns"/> (over alias <c>t</c>) of every row of <paramref name="table"/> in scope, each once.</summary>
    public string Rows(TableInfo table, string columns, string? extra = null, ForeignKeyInfo? only = null) =>
        string.Join("\nUNION ALL ", Conditions(table, true, extra, only).Select(w => $"SELECT {columns} FROM {table.Quoted} t WHERE {w}"));

    /// <summary>
    /// Adds one DELETE CTE per condition of <paramref name="table"/>; returns their names. All of them run in
    /// the statement's one snapshot; ON DELETE actions run at its end and find the children already gone.
    /// </summary>
    public List<string> AddDeletes(TableInfo table)
    {
        var names = new List<string>();
        foreach (var condition in Conditions(table))
        {
            var name = Name("d");
            AddCte(name, $"DELETE FROM {table.Quoted} t WHERE {condition} RETURNING 1", materialized: false);
            names.Add(name);
        }
        return names;
    }

    /// <summary>The name of a CTE holding <paramref name="columns"/> of every row of <paramref name="table"/> in scope.</summary>
    public string KeySet(TableInfo table, IReadOnlyList<string> columns)
    {
        if (ReferenceEquals(table, _root) && columns.SequenceEqual(_root.PrimaryKey))
            return "root";
        var key = table.Name + "(" + string.Join(",", columns) + ")";
        if (_keySets.TryGetValue(key, out var existing))
            return existing;
        var select = string.Join(", ", columns.Select(c => "t." + Sql.QuoteIdentifier(c)));
        _building.Add(table);
        var body = string.Join("\nUNION ", Conditions(table, disjoint: false).Select(w => $"SELECT {select} FROM {table.Quoted} t WHERE {w}"));
        _building.Remove(table);
        var name = Name("k");
        AddCte(name, body);
        _keySets[key] = name;
        return name;
    }

    /// <summary>One branch: the rows whose owning key <see cref="Key"/> (null for the root's own rows) points into scope.</summary>
    readonly record struct Arm(ForeignKeyInfo? Key, string Match, string NoMatch);

    List<Arm> Arms(TableInfo table)
    {
        if (ReferenceEquals(table, _root))
            return [RootArm(null, _root.PrimaryKey, _root.PrimaryKey)];
        var arms = new List<Arm>();
        foreach (var fk in UserDataModel.OwningKeys(table, _scope))
        {
            if (ReferenceEquals(fk.Parent, _root) && fk.ParentColumns.SequenceEqual(_root.PrimaryKey))
            {
                arms.Add(RootArm(fk, fk.Columns, fk.ParentColumns));
                continue;
            }
            if (_building.Contains(fk.Parent))
                continue; // a reference cycle between tables: the rows are reached through their other keys
            var set = KeySet(fk.Parent, fk.ParentColumns);
            var on = string.Join(" AND ", fk.Columns.Zip(fk.ParentColumns, (c, p) => $"k.{Sql.QuoteIdentifier(p)} = t.{Sql.QuoteIdentifier(c)}"));
            arms.Add(new(fk, $"EXISTS (SELECT 1 FROM {set} k WHERE {on})", $"NOT EXISTS (SELECT 1 FROM {set} k WHERE {on})"));
        }
        return arms;
    }

    Arm RootArm(ForeignKeyInfo? key, IReadOnlyList<string> columns, IReadOnlyList<string> rootColumns)
    {
        if (_singleRoot && columns.Count == 1)
        {
            var column = "t." + Sql.QuoteIdentifier(columns[0]);
            var value = $"(SELECT {Sql.QuoteIdentifier(rootColumns[0])} FROM root)";
            return new(key, $"{column} = {value}", $"{column} IS DISTINCT FROM {value}");
        }
        var on = string.Join(" AND ", columns.Zip(rootColumns, (c, p) => $"k.{Sql.QuoteIdentifier(p)} = t.{Sql.QuoteIdentifier(c)}"));
        return new(key, $"EXISTS (SELECT 1 FROM root k WHERE {on})", $"NOT EXISTS (SELECT 1 FROM root k WHERE {on})");
    }
}
