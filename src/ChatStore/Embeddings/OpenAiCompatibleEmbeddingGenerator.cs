using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.AI;

namespace ChatStore.Embeddings;

/// <summary>Where and how <see cref="OpenAiCompatibleEmbeddingGenerator"/> calls an embeddings API.</summary>
public sealed record OpenAiCompatibleEmbeddingOptions
{
    /// <summary>The API's base URL, up to and including the version (for example <c>https://api.openai.com/v1</c>); <c>/embeddings</c> is appended.</summary>
    public required Uri BaseUrl { get; init; }

    /// <summary>The model (for example <c>text-embedding-3-small</c>).</summary>
    public required string Model { get; init; }

    /// <summary>The API key, sent as a bearer token (none when null, as for a local server).</summary>
    public string? ApiKey { get; init; }

    /// <summary>Ask the API for this many dimensions (models that support shortening), or null for the model's own.</summary>
    public int? Dimensions { get; init; }

    /// <summary>Texts per request (default 96).</summary>
    public int BatchSize { get; init; } = 96;

    /// <summary>Retries of a request that got 408, 429 or 5xx, or failed to connect (default 5).</summary>
    public int MaxRetries { get; init; } = 5;

    /// <summary>The first retry's delay; doubled per retry, with jitter, unless the server sends Retry-After (default 500 ms).</summary>
    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>The longest wait before a retry, whatever Retry-After says (default 60 s).</summary>
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(60);
}

/// <summary>
/// Embeds through an OpenAI-compatible <c>POST {base}/embeddings</c> API (OpenAI, Azure OpenAI's
/// compatible endpoint, Ollama, vLLM, LM Studio, …): batches the input, retries 408/429/5xx and
/// connection failures with exponential backoff and jitter, honouring Retry-After.
/// </summary>
public sealed class OpenAiCompatibleEmbeddingGenerator : IEmbeddingGenerator<string, Embedding<float>>
{
    readonly HttpClient _http;
    readonly bool _ownsHttp;
    readonly OpenAiCompatibleEmbeddingOptions _options;
    readonly Uri _endpoint;

    /// <summary>Creates the embedder.</summary>
    /// <param name="options">Where and how to call.</param>
    /// <param name="httpClient">The client to send with (for example from IHttpClientFactory); a new one when null, disposed with this.</param>
    public OpenAiCompatibleEmbeddingGenerator(OpenAiCompatibleEmbeddingOptions options, HttpClient? httpClient = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        Validate.Required(options.Model, "model", 200);
        Validate.Range(options.BatchSize, "batchSize", 1, 2048);
        Validate.Range(options.MaxRetries, "maxRetries", 0, 20);
        if (options.Dimensions is int d) Validate.Range(d, "dimensions", 1, 16000);
        if (!options.BaseUrl.IsAbsoluteUri || options.BaseUrl.Scheme is not ("http" or "https"))
            throw new ChatStoreValidationException("baseUrl", "format", "must be an absolute http(s) URL such as https://api.openai.com/v1.");
        _options = options;
        _endpoint = new Uri(options.BaseUrl.AbsoluteUri.TrimEnd('/') + "/embeddings");
        _ownsHttp = httpClient is null;
        _http = httpClient ?? new HttpClient { Timeout = TimeSpan.FromMinutes(2) };
        Metadata = new EmbeddingGeneratorMetadata("openai-compatible", options.BaseUrl, options.Model, options.Dimensions);
    }

    /// <summary>Describes the embedder.</summary>
    public EmbeddingGeneratorMetadata Metadata { get; }

