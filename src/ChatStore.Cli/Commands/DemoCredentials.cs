using System.Security.Cryptography;
using System.Text.Json;
using ChatStore.Tenants;

namespace ChatStore.Cli.Commands;

/// <summary>
/// The development credentials of <c>serve --demo</c> on the embedded default: one demo tenant, its API key and
/// an operator key, kept in the embedded cluster's data directory (<see cref="FileName"/>, readable by its owner
/// only) so that every start prints the same ones. A fresh data directory gets fresh ones; <c>--reset-demo</c>
/// replaces them (and deletes the old demo tenant).
/// </summary>
internal sealed record DemoCredentials(Guid TenantId, string TenantApiKey, string OperatorKey)
{
    public const string FileName = "chatstore-demo.json";

    public static string NewOperatorKey() => "cs_op_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));

    /// <summary>The saved credentials, or null when there are none (or the file is unreadable: then new ones replace it).</summary>
    public static DemoCredentials? Load(string? path)
    {
        if (path is null || !File.Exists(path))
            return null;
        try
        {
            return JsonSerializer.Deserialize<DemoCredentials>(File.ReadAllText(path), JsonSerializerOptions.Web);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>
    /// The saved demo tenant and key when they still work in this database, else a new tenant and key (saved to
    /// <paramref name="path"/> when there is one) with <paramref name="operatorKey"/>.
    /// </summary>
    public static async Task<DemoCredentials> EnsureAsync(ChatStoreClient client, string? path, DemoCredentials? saved, string operatorKey,
        bool reset, CancellationToken cancellationToken)
    {
        var previous = Load(path);
        if (!reset && saved is not null && saved.OperatorKey == operatorKey
            && await client.Tenants.AuthenticateApiKeyAsync(saved.TenantApiKey, cancellationToken) is { } key && key.TenantId == saved.TenantId)
            return saved;
        if (reset && previous is not null)
        {
            try
            {
                await client.Tenants.DeleteAsync(previous.TenantId, cancellationToken);
            }
            catch (ChatStoreNotFoundException)
            {
                // Already gone (the database was reset).
            }
        }
        var tenant = await client.Tenants.CreateAsync(new NewTenant { Name = "Demo" }, cancellationToken);
        var apiKey = await client.Tenants.CreateApiKeyAsync(tenant.Id, "demo", cancellationToken: cancellationToken);
        await DemoData.SeedAsync(client, tenant.Id, cancellationToken);
        var created = new DemoCredentials(tenant.Id, apiKey.Secret, operatorKey);
        if (path is not null)
            created.Save(path);
        return created;
    }

    void Save(string path)
    {
        // Written under a temporary name created with mode 600, then moved over the old file: never readable by others, never half written.
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var temporary = path + ".tmp";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using (var stream = new FileStream(temporary, options))
            JsonSerializer.Serialize(stream, this, JsonSerializerOptions.Web);
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.Move(temporary, path, overwrite: true);
    }
}
