using ChatStore.Connection;
using Npgsql;

namespace ChatStore.Tests.Connection;

public class DatabaseUrlTests
{
    const string Secret = "Zq9-SecretPw-Xy";

    static NpgsqlConnectionStringBuilder Convert(string value) => new(DatabaseUrl.ToConnectionString(value));

    static ChatStoreConfigurationException Fails(string value)
        => Assert.Throws<ChatStoreConfigurationException>(() => DatabaseUrl.ToConnectionString(value));

    [Fact]
    public void Url_parts_map_to_Npgsql_keywords()
    {
        var b = Convert("postgres://app:pw@db.example.com:6543/chat");

        Assert.Equal("db.example.com", b.Host);
        Assert.Equal(6543, b.Port);
        Assert.Equal("app", b.Username);
        Assert.Equal("pw", b.Password);
        Assert.Equal("chat", b.Database);
    }

    [Theory]
    [InlineData("postgresql://app@localhost/chat")]
    [InlineData("POSTGRES://app@localhost/chat")]
    public void Both_schemes_are_accepted_in_any_case(string url)
        => Assert.Equal("localhost", Convert(url).Host);

    [Fact]
    public void Percent_encoded_password_is_decoded()
        => Assert.Equal("p@ss:w/rd", Convert("postgres://app:p%40ss%3Aw%2Frd@localhost/chat").Password);

    [Fact]
    public void Percent_encoded_user_database_and_utf8_are_decoded()
    {
        var b = Convert("postgres://us%C3%A9r%20x:pw@localhost/my%20db%2Fx");

        Assert.Equal("usér x", b.Username);
        Assert.Equal("my db/x", b.Database);
    }

    [Fact]
    public void Unencoded_at_and_colon_in_password_are_kept()
        => Assert.Equal("p@ss:word", Convert("postgres://app:p@ss:word@localhost/chat").Password);

    [Fact]
    public void Port_defaults_to_5432()
        => Assert.Equal(5432, Convert("postgres://app@localhost/chat").Port);

    [Theory]
    [InlineData("postgres://app@localhost")]
    [InlineData("postgres://app@localhost/")]
    [InlineData("postgres://app@localhost?sslmode=disable")]
    public void Missing_database_is_left_to_Npgsql(string url)
    {
        var b = Convert(url);
        Assert.Null(b.Database);
        Assert.Equal("localhost", b.Host);
    }

    [Fact]
    public void Url_without_user_info_has_no_credentials()
    {
        var b = Convert("postgres://localhost:5433/chat");
        Assert.Null(b.Username);
        Assert.Null(b.Password);
        Assert.Equal(5433, b.Port);
    }

    [Theory]
    [InlineData("postgres://app@[::1]:5433/chat", "::1", 5433)]
    [InlineData("postgres://app@[::1]/chat", "::1", 5432)]
    [InlineData("postgres://app@[2001:db8::10]:6000/chat", "2001:db8::10", 6000)]
    public void IPv6_host_in_brackets_becomes_a_bare_address_and_port(string url, string host, int port)
    {
        var b = Convert(url);
        Assert.Equal(host, b.Host);
        Assert.Equal(port, b.Port);
        using var dataSource = NpgsqlDataSource.Create(b.ConnectionString); // Npgsql must not split the address.
    }

    [Fact]
    public void Multiple_hosts_become_an_Npgsql_host_list_with_ports()
    {
        var b = Convert("postgres://app:pw@host1:5432,host2:5433,[::1]/chat?target_session_attrs=read-write");

        Assert.Equal("host1:5432,host2:5433,[::1]:5432", b.Host);
        Assert.Equal("read-write", b.TargetSessionAttributes);
        using var dataSource = new NpgsqlDataSourceBuilder(b.ConnectionString).BuildMultiHost();
    }

    [Fact]
    public void Percent_encoded_socket_directory_is_a_host()
        => Assert.Equal("/var/run/postgresql", Convert("postgres://app@%2Fvar%2Frun%2Fpostgresql/chat").Host);

