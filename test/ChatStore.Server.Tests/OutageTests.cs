using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using ChatStore.Connection;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace ChatStore.Server.Tests;

/// <summary>
/// The service over a database that is down (nothing listens on its port): every route that needs the
/// database is a 503 problem with Retry-After, /readyz says why, and the request log records the 503 the client
/// received, one Warning line per request and no stack trace.
/// </summary>
public sealed class OutageTests : IClassFixture<OutageTests.DownServer>
{
    readonly DownServer _server;

    public OutageTests(DownServer server) => _server = server;

    [Fact]
    public async Task A_database_outage_is_503_with_retry_after_and_the_request_log_records_503_at_warning_without_a_stack_trace()
    {
        using var http = _server.As(ServerFixture.OperatorKey);
        _server.Logs.Clear();

        var response = await http.GetAsync("/v1/tenants");

        var problem = await ServerFixture.ProblemAsync(response, 503);
        Assert.Equal("5", response.Headers.RetryAfter?.ToString());
        Assert.Contains("cannot be reached", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        var lines = _server.Logs.Where(l => l.Category.EndsWith("RequestLogging", StringComparison.Ordinal)).ToList();
        var line = Assert.Single(lines);
        Assert.Equal(LogLevel.Warning, line.Level);
        Assert.Contains("GET /v1/tenants/ 503", line.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(_server.Logs, l => l.HasException);
    }

    [Fact]
    public async Task Readyz_is_a_503_problem_with_the_masked_reason()
    {
        using var http = _server.As(null);

        var response = await http.GetAsync("/readyz");

        var problem = await ServerFixture.ProblemAsync(response, 503);
        var detail = problem.GetProperty("detail").GetString()!;
        Assert.Contains($"127.0.0.1:{_server.Port}", detail, StringComparison.Ordinal);
        Assert.Contains("Check DATABASE_URL", detail, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret", detail, StringComparison.Ordinal);
        Assert.NotNull(response.Headers.RetryAfter);
    }

    [Theory]
    [InlineData("57P01", true)] // admin shutdown: the server is stopping
    [InlineData("57P03", true)] // cannot connect now: the server is starting
    [InlineData("08006", true)] // connection failure
    [InlineData("53300", true)] // too many connections
    [InlineData("42P01", false)] // undefined table: a bug or an old schema, not an outage
    [InlineData("23505", false)] // unique violation
    public void PostgreSQL_shutdown_startup_and_connection_errors_are_outages_and_others_are_not(string sqlState, bool outage)
    {
        var error = new Npgsql.PostgresException("the server said so", "FATAL", "FATAL", sqlState);

        Assert.Equal(outage, Hosting.ProblemMapping.Outage(error) is not null);
        Assert.Equal(outage, Hosting.ProblemMapping.Outage(new InvalidOperationException("wrapped", error)) is not null);
    }

    /// <summary>A server whose DATABASE_URL points at a port nothing listens on; it records every log line.</summary>
    public sealed class DownServer : WebApplicationFactory<Program>
    {
        public ConcurrentQueue<(string Category, LogLevel Level, string Message, bool HasException)> Logs { get; } = new();

        public int Port { get; } = FreePort();

        public HttpClient As(string? token)
        {
            var http = CreateDefaultClient(new ContractCheck(CreateClient));
            if (token is not null)
                http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
            return http;
        }

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            builder.UseSetting("Server:OperatorKey", ServerFixture.OperatorKey);
            builder.ConfigureLogging(logging => logging.AddProvider(new Recorder(Logs)));
            builder.ConfigureServices(services =>
            {
                services.RemoveAll<ChatStoreClient>();
                var connection = DatabaseUrl.ToConnectionString($"postgres://app:s3cret@127.0.0.1:{Port}/chat?connect_timeout=2");
                services.AddSingleton(_ => ChatStoreClient.Create(new ChatStoreSettings { ConnectionString = connection }));
            });
        }

        static int FreePort()
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }
    }

    sealed class Recorder(ConcurrentQueue<(string, LogLevel, string, bool)> lines) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new Logger(categoryName, lines);

        public void Dispose() { }

        sealed class Logger(string category, ConcurrentQueue<(string, LogLevel, string, bool)> lines) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                if (IsEnabled(logLevel))
                    lines.Enqueue((category, logLevel, formatter(state, exception), exception is not null));
            }
        }
    }
}
