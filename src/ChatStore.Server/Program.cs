using ChatStore.Server.Hosting;

var app = ChatStoreServer.Build(args);
await app.RunAsync();

/// <summary>The entry point (public for WebApplicationFactory in the tests).</summary>
public partial class Program;