    [Theory]
    [InlineData("disable", SslMode.Disable)]
    [InlineData("allow", SslMode.Allow)]
    [InlineData("prefer", SslMode.Prefer)]
    [InlineData("require", SslMode.Require)]
    [InlineData("verify-ca", SslMode.VerifyCA)]
    [InlineData("verify-full", SslMode.VerifyFull)]
    public void Sslmode_maps_to_Npgsql_SslMode(string value, SslMode expected)
        => Assert.Equal(expected, Convert($"postgres://app@localhost/chat?sslmode={value}").SslMode);

    [Fact]
    public void Supported_query_parameters_are_applied()
    {
        var b = Convert("postgres://app@localhost/chat?application_name=chat%20api&connect_timeout=7&options=-c%20search_path%3Dchat&");

        Assert.Equal("chat api", b.ApplicationName);
        Assert.Equal(7, b.Timeout);
        Assert.Equal("-c search_path=chat", b.Options);
    }

    [Fact]
    public void Unknown_query_parameters_are_named()
    {
        var e = Fails("postgres://app@localhost/chat?sslmode=require&ssl=true&pool=5");

        Assert.Contains("unknown query parameters ssl, pool", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("sslmode=on", "sslmode")]
    [InlineData("connect_timeout=abc", "connect_timeout")]
    [InlineData("connect_timeout=5000", "connect_timeout")]
    [InlineData("target_session_attrs=master", "target_session_attrs")]
    [InlineData("target_session_attrs=primary", "more than one host")]
    [InlineData("sslmode", "has no value")]
    [InlineData("sslmode=require&sslmode=disable", "more than once")]
    [InlineData("application_name=%zz", "application_name")]
    public void Bad_query_parameters_are_named(string query, string expected)
        => Assert.Contains(expected, Fails($"postgres://app@localhost/chat?{query}").Message, StringComparison.Ordinal);

    [Theory]
    [InlineData("0")]
    [InlineData("70000")]
    [InlineData("abc")]
    [InlineData("")]
    [InlineData("-1")]
    public void Bad_port_is_rejected_with_its_range(string port)
    {
        var e = Fails($"postgres://app:{Secret}@localhost:{port}/chat");

        Assert.Contains($"port \"{port}\" must be 1..65535", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bad_port_in_a_host_list_is_rejected()
        => Assert.Contains("port \"99999\"", Fails("postgres://h1:5432,h2:99999/chat").Message, StringComparison.Ordinal);

    [Theory]
    [InlineData("mysql://app@localhost/chat", "scheme \"mysql\"")]
    [InlineData("http://app@localhost/chat", "scheme \"http\"")]
    [InlineData("postgres:app@localhost/chat", "scheme")]
    public void Wrong_scheme_is_rejected(string url, string expected)
        => Assert.Contains(expected, Fails(url).Message, StringComparison.Ordinal);

    [Theory]
    [InlineData("postgres://app:pw@/chat")]
    [InlineData("postgres:///chat")]
    [InlineData("postgres://")]
    [InlineData("postgres://app:pw@:5432/chat")]
    [InlineData("postgres://h1,,h2/chat")]
    [InlineData("postgres://h1,/chat")]
    public void Empty_host_is_rejected(string url)
        => Assert.Contains("): host:", Fails(url).Message, StringComparison.Ordinal);

    [Theory]
    [InlineData("postgres://app@[::1/chat", "no closing ']'")]
    [InlineData("postgres://app@[db.example.com]/chat", "is not an IPv6 address")]
    [InlineData("postgres://app@::1/chat", "in brackets")]
    [InlineData("postgres://app@[::1]x/chat", "after")]
    public void Malformed_IPv6_host_is_rejected(string url, string expected)
        => Assert.Contains(expected, Fails(url).Message, StringComparison.Ordinal);

    [Theory]
    [InlineData("postgres://app@localhost/a/b")]
    [InlineData("postgres://app@localhost/a%00b")]
    [InlineData("postgres://app@localhost/a%C3%28")]
    public void Malformed_database_is_rejected(string url)
        => Assert.Contains("): database:", Fails(url).Message, StringComparison.Ordinal);

    [Fact]
    public void Key_value_connection_string_passes_through()
    {
        var b = Convert("Host=db.example.com;Port=5433;Username=app;Password='a;b';Database=chat;SSL Mode=Require;Maximum Pool Size=7");

        Assert.Equal("db.example.com", b.Host);
        Assert.Equal(5433, b.Port);
        Assert.Equal("app", b.Username);
        Assert.Equal("a;b", b.Password);
        Assert.Equal("chat", b.Database);
        Assert.Equal(SslMode.Require, b.SslMode);
        Assert.Equal(7, b.MaxPoolSize);
    }

    [Fact]
    public void Keyword_with_a_bad_value_is_named_without_the_value()
    {
        var message = Fails("Host=localhost;Password=pw;Port=abc").Message;

        Assert.Contains("the value of 'port' is invalid", message, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("abc", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_keyword_is_not_named_when_it_may_be_part_of_a_password()
        => Assert.Contains("not shown", Fails("Host=localhost;Password=ab;cd=ef").Message, StringComparison.Ordinal);

    [Fact]
    public void Misspelt_keyword_is_named_when_there_is_no_password()
        => Assert.Contains("'pool sise'", Fails("Host=localhost;Pool Sise=5").Message, StringComparison.OrdinalIgnoreCase);

    [Theory]
    [InlineData("Username=app;Database=chat")]
    [InlineData("   ")]
    public void Connection_string_without_host_is_rejected(string value)
        => Fails(value);

    public static TheoryData<string> MalformedInputsWithASecret() =>
    [
        $"postgres://app:{Secret}@localhost:0/chat",
        $"postgres://app:{Secret}@localhost:70000/chat",
        $"postgres://app:{Secret}@localhost:abc/chat",
        $"postgres://app:{Secret}@localhost:/chat",
        $"mysql://app:{Secret}@localhost/chat",
        $"postgres:app:{Secret}@localhost/chat",
        $"postgres://app:{Secret}@/chat",
        $"postgres://app:{Secret}@:5432/chat",
        $"postgres://app:{Secret}@h1,,h2/chat",
        $"postgres://app:{Secret}@[::1/chat",
        $"postgres://app:{Secret}@[not-v6]:5432/chat",
        $"postgres://app:{Secret}@localhost:5432:6543/chat",
        $"postgres://app:{Secret}@localhost/a/b",
        $"postgres://app:{Secret}@localhost/chat?sslmode=bogus",
        $"postgres://app:{Secret}@localhost/chat?password={Secret}",
        $"postgres://app:{Secret}@localhost/chat?connect_timeout=x",
        $"postgres://app:{Secret}@localhost/chat?sslmode",
        $"postgres://app:{Secret}@localhost/chat?target_session_attrs=primary",
        $"postgres://app:{Secret}/x@localhost/chat",
        $"postgres://app:{Secret}?x@localhost/chat",
        $"postgres://app:ab/{Secret}@localhost/chat",
        $"postgres://app:{Secret}%zz@localhost/chat",
        $"postgres://app:{Secret}%C3%28@localhost/chat",
        $"postgres://app:{Secret}%00@localhost/chat",
        $"Host=localhost;Password={Secret};Port=abc",
        $"Host=localhost;Password='{Secret}",
        $"Host=localhost;Password={Secret};Bogus=1",
        $"Host=localhost;Password=ab;{Secret}=x",
        $"Host=localhost;Password=ab;{Secret}",
        $"Password={Secret};Username=app",
        $"Host=localhost;PWD={Secret};Port=0x",
    ];

    [Theory]
    [MemberData(nameof(MalformedInputsWithASecret))]
    public void Password_never_appears_in_an_error_message(string value)
    {
        var e = Fails(value);

        Assert.DoesNotContain(Secret, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("SecretPw", e.Message, StringComparison.Ordinal);
        Assert.Null(e.InnerException);
    }

    [Fact]
    public void Error_message_shows_the_url_with_the_password_masked()
    {
        var e = Fails($"postgres://app:{Secret}@localhost:70000/chat");

        Assert.StartsWith("database URL (postgres://app:****@localhost:70000/chat): port", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("postgres://app:secret@localhost/chat", "postgres://app:****@localhost/chat")]
    [InlineData("postgres://app:p%40ss@h1:5432,[::1]:5433/chat?sslmode=require", "postgres://app:****@h1:5432,[::1]:5433/chat?sslmode=require")]
    [InlineData("postgres://app:p@ss@localhost/chat", "postgres://app:****@localhost/chat")]
    [InlineData("postgres://app:a/b@localhost/chat", "postgres://****@localhost/chat")]
    [InlineData("postgres://app@localhost:5432/chat", "postgres://app@localhost:5432/chat")]
    [InlineData("postgres://localhost:5432/chat", "postgres://localhost:5432/chat")]
    [InlineData("postgres://localhost/chat?sslmode=require&password=secret", "postgres://localhost/chat?sslmode=require&password=****")]
    public void Mask_hides_the_password_in_a_url(string url, string expected)
        => Assert.Equal(expected, DatabaseUrl.Mask(url));

    [Theory]
    [InlineData("Host=localhost;Username=app;Password=secret")]
    [InlineData("Host=localhost;Username=app;password='se;cret'")]
    [InlineData("Host=localhost;PWD=secret")]
    [InlineData("Host=localhost;psw=secret")]
    public void Mask_hides_the_password_in_a_connection_string(string value)
    {
        var masked = DatabaseUrl.Mask(value);

        Assert.DoesNotContain("secret", masked, StringComparison.Ordinal);
        Assert.DoesNotContain("cret", masked, StringComparison.Ordinal);
        Assert.Contains("****", masked, StringComparison.Ordinal);
        Assert.Contains("localhost", masked, StringComparison.Ordinal);
    }

    [Fact]
    public void Mask_hides_an_unparseable_connection_string_whole()
        => Assert.DoesNotContain("secret", DatabaseUrl.Mask("Host=localhost;Password='secret"), StringComparison.Ordinal);

    [Fact]
    public void Mask_of_a_converted_url_hides_the_password()
    {
        var masked = DatabaseUrl.Mask(DatabaseUrl.ToConnectionString($"postgres://app:{Secret}@localhost/chat"));

        Assert.DoesNotContain(Secret, masked, StringComparison.Ordinal);
        Assert.Contains("Password=****", masked, StringComparison.Ordinal);
    }
    [Theory]
    [InlineData("Failed to connect with postgres://app:s3cr3t@db.example:5433/chat: connection refused", "postgres://app:****@db.example:5433/chat: connection refused")]
    [InlineData("initdb failed for Host=db;Username=app;Password=s3cr3t;Database=chat (exit 1)", "Host=db;Username=app;Password=****;Database=chat (exit 1)")]
    [InlineData("bad value in 'Host=db;PWD=\"s3;cr3t\"' near the end", "'Host=db;PWD=****' near the end")]
    [InlineData("libpq style: postgresql://db/chat?user=app&password=s3cr3t&sslmode=require", "postgresql://db/chat?user=app&password=****&sslmode=require")]
    [InlineData("Unterminated: Host=db;Password='s3cr3t", "Unterminated: Host=db;Password=****")]
    public void MaskSecrets_hides_passwords_inside_a_message_and_keeps_the_rest(string message, string expectedTail)
    {
        var masked = DatabaseUrl.MaskSecrets(message);

        Assert.DoesNotContain("s3", masked, StringComparison.Ordinal);
        Assert.EndsWith(expectedTail, masked, StringComparison.Ordinal);
    }

    [Fact]
    public void MaskSecrets_leaves_a_message_without_secrets_as_it_is()
    {
        const string message = "password authentication failed for user \"app\" (the database \"chat\" at 127.0.0.1:5433)";
        Assert.Equal(message, DatabaseUrl.MaskSecrets(message));
    }
}
