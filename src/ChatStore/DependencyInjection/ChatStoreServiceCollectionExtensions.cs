using ChatStore;
using ChatStore.Connection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Options for <see cref="ChatStoreServiceCollectionExtensions.AddChatStore"/>.</summary>
public sealed class ChatStoreOptions
{
    /// <summary>Settings; when null they are loaded from the environment and config file (<see cref="ChatStoreSettings.Load"/>).</summary>
    public ChatStoreSettings? Settings { get; set; }

    /// <summary>Input size caps.</summary>
    public ChatStoreLimits Limits { get; set; } = new();
}

/// <summary>Registers ChatStore in a service collection.</summary>
public static class ChatStoreServiceCollectionExtensions
{
    /// <summary>
    /// Registers a singleton <see cref="ChatStoreClient"/>, created on first use and disposed with the container. Its clock is
    /// the settings' <see cref="ChatStoreSettings.TimeProvider"/>, else the container's <see cref="TimeProvider"/> if it has one.
    /// </summary>
    public static IServiceCollection AddChatStore(this IServiceCollection services, Action<ChatStoreOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = new ChatStoreOptions();
        configure?.Invoke(options);
        services.TryAddSingleton(sp =>
        {
            var settings = options.Settings ?? ChatStoreSettings.Load();
            return ChatStoreClient.Create(settings with { TimeProvider = settings.TimeProvider ?? sp.GetService<TimeProvider>() },
                options.Limits, sp.GetService<ILoggerFactory>());
        });
        return services;
    }
}