    /// <summary>Embeds each text, <see cref="OpenAiCompatibleEmbeddingOptions.BatchSize"/> texts per request, in order.</summary>
    public async Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(values);
        var model = options?.ModelId ?? _options.Model;
        var dimensions = options?.Dimensions ?? _options.Dimensions;
        var result = new GeneratedEmbeddings<Embedding<float>>();
        long inputTokens = 0, totalTokens = 0;
        foreach (var batch in values.Chunk(_options.BatchSize))
        {
            var response = await SendAsync(new EmbeddingRequest(batch, model, dimensions), cancellationToken).ConfigureAwait(false);
            if (response.Data is null || response.Data.Count != batch.Length)
                throw new ChatStoreException($"The embeddings API at {_endpoint} returned {response.Data?.Count ?? 0} vectors for {batch.Length} texts.");
            foreach (var item in response.Data.OrderBy(d => d.Index))
                result.Add(new Embedding<float>(item.Embedding ?? []) { ModelId = response.Model ?? model, CreatedAt = DateTimeOffset.UtcNow });
            inputTokens += response.Usage?.PromptTokens ?? 0;
            totalTokens += response.Usage?.TotalTokens ?? 0;
        }
        result.Usage = new UsageDetails { InputTokenCount = inputTokens, TotalTokenCount = totalTokens };
        return result;
    }

    async Task<EmbeddingResponse> SendAsync(EmbeddingRequest body, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, _endpoint) { Content = JsonContent.Create(body, EmbeddingJson.Default.EmbeddingRequest) };
            if (_options.ApiKey is { Length: > 0 } key)
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
            HttpResponseMessage response;
            try
            {
                response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
            }
            catch (HttpRequestException) when (attempt < _options.MaxRetries)
            {
                await Task.Delay(Backoff(attempt, null), cancellationToken).ConfigureAwait(false);
                continue;
            }
            using (response)
            {
                if (response.IsSuccessStatusCode)
                    return await response.Content.ReadFromJsonAsync(EmbeddingJson.Default.EmbeddingResponse, cancellationToken).ConfigureAwait(false)
                        ?? throw new ChatStoreException($"The embeddings API at {_endpoint} returned an empty body.");
                var status = (int)response.StatusCode;
                var retryable = status is 408 or 429 || status >= 500;
                if (retryable && attempt < _options.MaxRetries)
                {
                    await Task.Delay(Backoff(attempt, response.Headers.RetryAfter), cancellationToken).ConfigureAwait(false);
                    continue;
                }
                var detail = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
                if (detail.Length > 500) detail = detail[..500];
                throw new ChatStoreException(
                    $"The embeddings API at {_endpoint} answered {status} {response.ReasonPhrase}{(retryable ? $" after {attempt + 1} attempts" : "")}: {detail}",
                    new HttpRequestException(detail, null, response.StatusCode));
            }
        }
    }

    /// <summary>Retry-After when the server sent one (capped), else exponential backoff with full jitter.</summary>
    internal TimeSpan Backoff(int attempt, RetryConditionHeaderValue? retryAfter)
    {
        TimeSpan? asked = retryAfter?.Delta ?? (retryAfter?.Date is DateTimeOffset at ? at - DateTimeOffset.UtcNow : null);
        if (asked is TimeSpan wait)
            return wait < TimeSpan.Zero ? TimeSpan.Zero : wait > _options.MaxBackoff ? _options.MaxBackoff : wait;
        var ceiling = Math.Min(_options.MaxBackoff.TotalMilliseconds, _options.InitialBackoff.TotalMilliseconds * Math.Pow(2, attempt));
        return TimeSpan.FromMilliseconds(ceiling / 2 + Random.Shared.NextDouble() * ceiling / 2);
    }

    /// <inheritdoc />
    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        return serviceKey is null && serviceType.IsInstanceOfType(this) ? this
            : serviceKey is null && serviceType == typeof(EmbeddingGeneratorMetadata) ? Metadata
            : null;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_ownsHttp)
            _http.Dispose();
    }
}

internal sealed record EmbeddingRequest(
    [property: JsonPropertyName("input")] string[] Input,
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("dimensions"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? Dimensions)
{
    [JsonPropertyName("encoding_format")]
    public string EncodingFormat => "float";
}

internal sealed record EmbeddingResponse(
    [property: JsonPropertyName("data")] List<EmbeddingItem>? Data,
    [property: JsonPropertyName("model")] string? Model,
    [property: JsonPropertyName("usage")] EmbeddingUsage? Usage);

internal sealed record EmbeddingItem([property: JsonPropertyName("index")] int Index, [property: JsonPropertyName("embedding")] float[]? Embedding);

internal sealed record EmbeddingUsage([property: JsonPropertyName("prompt_tokens")] long PromptTokens, [property: JsonPropertyName("total_tokens")] long TotalTokens);

[JsonSerializable(typeof(EmbeddingRequest))]
[JsonSerializable(typeof(EmbeddingResponse))]
internal sealed partial class EmbeddingJson : JsonSerializerContext;
