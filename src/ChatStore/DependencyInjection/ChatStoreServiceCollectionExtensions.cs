using ChatStore;
using ChatStore.Connection;
using ChatStore.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Options for <see cref="ChatStoreServiceCollectionExtensions.AddChatStore"/>.</summary>
public sealed class ChatStoreOptions
{
    /// <summary>
    /// Settings; when null they are loaded from the environment and config file (<see cref="ChatStoreSettings.Load"/>).
    /// With an app's own <c>NpgsqlDataSource</c> in the container, only the schema and the application role are read.
    /// </summary>
    public ChatStoreSettings? Settings { get; set; }

    /// <summary>Input size caps.</summary>
    public ChatStoreLimits Limits { get; set; } = new();

    /// <summary>
    /// Use the <c>NpgsqlDataSource</c> the app registers (for example with Npgsql.DependencyInjection's
    /// <c>AddNpgsqlDataSource</c>) when there is one (default true). ChatStore never disposes an app's data source.
    /// </summary>
    public bool UseRegisteredDataSource { get; set; } = true;
}

/// <summary>Registers ChatStore in a service collection.</summary>
public static class ChatStoreServiceCollectionExtensions
{
    /// <summary>
    /// Registers a singleton <see cref="ChatStoreClient"/> over the app's <c>NpgsqlDataSource</c> when the container
    /// has one, else over a data source built from the settings (with no connection string: the embedded cluster).
    /// Nothing here or at resolution waits on I/O: a hosted service starts the embedded cluster before the host serves,
    /// and <see cref="ChatStoreStartup.GetClientAsync"/> awaits it outside a host. The client's clock is the settings'
    /// <see cref="ChatStoreSettings.TimeProvider"/>, else the container's <see cref="TimeProvider"/> if it has one.
    /// </summary>
    /// <returns>A builder to add ChatStore's health check with (<see cref="ChatStoreBuilder.AddHealthChecks"/>).</returns>
    public static ChatStoreBuilder AddChatStore(this IServiceCollection services, Action<ChatStoreOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = new ChatStoreOptions();
        configure?.Invoke(options);
        services.TryAddSingleton(sp => new ChatStoreStartup(sp, options));
        services.TryAddSingleton(sp => sp.GetRequiredService<ChatStoreStartup>().Client);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, ChatStoreStartup.HostedService>());
        return new ChatStoreBuilder(services);
    }
}

/// <summary>Adds ChatStore's health check to <c>services.AddHealthChecks()</c>.</summary>
public static class ChatStoreHealthChecksBuilderExtensions
{
    /// <summary>Adds <see cref="ChatStoreHealthCheck"/> (call <c>services.AddChatStore()</c> too).</summary>
    public static IHealthChecksBuilder AddChatStore(this IHealthChecksBuilder builder, string name = ChatStoreHealthCheck.DefaultName, IEnumerable<string>? tags = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.Add(new HealthCheckRegistration(name, sp => new ChatStoreHealthCheck(sp.GetRequiredService<ChatStoreStartup>(), sp), HealthStatus.Unhealthy, tags));
    }
}
