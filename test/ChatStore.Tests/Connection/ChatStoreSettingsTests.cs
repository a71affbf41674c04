using ChatStore.Connection;
using Npgsql;

namespace ChatStore.Tests.Connection;

public sealed class ChatStoreSettingsTests : IDisposable
{
    readonly TempFiles _files = new();

    public void Dispose() => _files.Dispose();

    string ConfigFile(string json) => _files.Write(json, "chatstore-settings", ".json");

    static Dictionary<string, string?> Env(params (string Name, string? Value)[] variables)
        => variables.ToDictionary(v => v.Name, v => v.Value);

    static ChatStoreConfigurationException Fails(Func<ChatStoreSettings> load)
        => Assert.Throws<ChatStoreConfigurationException>(() => load());

    static string? Host(ChatStoreSettings settings) => new NpgsqlConnectionStringBuilder(settings.ConnectionString).Host;

    [Fact]
    public void Defaults_apply_when_nothing_is_set()
    {
        var settings = ChatStoreSettings.Load(environment: Env());

        Assert.Null(settings.ConnectionString);
        Assert.Equal("public", settings.Schema);
        Assert.Equal("chatstore_app", settings.AppRole);
        Assert.Null(settings.MaxPoolSize);
        Assert.Null(settings.CommandTimeoutSeconds);
        Assert.Equal(".chatstore/pg", settings.EmbeddedDataDirectory);
    }

    [Fact]
    public void Override_beats_environment_beats_file_beats_default()
    {
        var file = ConfigFile("""
            {
              // Comments are allowed.
              "databaseUrl": "postgres://app@file-host/chat",
              "schema": "file_schema",
              "appRole": "file_role",
              "maxPoolSize": 11,
              "commandTimeoutSeconds": 12
            }
            """);
        var env = Env(
            ("DATABASE_URL", "postgres://app@env-host/chat"),
            ("DATABASE_SCHEMA", "env_schema"),
            ("CHATSTORE_POOL_SIZE", "21"));
        var overrides = new ChatStoreSettingsOverrides { DatabaseUrl = "Host=override-host;Username=app", MaxPoolSize = 31 };

        var settings = ChatStoreSettings.Load(overrides, env, file);

        Assert.Equal("override-host", Host(settings)); // override
        Assert.Equal(31, settings.MaxPoolSize);         // override
        Assert.Equal("env_schema", settings.Schema);    // environment
        Assert.Equal("file_role", settings.AppRole);    // file
        Assert.Equal(12, settings.CommandTimeoutSeconds); // file
        Assert.Equal(".chatstore/pg", settings.EmbeddedDataDirectory); // default
    }

    [Fact]
    public void Environment_beats_file()
    {
        var file = ConfigFile("""{ "databaseUrl": "postgres://app@file-host/chat", "dataDirectory": "file/pg", "commandTimeoutSeconds": 5 }""");
        var env = Env(("DATABASE_URL", "postgres://app@env-host/chat"), ("CHATSTORE_DATA_DIR", "env/pg"), ("CHATSTORE_COMMAND_TIMEOUT", "0"));

        var settings = ChatStoreSettings.Load(environment: env, configFile: file);

        Assert.Equal("env-host", Host(settings));
        Assert.Equal("env/pg", settings.EmbeddedDataDirectory);
        Assert.Equal(0, settings.CommandTimeoutSeconds);
    }

    [Fact]
    public void Overrides_beat_every_environment_variable()
    {
        var env = Env(
            ("DATABASE_URL", "postgres://app@env-host/chat"), ("DATABASE_SCHEMA", "env_schema"), ("CHATSTORE_APP_ROLE", "env_role"),
            ("CHATSTORE_POOL_SIZE", "2"), ("CHATSTORE_COMMAND_TIMEOUT", "3"), ("CHATSTORE_DATA_DIR", "env/pg"));
        var overrides = new ChatStoreSettingsOverrides
        {
            DatabaseUrl = "postgres://app@flag-host/chat", Schema = "flag-schema", AppRole = "flag_role",
            MaxPoolSize = 4, CommandTimeoutSeconds = 5, EmbeddedDataDirectory = "flag/pg",
        };

        var settings = ChatStoreSettings.Load(overrides, env);

        Assert.Equal("flag-host", Host(settings));
        Assert.Equal("flag-schema", settings.Schema);
        Assert.Equal("flag_role", settings.AppRole);
        Assert.Equal(4, settings.MaxPoolSize);
        Assert.Equal(5, settings.CommandTimeoutSeconds);
        Assert.Equal("flag/pg", settings.EmbeddedDataDirectory);
    }

