using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace ChatStore.DependencyInjection;

/// <summary>What <c>services.AddChatStore()</c> returns: the service collection, and ChatStore's optional parts.</summary>
public sealed class ChatStoreBuilder(IServiceCollection services)
{
    /// <summary>The service collection ChatStore is registered in.</summary>
    public IServiceCollection Services { get; } = services;

    /// <summary>
    /// Registers <see cref="ChatStoreHealthCheck"/> with <c>services.AddHealthChecks()</c>: healthy when the
    /// database answers, pgvector is installed and every migration is applied.
    /// </summary>
    public ChatStoreBuilder AddHealthChecks(string name = ChatStoreHealthCheck.DefaultName, IEnumerable<string>? tags = null)
    {
        Services.AddHealthChecks().AddChatStore(name, tags);
        return this;
    }
}
