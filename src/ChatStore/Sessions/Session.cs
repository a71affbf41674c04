namespace ChatStore.Sessions;

/// <summary>
/// A login session of a user. The token that authenticates it is never stored (only its SHA-256
/// hash) and is not part of this record: it is returned once, by <see cref="SessionStore.CreateAsync"/>.
/// </summary>
/// <param name="Id">The session's id (use it to revoke this session).</param>
/// <param name="TenantId">The tenant.</param>
/// <param name="UserId">The user the session authenticates.</param>
/// <param name="CreatedAt">When the session was created.</param>
/// <param name="ExpiresAt">When the session stops being valid.</param>
/// <param name="LastAccessedAt">When the session was last validated (recorded at most once a minute).</param>
/// <param name="RevokedAt">When the session was revoked, or null.</param>
/// <param name="IpAddress">The client's IP address at creation, when given.</param>
/// <param name="UserAgent">The client's user agent at creation, when given.</param>
public sealed record Session(
    Guid Id, Guid TenantId, Guid UserId, DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt, DateTimeOffset LastAccessedAt,
    DateTimeOffset? RevokedAt, string? IpAddress, string? UserAgent);

/// <summary>A new session and its token. The token is shown only here: keep it (in a cookie, say) and never log it.</summary>
/// <param name="Session">The session.</param>
/// <param name="Token">The secret bearer token (<c>cs_sess_…</c>); the database keeps only its hash.</param>
public sealed record CreatedSession(Session Session, string Token)
{
    /// <summary>The session, with the token redacted so that logging this record does not leak it.</summary>
    public override string ToString() => $"CreatedSession {{ Session = {Session}, Token = *** }}";
}