    [Fact]
    public void Config_file_is_found_through_CHATSTORE_CONFIG()
    {
        var file = ConfigFile("""{ "schema": "from_file" }""");

        var settings = ChatStoreSettings.Load(environment: Env(("CHATSTORE_CONFIG", file)));

        Assert.Equal("from_file", settings.Schema);
    }

    [Fact]
    public void Named_config_file_that_does_not_exist_is_an_error()
    {
        var missing = Path.Combine(Path.GetTempPath(), $"chatstore-missing-{Guid.NewGuid():N}.json");

        Assert.Contains(missing, Fails(() => ChatStoreSettings.Load(environment: Env(), configFile: missing)).Message, StringComparison.Ordinal);
        Assert.Contains("CHATSTORE_CONFIG", Fails(() => ChatStoreSettings.Load(environment: Env(("CHATSTORE_CONFIG", missing)))).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{ "schema": "x", """, "not valid JSON")]
    [InlineData("""[1, 2]""", "must hold a JSON object")]
    [InlineData("""{ "schemaName": "x" }""", "unknown key \"schemaName\"")]
    [InlineData("""{ "maxPoolSize": "10" }""", "\"maxPoolSize\" in")]
    [InlineData("""{ "schema": 5 }""", "\"schema\" in")]
    [InlineData("""{ "maxPoolSize": 0 }""", "must be a whole number, 1 or more")]
    [InlineData("""{ "maxPoolSize": 2.5 }""", "must be a whole number, 1 or more")]
    [InlineData("""{ "commandTimeoutSeconds": -1 }""", "\"commandTimeoutSeconds\" in")]
    [InlineData("""{ "schema": "" }""", "\"schema\" in")]
    [InlineData("""{ "databaseUrl": "postgres://app@host:0/chat" }""", "\"databaseUrl\" in")]
    public void Bad_config_file_is_an_error_naming_the_key_and_rule(string json, string expected)
    {
        var file = ConfigFile(json);

        var e = Fails(() => ChatStoreSettings.Load(environment: Env(), configFile: file));

        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.Contains(file, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("CHATSTORE_POOL_SIZE", "abc", "must be a whole number, 1 or more")]
    [InlineData("CHATSTORE_POOL_SIZE", "0", "must be a whole number, 1 or more")]
    [InlineData("CHATSTORE_POOL_SIZE", "99999999999", "must be a whole number, 1 or more")]
    [InlineData("CHATSTORE_COMMAND_TIMEOUT", "-5", "must be a whole number of seconds")]
    [InlineData("CHATSTORE_COMMAND_TIMEOUT", "1.5", "must be a whole number of seconds")]
    [InlineData("DATABASE_URL", "postgres://app@host:70000/chat", "port \"70000\" must be 1..65535")]
    [InlineData("DATABASE_URL", "Host=localhost;Bogus=1", "'bogus' is not an Npgsql connection string keyword")]
    public void Bad_environment_variable_is_an_error_naming_it_and_the_rule(string name, string value, string rule)
    {
        var e = Fails(() => ChatStoreSettings.Load(environment: Env((name, value))));

        Assert.StartsWith(name, e.Message, StringComparison.Ordinal);
        Assert.Contains(rule, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bad_override_is_an_error_naming_it()
    {
        var e = Fails(() => ChatStoreSettings.Load(new ChatStoreSettingsOverrides { MaxPoolSize = -3 }, Env()));

        Assert.StartsWith("ChatStoreSettingsOverrides.MaxPoolSize must be a whole number", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Malformed_value_that_is_overridden_is_ignored()
    {
        var settings = ChatStoreSettings.Load(
            new ChatStoreSettingsOverrides { MaxPoolSize = 5, DatabaseUrl = "postgres://app@good/chat" },
            Env(("CHATSTORE_POOL_SIZE", "lots"), ("DATABASE_URL", "postgres://app@bad:0/chat")));

        Assert.Equal(5, settings.MaxPoolSize);
        Assert.Equal("good", Host(settings));
    }

    [Fact]
    public void Empty_environment_variables_count_as_unset()
    {
        var settings = ChatStoreSettings.Load(environment: Env(
            ("DATABASE_URL", ""), ("DATABASE_SCHEMA", " "), ("CHATSTORE_POOL_SIZE", ""), ("CHATSTORE_DATA_DIR", "")));

        Assert.Null(settings.ConnectionString);
        Assert.Equal("public", settings.Schema);
        Assert.Null(settings.MaxPoolSize);
        Assert.Equal(".chatstore/pg", settings.EmbeddedDataDirectory);
    }

    [Fact]
    public void Empty_app_role_turns_role_switching_off()
    {
        Assert.Null(ChatStoreSettings.Load(environment: Env(("CHATSTORE_APP_ROLE", ""))).AppRole);
        Assert.Null(ChatStoreSettings.Load(new ChatStoreSettingsOverrides { AppRole = "" }, Env(("CHATSTORE_APP_ROLE", "env_role"))).AppRole);
        Assert.Null(ChatStoreSettings.Load(environment: Env(), configFile: ConfigFile("""{ "appRole": "" }""")).AppRole);
    }

    [Fact]
    public void Null_in_the_config_file_counts_as_absent()
    {
        var settings = ChatStoreSettings.Load(environment: Env(), configFile: ConfigFile("""{ "appRole": null, "maxPoolSize": null }"""));

        Assert.Equal("chatstore_app", settings.AppRole);
        Assert.Null(settings.MaxPoolSize);
    }

    [Theory]
    [InlineData("teddy-ai")]
    [InlineData("Chat Store \"quoted\"")]
    [InlineData("ééééééééééééééééééééééééééééééé1")] // 31 × 2 bytes + 1 = 63 bytes
    public void Schema_may_be_any_identifier_up_to_63_bytes(string schema)
        => Assert.Equal(schema, ChatStoreSettings.Load(environment: Env(("DATABASE_SCHEMA", schema))).Schema);

    [Theory]
    [InlineData("éééééééééééééééééééééééééééééééé", "at most 63 bytes")] // 32 × 2 = 64 bytes
    [InlineData("a\0b", "NUL")]
    public void Schema_breaking_identifier_rules_is_rejected(string schema, string rule)
    {
        var e = Fails(() => ChatStoreSettings.Load(environment: Env(("DATABASE_SCHEMA", schema))));

        Assert.StartsWith("DATABASE_SCHEMA must", e.Message, StringComparison.Ordinal);
        Assert.Contains(rule, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Initializer_values_are_checked_too()
    {
        Assert.Throws<ChatStoreConfigurationException>(() => new ChatStoreSettings { Schema = "" });
        Assert.Throws<ChatStoreConfigurationException>(() => new ChatStoreSettings { AppRole = new string('r', 64) });
        Assert.Throws<ChatStoreConfigurationException>(() => new ChatStoreSettings { MaxPoolSize = 0 });
        Assert.Throws<ChatStoreConfigurationException>(() => new ChatStoreSettings { CommandTimeoutSeconds = -1 });
        Assert.Throws<ChatStoreConfigurationException>(() => new ChatStoreSettings { EmbeddedDataDirectory = " " });
        Assert.Null(new ChatStoreSettings { AppRole = null }.AppRole);
    }

    [Fact]
    public void ToString_and_Describe_mask_the_password()
    {
        var settings = ChatStoreSettings.Load(environment: Env(("DATABASE_URL", "postgres://app:Secret-Pw1@localhost/chat")));

        Assert.DoesNotContain("Secret-Pw1", settings.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("Secret-Pw1", settings.Describe(), StringComparison.Ordinal);
        Assert.Contains("Password=****", settings.ToString(), StringComparison.Ordinal);
        Assert.Contains("Schema = public", settings.ToString(), StringComparison.Ordinal);
        Assert.Equal("Secret-Pw1", new NpgsqlConnectionStringBuilder(settings.ConnectionString).Password);
    }

    [Fact]
    public void Overrides_ToString_masks_the_password()
    {
        var text = new ChatStoreSettingsOverrides { DatabaseUrl = "postgres://app:Secret-Pw1@localhost/chat" }.ToString();

        Assert.DoesNotContain("Secret-Pw1", text, StringComparison.Ordinal);
        Assert.Contains("postgres://app:****@localhost/chat", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Password_never_appears_in_a_settings_error()
    {
        var file = ConfigFile("""{ "databaseUrl": "postgres://app:Secret-Pw1@localhost:abc/chat" }""");

        var fromFile = Fails(() => ChatStoreSettings.Load(environment: Env(), configFile: file));
        var fromEnv = Fails(() => ChatStoreSettings.Load(environment: Env(("DATABASE_URL", "Host=h;Password=Secret-Pw1;Port=x"))));
        var fromFlag = Fails(() => ChatStoreSettings.Load(new ChatStoreSettingsOverrides { DatabaseUrl = "postgres://app:Secret-Pw1/@h/chat" }, Env()));

        Assert.All(new[] { fromFile, fromEnv, fromFlag }, e => Assert.DoesNotContain("Secret-Pw1", e.Message, StringComparison.Ordinal));
    }

    string SecretFile(string text) => _files.Write(text, "chatstore-secret");

    [Fact]
    public void DATABASE_URL_FILE_reads_the_url_from_the_file_without_its_trailing_newline()
    {
        var settings = ChatStoreSettings.Load(environment: Env(("DATABASE_URL_FILE", SecretFile("postgres://app:s3cret@db.internal:5433/chat\n"))));

        var cs = new NpgsqlConnectionStringBuilder(settings.ConnectionString);
        Assert.Equal("db.internal", cs.Host);
        Assert.Equal(5433, cs.Port);
        Assert.Equal("chat", cs.Database);
        Assert.Equal("s3cret", cs.Password);
    }

    [Fact]
    public void DATABASE_URL_and_DATABASE_URL_FILE_both_set_is_an_error_naming_both()
    {
        var e = Fails(() => ChatStoreSettings.Load(environment: Env(
            ("DATABASE_URL", "postgres://a@h/db"), ("DATABASE_URL_FILE", SecretFile("postgres://b@h/db")))));

        Assert.Contains("Both DATABASE_URL and DATABASE_URL_FILE are set", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DATABASE_URL_FILE_naming_a_missing_or_empty_file_is_an_error_naming_the_variable_and_path()
    {
        var missing = Path.Combine(Path.GetTempPath(), $"chatstore-missing-{Guid.NewGuid():N}");
        var e = Fails(() => ChatStoreSettings.Load(environment: Env(("DATABASE_URL_FILE", missing))));
        Assert.Contains($"DATABASE_URL_FILE names {missing}, which does not exist", e.Message, StringComparison.Ordinal);

        var empty = SecretFile("\n");
        e = Fails(() => ChatStoreSettings.Load(environment: Env(("DATABASE_URL_FILE", empty))));
        Assert.Contains($"{empty} (named by DATABASE_URL_FILE) is empty", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Malformed_url_in_a_secret_file_is_an_error_naming_the_file_and_masking_the_password()
    {
        var path = SecretFile("postgres://app:hunter2@db:notaport/chat\n");
        var e = Fails(() => ChatStoreSettings.Load(environment: Env(("DATABASE_URL_FILE", path))));

        Assert.Contains($"DATABASE_URL_FILE ({path})", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Any_secret_variable_reads_its_FILE_variant_and_keeps_inner_whitespace()
    {
        var path = SecretFile("cs_op_key with  spaces\r\n");
        Assert.Equal("cs_op_key with  spaces", SecretVariable.Read("CHATSTORE_SERVER__OPERATORKEY", n => n == "CHATSTORE_SERVER__OPERATORKEY_FILE" ? path : null));
        Assert.Equal("plain", SecretVariable.Read("CHATSTORE_SERVER__OPERATORKEY", n => n == "CHATSTORE_SERVER__OPERATORKEY" ? "plain" : null));
        Assert.Null(SecretVariable.Read("CHATSTORE_SERVER__OPERATORKEY", _ => null));
    }
}
