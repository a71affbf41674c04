using System.Security.Cryptography;
using System.Text;

namespace ChatStore;

/// <summary>Ids, tokens and hashes.</summary>
internal static class Ids
{
    /// <summary>A new time-ordered UUID (version 7).</summary>
    public static Guid New() => Guid.CreateVersion7();

    /// <summary>SHA-256 of a token's UTF-8 bytes: what is stored in place of a secret.</summary>
    public static byte[] HashToken(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));

    /// <summary>
    /// A secret token that carries its tenant: <c>{prefix}_</c> + base64url(tenant id + 24 random bytes).
    /// The tenant part lets a token be resolved under row-level security; the random part (192 bits) is the secret.
    /// </summary>
    public static string NewTenantToken(string prefix, Guid tenantId, int randomBytes = 24)
    {
        Span<byte> bytes = stackalloc byte[16 + randomBytes];
        tenantId.TryWriteBytes(bytes, bigEndian: true, out _);
        RandomNumberGenerator.Fill(bytes[16..]);
        return prefix + "_" + System.Buffers.Text.Base64Url.EncodeToString(bytes);
    }

    /// <summary>The tenant id inside a token made by <see cref="NewTenantToken"/>, or null when it is not such a token.</summary>
    public static Guid? TenantOfToken(string? token, string prefix)
    {
        if (token is null || token.Length < prefix.Length + 2 || !token.StartsWith(prefix + "_", StringComparison.Ordinal) || token.Length > 200)
            return null;
        Span<byte> bytes = stackalloc byte[150];
        try
        {
            if (!System.Buffers.Text.Base64Url.TryDecodeFromChars(token.AsSpan(prefix.Length + 1), bytes, out var written) || written < 32)
                return null;
        }
        catch (FormatException)
        {
            // TryDecodeFromChars throws on some malformed input instead of returning false.
            return null;
        }
        return new Guid(bytes[..16], bigEndian: true);
    }
}
