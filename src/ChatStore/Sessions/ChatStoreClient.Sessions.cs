using ChatStore.Sessions;

namespace ChatStore;

public sealed partial class ChatStoreClient
{
    /// <summary>
    /// The session a token authenticates, in whichever tenant the token names; <c>null</c> when the
    /// token is malformed, unknown, expired or revoked, or its user is deleted (an HTTP layer answers
    /// 401). Records the access (see <see cref="SessionStore.ValidateAsync"/>).
    /// </summary>
    public async Task<Session?> ValidateSessionAsync(string token, CancellationToken cancellationToken = default)
    {
        using var op = Telemetry.Start("sessions.validate_token");
        if (SessionStore.TenantOfToken(token) is not Guid tenantId || tenantId == Guid.Empty)
            return null;
        return await ForTenant(tenantId).Sessions.ValidateAsync(token, cancellationToken).ConfigureAwait(false);
    }
}
