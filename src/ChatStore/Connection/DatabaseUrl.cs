using System.Data.Common;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using Npgsql;

namespace ChatStore.Connection;

/// <summary>
/// Turns a <c>DATABASE_URL</c> (<c>postgres://user:password@host:port/database?sslmode=require</c>)
/// or an Npgsql key=value connection string into an Npgsql connection string, and masks passwords
/// for display. Error messages name the part that is wrong and never contain the password.
/// </summary>
public static partial class DatabaseUrl
{
    /// <summary>What replaces a password in masked text.</summary>
    public const string MaskedPassword = "****";

    const int DefaultPort = 5432;
    const string SupportedParameters = "sslmode, application_name, connect_timeout, target_session_attrs, options, max_auto_prepare";

    static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    static readonly Dictionary<string, SslMode> SslModes = new(StringComparer.Ordinal)
    {
        ["disable"] = SslMode.Disable,
        ["allow"] = SslMode.Allow,
        ["prefer"] = SslMode.Prefer,
        ["require"] = SslMode.Require,
        ["verify-ca"] = SslMode.VerifyCA,
        ["verify-full"] = SslMode.VerifyFull,
    };

    // The values Npgsql accepts for Target Session Attributes (libpq's, plus prefer-primary).
    static readonly string[] TargetSessionAttributes =
        ["any", "read-write", "read-only", "primary", "standby", "prefer-primary", "prefer-standby"];

    // Npgsql's keyword and synonyms for the password.
    static readonly string[] PasswordKeys = ["Password", "PWD", "PSW"];

    /// <summary>
    /// Converts a <c>postgres://</c> or <c>postgresql://</c> URL, or an Npgsql key=value connection
    /// string, into an Npgsql connection string.
    /// </summary>
    /// <remarks>
    /// URL form: <c>postgres://[user[:password]@]host[:port][,host[:port]...][/database][?name=value&amp;...]</c>.
    /// User, password, hosts, database and query values are percent-decoded; IPv6 hosts are written in
    /// brackets (<c>[::1]:5433</c>); the port defaults to 5432; without a database Npgsql uses its default
    /// (the user name). Query parameters: <c>sslmode</c> (disable, allow, prefer, require, verify-ca,
    /// verify-full), <c>application_name</c>, <c>connect_timeout</c> (seconds), <c>target_session_attrs</c>
    /// (needs more than one host unless it is <c>any</c>), <c>options</c> and <c>max_auto_prepare</c> (how many
    /// statements Npgsql prepares automatically per connection; <c>0</c> turns that off, which a pooler in
    /// transaction mode such as PgBouncer 1.18 needs; ChatStore's default is 128). A key=value string is
    /// checked against Npgsql's keywords and returned in Npgsql's normalised form.
    /// </remarks>
    /// <param name="value">The URL or connection string.</param>
    /// <returns>An Npgsql connection string.</returns>
    /// <exception cref="ChatStoreConfigurationException">The value is malformed; the message names the part.</exception>
    public static string ToConnectionString(string value) => ToConnectionString(value, "database URL");

    /// <summary>Like <see cref="ToConnectionString(string)"/>, with messages that start with <paramref name="source"/> (for example <c>DATABASE_URL</c>).</summary>
    internal static string ToConnectionString(string value, string source)
    {
        ArgumentNullException.ThrowIfNull(value);
        var trimmed = value.Trim();
        if (trimmed.Length == 0)
        {
            throw new ChatStoreConfigurationException(
                $"{source} is empty: give a URL such as postgres://user:password@localhost:5432/chat or an Npgsql connection string such as Host=localhost;Username=app.");
        }
        return LooksLikeUrl(trimmed) ? FromUrl(trimmed, source) : FromKeyValue(trimmed, source);
    }

    /// <summary>
    /// Returns <paramref name="connectionStringOrUrl"/> with the password replaced by <c>****</c>, in
    /// either format. Text that cannot be parsed is hidden whole rather than risk showing a password.
    /// </summary>
    /// <param name="connectionStringOrUrl">A URL or an Npgsql key=value connection string.</param>
    /// <returns>The masked text; safe to log.</returns>
    public static string Mask(string connectionStringOrUrl)
    {
        ArgumentNullException.ThrowIfNull(connectionStringOrUrl);
        var value = connectionStringOrUrl.Trim();
        return LooksLikeUrl(value) ? MaskUrl(value) : MaskKeyValue(value);
    }

