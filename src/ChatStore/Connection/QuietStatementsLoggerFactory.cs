using Microsoft.Extensions.Logging;

namespace ChatStore.Connection;

/// <summary>
/// Hands Npgsql the app's loggers with the driver's Information lines (one per executed statement, with its
/// SQL) moved to Debug: at an app's usual Information level ChatStore logs nothing per statement, and
/// turning the <c>Npgsql</c> category to Debug shows them again. Warnings and errors keep their level.
/// </summary>
internal sealed class QuietStatementsLoggerFactory(ILoggerFactory inner) : ILoggerFactory
{
    public ILogger CreateLogger(string categoryName) => new Logger(inner.CreateLogger(categoryName));

    public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

    // The app's logger factory belongs to the app: it is not disposed here.
    public void Dispose()
    {
    }

    static LogLevel Demote(LogLevel level) => level == LogLevel.Information ? LogLevel.Debug : level;

    sealed class Logger(ILogger inner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => inner.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(Demote(logLevel));

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            inner.Log(Demote(logLevel), eventId, state, exception, formatter);
    }
}
