using System.Threading.RateLimiting;
using ChatStore.Connection;
using ChatStore.Server.Apis;
using ChatStore.Server.Console;
using ChatStore.Server.Docs;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Timeouts;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ChatStore.Server.Hosting;

/// <summary>Builds the ChatStore HTTP service: services, middleware and every <c>/v1</c> route.</summary>
public static class ChatStoreServer
{
    /// <summary>
    /// A configured application. <paramref name="settings"/> override ChatStore's environment and
    /// config-file settings (the CLI passes its flags here).
    /// </summary>
    public static WebApplication Build(string[] args, ChatStoreSettings? settings = null, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateSlimBuilder(args);
        builder.Configuration.AddEnvironmentVariables("CHATSTORE_");
        configure?.Invoke(builder);
        builder.AddChatStoreServer(settings);
        var app = builder.Build();
        app.MapChatStore();
        return app;
    }

    /// <summary>
    /// Registers the HTTP service's services in an app: ChatStore itself (<c>AddChatStore</c>, with its health check),
    /// authentication, problem details, rate limits, request timeouts and OpenAPI. Its options are read from the
    /// <c>Server</c> configuration section (<see cref="ServerOptions"/>); <paramref name="settings"/> override
    /// ChatStore's environment and config-file settings. Call <see cref="MapChatStore"/> on the built app.
    /// </summary>
    public static WebApplicationBuilder AddChatStoreServer(this WebApplicationBuilder builder, ChatStoreSettings? settings = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        // CHATSTORE_SERVER__OPERATORKEY_FILE: the operator key from a mounted secrets file.
        if (SecretVariable.Read(ServerOptions.OperatorKeyVariable) is { } operatorKey)
            builder.Configuration["Server:OperatorKey"] = operatorKey;
        var server = builder.Services.AddOptions<ServerOptions>().Bind(builder.Configuration.GetSection("Server"));
        // Request lines come from RequestLogging; the driver's per-command lines are noise here.
        builder.Logging.AddFilter("Npgsql", LogLevel.Warning).AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        var options = builder.Configuration.GetSection("Server").Get<ServerOptions>() ?? new ServerOptions();

        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes;
            k.AddServerHeader = false;
        });
        builder.Services.AddChatStore(o => o.Settings = settings ?? ChatStoreSettings.Load());
        builder.Services.AddSingleton<CallerAuthentication>();
        builder.Services.AddProblemDetails(o => o.CustomizeProblemDetails = ProblemDetailsDefaults.Customize);
        builder.Services.AddExceptionHandler<ProblemMapping>();
        builder.Services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        builder.Services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.Strict;
            // A property the request type does not have is a 400 naming it, not silently dropped.
            o.SerializerOptions.UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow;
            o.SerializerOptions.Converters.Add(new HybridSourcesConverter());
            o.SerializerOptions.Converters.Add(new System.Text.Json.Serialization.JsonStringEnumConverter(System.Text.Json.JsonNamingPolicy.CamelCase));
        });
        builder.Services.AddRequestTimeouts(o => o.DefaultPolicy = new RequestTimeoutPolicy { Timeout = options.RequestTimeout, TimeoutStatusCode = 503 });
        builder.Services.AddRateLimiter(o =>
        {
            o.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, Guid>(context =>
                context.Items[Caller.ItemKey] is Caller { TenantId: Guid tenant }
                    ? RateLimitPartition.GetTokenBucketLimiter(tenant, _ => new TokenBucketRateLimiterOptions
                    {
                        TokenLimit = options.RateLimitBurst,
                        TokensPerPeriod = options.RateLimitPerSecond,
                        ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                        QueueLimit = 0,
                        AutoReplenishment = true,
                    })
                    : RateLimitPartition.GetNoLimiter(Guid.Empty));
            o.OnRejected = async (ctx, ct) =>
            {
                var retry = ctx.Lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? Math.Max(1, (int)Math.Ceiling(after.TotalSeconds)) : 1;
                ctx.HttpContext.Response.StatusCode = 429;
                ctx.HttpContext.Response.Headers.RetryAfter = retry.ToString(System.Globalization.CultureInfo.InvariantCulture);
                await ctx.HttpContext.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new()
                {
                    HttpContext = ctx.HttpContext,
                    ProblemDetails = ProblemMapping.Problem(429, "Too many requests", $"This tenant's rate limit is spent; retry after {retry} s."),
                }).ConfigureAwait(false);
            };
        });
        builder.Services.AddOpenApi(o =>
        {
            o.AddDocumentTransformer<OpenApiSecurity>();
            o.AddOperationTransformer<OpenApiOperations>();
            o.AddSchemaTransformer<OpenApiSchemas>();
        });
        builder.Services.AddHealthChecks().AddChatStore();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<IdempotencyKeyPurge>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<IdempotencyKeyPurge>());
        return builder;
    }

    /// <summary>
    /// Adds the HTTP service's middleware (problem details for errors, request log lines, body limit, callers,
    /// rate limits, timeouts, idempotency) and maps its routes: <c>/openapi/v1.json</c>, <c>/healthz</c>,
    /// <c>/readyz</c> and every <c>/v1</c> route. Call <see cref="AddChatStoreServer"/> on the builder first.
    /// </summary>
    public static WebApplication MapChatStore(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseMiddleware<RequestLogging>();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseMiddleware<RequestBodyLimit>();
        app.UseMiddleware<CallerMiddleware>();
        app.UseMiddleware<StrictQuery>();
        app.UseRateLimiter();
        app.UseRequestTimeouts();
        app.UseMiddleware<IdempotencyMiddleware>();

        app.MapOpenApi("/openapi/{documentName}.json");
        app.MapApiReference();
        app.MapConsole();
        app.MapHealthApi();
        var v1 = app.MapGroup("/v1");
        v1.MapTenantsApi();
        v1.MapUsersApi();
        v1.MapSessionsApi();
        v1.MapConversationsApi();
        v1.MapSharesApi();
        v1.MapMessagesApi();
        v1.MapFeedbackApi();
        v1.MapCorrectionsApi();
        v1.MapMessageDocumentsApi();
        v1.MapMemoriesApi();
        v1.MapDocumentsApi();
        v1.MapAnalysesApi();
        v1.MapSubjectsApi();
        v1.MapPreferencesApi();
        v1.MapRemindersApi();
        v1.MapUsageApi();
        v1.MapCreditsApi();
        v1.MapCacheApi();
        v1.MapSearchApi();
        v1.MapEmbeddingsApi();
        v1.MapExportApi();
        v1.MapSearchHistoryApi();
        return app;
    }
}