    /// <summary>
    /// Returns <paramref name="text"/> (an error message, a log line) with every password inside it replaced
    /// by <c>****</c>: the password of any URL with user info (<c>postgres://app:secret@host/db</c>), a
    /// <c>password=</c> query parameter, and the value of any <c>Password=</c>, <c>PWD=</c> or <c>PSW=</c> pair of a
    /// key=value connection string. Everything else is kept, so the message still says what happened.
    /// </summary>
    /// <param name="text">Free text that may contain connection strings or URLs.</param>
    /// <returns>The text with its secrets masked; safe to show and log.</returns>
    public static string MaskSecrets(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var masked = UrlInText().Replace(text, m => MaskUrl(m.Value));
        return PasswordPairInText().Replace(masked, m => m.Groups["key"].Value + MaskedPassword);
    }

    // A scheme, "://", then everything up to whitespace or a quote: MaskUrl hides the user info's password.
    [GeneratedRegex("""\b[A-Za-z][A-Za-z0-9+.-]*://[^\s"'<>`]+""", RegexOptions.CultureInvariant)]
    private static partial Regex UrlInText();

    // password=…, pwd=…, psw=… up to ';', whitespace or the end; a quoted value up to its closing quote.
    [GeneratedRegex("""(?<key>\b(?:password|pwd|psw)\s*=\s*)(?:"[^"]*"?|'[^']*'?|[^;&\s"']*)""", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex PasswordPairInText();

    // A URL starts with a scheme and "://"; a key=value string has '=' or ';' before any "://".
    static bool LooksLikeUrl(string value)
    {
        var separator = value.IndexOf("://", StringComparison.Ordinal);
        if (separator > 0)
            return value.AsSpan(0, separator).IndexOfAny('=', ';') < 0;
        return value.StartsWith("postgres:", StringComparison.OrdinalIgnoreCase)
            || value.StartsWith("postgresql:", StringComparison.OrdinalIgnoreCase);
    }

    static string FromUrl(string url, string source)
    {
        var separator = url.IndexOf("://", StringComparison.Ordinal);
        if (separator < 0)
            throw UrlError(source, url, "scheme: a URL starts with postgres:// or postgresql://.");
        var scheme = url[..separator];
        if (!scheme.Equals("postgres", StringComparison.OrdinalIgnoreCase) && !scheme.Equals("postgresql", StringComparison.OrdinalIgnoreCase))
        {
            var shown = scheme.All(c => char.IsAsciiLetterOrDigit(c) || c is '+' or '-' or '.' or ':') ? $" \"{scheme}\"" : "";
            throw UrlError(source, url, $"scheme{shown} is not supported: use postgres:// or postgresql://.");
        }

        var rest = url[(separator + 3)..];
        var authorityEnd = rest.IndexOfAny(['/', '?']);
        if (authorityEnd < 0)
            authorityEnd = rest.Length;

        // The user info ends at the last '@' before the host. An '@' further on means a '/' or '?'
        // inside the password (or an unencoded '@' later); either way, guessing could show the password.
        var at = rest.LastIndexOf('@');
        if (at > authorityEnd)
        {
            throw UrlError(source, url,
                "user info: found '@' after the host part. Percent-encode '/', '?' and '@' in the user name and password (%2F, %3F, %40), and '@' in the database name and query values (%40).");
        }

        string? user = null, password = null;
        if (at >= 0)
        {
            var userInfo = rest[..at];
            var colon = userInfo.IndexOf(':', StringComparison.Ordinal);
            user = Decode(colon < 0 ? userInfo : userInfo[..colon], "user name", source, url);
            if (colon >= 0)
                password = Decode(userInfo[(colon + 1)..], "password", source, url);
        }

        var builder = new NpgsqlConnectionStringBuilder();
        var hosts = ParseHosts(rest[(at + 1)..authorityEnd], source, url);
        if (hosts.Count == 1)
        {
            builder.Host = hosts[0].Name;
            builder.Port = hosts[0].Port;
        }
        else
        {
            // Npgsql's multi-host form; an IPv6 address keeps its brackets so its port can be split off.
            builder.Host = string.Join(',', hosts.Select(h => string.Create(CultureInfo.InvariantCulture,
                $"{(h.IsIPv6 ? $"[{h.Name}]" : h.Name)}:{h.Port}")));
        }
        if (!string.IsNullOrEmpty(user))
            builder.Username = user;
        if (!string.IsNullOrEmpty(password))
            builder.Password = password;

        var tail = rest[authorityEnd..];
        var queryStart = tail.IndexOf('?', StringComparison.Ordinal);
        var path = queryStart < 0 ? tail : tail[..queryStart];
        if (path.Length > 1)
        {
            var database = path[1..];
            if (database.Contains('/', StringComparison.Ordinal))
                throw UrlError(source, url, "database: the name contains '/'; percent-encode it as %2F.");
            builder.Database = Decode(database, "database", source, url);
        }

        if (queryStart >= 0)
            ApplyQuery(builder, tail[(queryStart + 1)..], hosts.Count, source, url);

        return builder.ConnectionString;
    }

    readonly record struct Host(string Name, int Port, bool IsIPv6);

    static List<Host> ParseHosts(string hostList, string source, string url)
    {
        if (hostList.Length == 0)
            throw UrlError(source, url, "host: the URL names no host; write one, for example postgres://user@localhost:5432/chat.");

        var hosts = new List<Host>();
        foreach (var entry in hostList.Split(','))
        {
            if (entry.Length == 0)
                throw UrlError(source, url, "host: the host list has an empty entry; separate hosts with single commas.");

            string name;
            string? port;
            var isIPv6 = false;
            if (entry[0] == '[')
            {
                var close = entry.IndexOf(']', StringComparison.Ordinal);
                if (close < 0)
                    throw UrlError(source, url, "host: an IPv6 address opened with '[' has no closing ']'.");
                name = Decode(entry[1..close], "host", source, url);
                if (!IPAddress.TryParse(name, out var address) || address.AddressFamily != AddressFamily.InterNetworkV6)
                    throw UrlError(source, url, $"host: \"[{name}]\" is not an IPv6 address.");
                isIPv6 = true;
                var after = entry[(close + 1)..];
                if (after.Length > 0 && after[0] != ':')
                    throw UrlError(source, url, $"host: unexpected text after \"[{name}]\"; write [address]:port.");
                port = after.Length > 0 ? after[1..] : null;
            }
            else
            {
                var colon = entry.IndexOf(':', StringComparison.Ordinal);
                name = Decode(colon < 0 ? entry : entry[..colon], "host", source, url);
                port = colon < 0 ? null : entry[(colon + 1)..];
                if (port is not null && port.Contains(':', StringComparison.Ordinal))
                    throw UrlError(source, url, "host: write an IPv6 address in brackets, for example [::1]:5432.");
                if (name.Length == 0)
                    throw UrlError(source, url, "host: a host name is missing before ':port'.");
            }
            if (name.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
                throw UrlError(source, url, "host: a host name contains a space or a control character.");

            hosts.Add(new Host(name, port is null ? DefaultPort : ParsePort(port, source, url), isIPv6));
        }
        return hosts;
    }

    static int ParsePort(string port, string source, string url)
    {
        if (port.Length is > 0 and <= 5 && port.All(char.IsAsciiDigit))
        {
            var number = int.Parse(port, NumberStyles.None, CultureInfo.InvariantCulture);
            if (number is >= 1 and <= 65535)
                return number;
        }
        throw UrlError(source, url, $"port \"{port}\" must be 1..65535.");
    }

    static void ApplyQuery(NpgsqlConnectionStringBuilder builder, string query, int hostCount, string source, string url)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var unknown = new List<string>();
        foreach (var pair in query.Split('&'))
        {
            if (pair.Length == 0)
                continue;
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            var name = Decode(equals < 0 ? pair : pair[..equals], "query parameter name", source, url);
            if (equals < 0)
                throw UrlError(source, url, $"query parameter {name} has no value; write {name}=value.");
            var value = Decode(pair[(equals + 1)..], $"query parameter {name}", source, url);
            if (!seen.Add(name))
                throw UrlError(source, url, $"query parameter {name} is given more than once.");

            switch (name)
            {
                case "sslmode":
                    builder.SslMode = SslModes.TryGetValue(value, out var mode)
                        ? mode
                        : throw UrlError(source, url, $"query parameter sslmode: \"{value}\" is not one of {string.Join(", ", SslModes.Keys)}.");
                    break;
                case "application_name":
                    builder.ApplicationName = value;
                    break;
                case "connect_timeout":
                    // Npgsql takes 0 (wait forever) up to 1024 seconds.
                    if (value.Length is 0 or > 4 || !value.All(char.IsAsciiDigit) || int.Parse(value, CultureInfo.InvariantCulture) > 1024)
                        throw UrlError(source, url, $"query parameter connect_timeout: \"{value}\" must be a whole number of seconds from 0 to 1024.");
                    builder.Timeout = int.Parse(value, CultureInfo.InvariantCulture);
                    break;
                case "target_session_attrs":
                    if (!TargetSessionAttributes.Contains(value))
                        throw UrlError(source, url, $"query parameter target_session_attrs: \"{value}\" is not one of {string.Join(", ", TargetSessionAttributes)}.");
                    if (value != "any" && hostCount < 2)
                        throw UrlError(source, url, $"query parameter target_session_attrs: \"{value}\" needs more than one host (Npgsql supports it only with multiple hosts).");
                    builder.TargetSessionAttributes = value;
                    break;
                case "options":
                    builder.Options = value;
                    break;
                case "max_auto_prepare":
                    if (value.Length is 0 or > 5 || !value.All(char.IsAsciiDigit))
                        throw UrlError(source, url, $"query parameter max_auto_prepare: \"{value}\" must be a whole number; 0 turns automatic preparation off (needed behind PgBouncer in transaction mode).");
                    builder.MaxAutoPrepare = int.Parse(value, CultureInfo.InvariantCulture);
                    break;
                default:
                    unknown.Add(name);
                    break;
            }
        }
        if (unknown.Count > 0)
        {
            var which = unknown.Count == 1 ? "query parameter" : "query parameters";
            throw UrlError(source, url, $"unknown {which} {string.Join(", ", unknown)}; supported: {SupportedParameters}.");
        }
    }

    // Strict percent-decoding: %XX with two hex digits, the bytes valid UTF-8, no NUL.
    // Messages never show the text, since it may be the password.
    static string Decode(string text, string part, string source, string url)
    {
        if (!text.Contains('%', StringComparison.Ordinal))
            return text.Contains('\0', StringComparison.Ordinal) ? throw UrlError(source, url, $"{part}: contains a NUL character.") : text;

        var result = new StringBuilder(text.Length);
        var bytes = new List<byte>();
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '%')
            {
                if (i + 2 >= text.Length || !char.IsAsciiHexDigit(text[i + 1]) || !char.IsAsciiHexDigit(text[i + 2]))
                    throw UrlError(source, url, $"{part}: invalid percent-encoding; write %XX with two hex digits, and %25 for a literal '%'.");
                bytes.Add(byte.Parse(text.AsSpan(i + 1, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture));
                i += 2;
                continue;
            }
            FlushBytes();
            result.Append(text[i]);
        }
        FlushBytes();

        var decoded = result.ToString();
        return decoded.Contains('\0', StringComparison.Ordinal) ? throw UrlError(source, url, $"{part}: contains a NUL character.") : decoded;

        void FlushBytes()
        {
            if (bytes.Count == 0)
                return;
            try
            {
                result.Append(StrictUtf8.GetString(bytes.ToArray()));
            }
            catch (DecoderFallbackException)
            {
                throw UrlError(source, url, $"{part}: the percent-encoded bytes are not valid UTF-8.");
            }
            bytes.Clear();
        }
    }

    static ChatStoreConfigurationException UrlError(string source, string url, string problem)
        => new($"{source} ({MaskUrl(url)}): {problem}");

    static string FromKeyValue(string value, string source)
    {
        // Neither message shows the input or Npgsql's own message: a stray ';' inside a password
        // would turn the rest of it into a "keyword" that those messages repeat.
        var parsed = new DbConnectionStringBuilder();
        try
        {
            parsed.ConnectionString = value;
        }
        catch (ArgumentException)
        {
            throw new ChatStoreConfigurationException(
                $"{source}: is neither a postgres:// URL nor a valid key=value connection string. Check for unbalanced quotes, and quote values that contain ';', '=' or quotes (Password='a;b').");
        }

        var builder = new NpgsqlConnectionStringBuilder();
        foreach (string key in parsed.Keys)
        {
            try
            {
                builder[key] = parsed[key];
            }
            catch (Exception e) when (e is ArgumentException or FormatException or InvalidCastException or OverflowException)
            {
                // Values are never shown. An unquoted password with ';' in it makes its tail look like
                // a keyword, so an unknown keyword is shown only when there is no password.
                var problem = builder.ContainsKey(key)
                    ? $"the value of '{key}' is invalid."
                    : !PasswordKeys.Any(parsed.ContainsKey) && key.Length <= 40 && key.All(c => char.IsAsciiLetterOrDigit(c) || c == ' ')
                        ? $"'{key}' is not an Npgsql connection string keyword."
                        : "a keyword is not an Npgsql connection string keyword (not shown, as it may be the tail of a password: quote a password that contains ';', as in Password='a;b').";
                throw new ChatStoreConfigurationException(
                    $"{source}: {problem} See https://www.npgsql.org/doc/connection-string-parameters.html.");
            }
        }
        if (string.IsNullOrWhiteSpace(builder.Host))
            throw new ChatStoreConfigurationException($"{source}: the connection string names no Host; add one, for example Host=localhost.");
        return builder.ConnectionString;
    }

    static string MaskUrl(string url)
    {
        var separator = url.IndexOf("://", StringComparison.Ordinal);
        if (separator < 0)
            return url.Contains('@', StringComparison.Ordinal) ? MaskedPassword : url;

        var prefix = url[..(separator + 3)];
        var rest = url[(separator + 3)..];
        var at = rest.LastIndexOf('@');
        if (at < 0)
            return MaskQueryPassword(url);
        var authorityEnd = rest.IndexOfAny(['/', '?']);
        if (authorityEnd >= 0 && at > authorityEnd)
            return MaskQueryPassword(prefix + MaskedPassword + rest[at..]); // Where the password ends is unclear: hide all user info.

        var colon = rest.IndexOf(':', StringComparison.Ordinal);
        var masked = colon < 0 || colon > at ? url : prefix + rest[..(colon + 1)] + MaskedPassword + rest[at..];
        return MaskQueryPassword(masked);
    }

    // libpq also takes the password as a query parameter; ToConnectionString rejects it, but it must not be shown.
    static string MaskQueryPassword(string url)
    {
        var queryStart = url.IndexOf('?', StringComparison.Ordinal);
        if (queryStart < 0)
            return url;
        var pairs = url[(queryStart + 1)..].Split('&');
        for (var i = 0; i < pairs.Length; i++)
        {
            if (pairs[i].StartsWith("password=", StringComparison.OrdinalIgnoreCase))
                pairs[i] = "password=" + MaskedPassword;
        }
        return url[..(queryStart + 1)] + string.Join('&', pairs);
    }

    static string MaskKeyValue(string value)
    {
        // Npgsql's builder keeps its keyword spelling; the generic one (which lower-cases keywords)
        // still parses strings with keywords Npgsql does not know.
        try
        {
            var npgsql = new NpgsqlConnectionStringBuilder(value);
            if (npgsql.Password is not null)
                npgsql.Password = MaskedPassword;
            return npgsql.ConnectionString;
        }
        catch (Exception e) when (e is ArgumentException or FormatException or InvalidCastException or OverflowException)
        {
        }

        var parsed = new DbConnectionStringBuilder();
        try
        {
            parsed.ConnectionString = value;
        }
        catch (ArgumentException)
        {
            return $"({MaskedPassword}: not a valid connection string)";
        }
        foreach (var key in PasswordKeys)
        {
            if (parsed.ContainsKey(key))
                parsed[key] = MaskedPassword;
        }
        return parsed.ConnectionString;
    }
}
