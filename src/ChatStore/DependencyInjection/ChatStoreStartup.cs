using ChatStore.Connection;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace ChatStore.DependencyInjection;

/// <summary>
/// Makes the container's <see cref="ChatStoreClient"/> without waiting on I/O where it can (over the app's
/// <see cref="NpgsqlDataSource"/>, or a connection string: building a data source opens nothing) and starts the
/// embedded cluster asynchronously where it must, from a hosted service that runs before the host serves.
/// </summary>
public sealed class ChatStoreStartup : IAsyncDisposable
{
    readonly IServiceProvider _services;
    readonly ChatStoreOptions _options;
    readonly Lock _lock = new();
    ChatStoreClient? _client;
    Task<ChatStoreClient>? _starting;

    internal ChatStoreStartup(IServiceProvider services, ChatStoreOptions options)
    {
        _services = services;
        _options = options;
    }

    /// <summary>
    /// The client. It is there at once over an app's data source or a connection string; on the embedded default,
    /// once the host has started (or <see cref="GetClientAsync"/> has completed).
    /// </summary>
    /// <exception cref="InvalidOperationException">The embedded cluster has not started yet.</exception>
    public ChatStoreClient Client
    {
        get
        {
            lock (_lock)
            {
                if (_client is not null)
                    return _client;
                if (_starting is { IsCompletedSuccessfully: true })
                    return _starting.Result;
                if (CreateWithoutIo() is { } client)
                    return _client = client;
            }
            throw new InvalidOperationException(
                "ChatStore's embedded PostgreSQL cluster has not started yet: ChatStoreClient can be resolved once the host has started " +
                "(ChatStore's hosted service starts the cluster before the host serves). Before that, await " +
                "ChatStoreStartup.GetClientAsync(); to use a server of your own, set DATABASE_URL or register an NpgsqlDataSource.");
        }
    }

    /// <summary>The client, starting the embedded cluster first when ChatStore runs on it (once; later calls share the start).</summary>
    public Task<ChatStoreClient> GetClientAsync(CancellationToken cancellationToken = default)
    {
        Task<ChatStoreClient> starting;
        lock (_lock)
        {
            if (_client is not null)
                return Task.FromResult(_client);
            if (CreateWithoutIo() is { } client)
                return Task.FromResult(_client = client);
            if (_starting is null || _starting.IsFaulted || _starting.IsCanceled)
                _starting = ChatStoreClient.CreateAsync(Settings, _options.Limits, LoggerFactory);
            starting = _starting;
        }
        return starting.WaitAsync(cancellationToken);
    }

    // The settings, with the container's clock when they name none; worked out once.
    ChatStoreSettings Settings => _settings ??= WithContainerClock(_options.Settings ?? ChatStoreSettings.Load());

    ChatStoreSettings? _settings;

    ChatStoreSettings WithContainerClock(ChatStoreSettings settings) =>
        settings.TimeProvider is null && _services.GetService<TimeProvider>() is { } clock ? settings with { TimeProvider = clock } : settings;

    ILoggerFactory LoggerFactory => _services.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance;

    ChatStoreClient? CreateWithoutIo()
    {
        if (_options.UseRegisteredDataSource && _services.GetService<NpgsqlDataSource>() is { } registered)
            return new ChatStoreClient(registered, Settings.Schema, Settings.AppRole, _options.Limits, LoggerFactory, owned: null, Settings.TimeProvider, ownsDataSource: false);
        if (Settings.ConnectionString is { } connectionString)
            return new ChatStoreClient(ChatStoreClient.BuildDataSource(connectionString, Settings, LoggerFactory), Settings.Schema, Settings.AppRole,
                _options.Limits, LoggerFactory, owned: null, Settings.TimeProvider);
        return null;
    }

    /// <summary>Disposes the client this made (stopping the embedded cluster it started).</summary>
    public async ValueTask DisposeAsync()
    {
        ChatStoreClient? client;
        lock (_lock)
            client = _client ?? (_starting is { IsCompletedSuccessfully: true } ? _starting.Result : null);
        if (client is not null)
            await client.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Starts the client (and the embedded cluster) before the host serves.</summary>
    internal sealed class HostedService(ChatStoreStartup startup) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => startup.GetClientAsync(cancellationToken);

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
