using System.Collections.Concurrent;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;

namespace ChatStore.Server.Tests;

public sealed class LoggingTests : IAsyncLifetime
{
    readonly LoggedServer _server = new();

    public Task InitializeAsync() => _server.InitializeAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task At_default_settings_the_server_logs_request_lines_and_no_SQL()
    {
        var (_, http) = await _server.NewTenantAsync();
        await ServerFixture.NewUserAsync(http);
        await ServerFixture.ReadAsync(await http.GetAsync("/v1/users"));

        var lines = _server.Lines.ToList();
        Assert.Contains(lines, l => l.Category.EndsWith("RequestLogging", StringComparison.Ordinal) && l.Level == LogLevel.Information
            && l.Message.StartsWith("POST /v1/users", StringComparison.Ordinal) && l.Message.Contains(" 201 ", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Message.Contains("INSERT INTO", StringComparison.OrdinalIgnoreCase)
            || l.Message.Contains("SELECT ", StringComparison.OrdinalIgnoreCase));
        Assert.DoesNotContain(lines, l => l.Category.StartsWith("Npgsql", StringComparison.Ordinal) && l.Level < LogLevel.Warning);
    }

    /// <summary>The service at its default log levels, with every line it writes kept.</summary>
    sealed class LoggedServer : ServerFixture, ILoggerProvider
    {
        public ConcurrentQueue<(string Category, LogLevel Level, string Message)> Lines { get; } = new();

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.ConfigureLogging(l => l.AddProvider(this));
        }

        ILogger ILoggerProvider.CreateLogger(string categoryName) => new Logger(this, categoryName);

        void IDisposable.Dispose()
        {
        }

        sealed class Logger(LoggedServer server, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                server.Lines.Enqueue((category, logLevel, formatter(state, exception)));
        }
    }
}
