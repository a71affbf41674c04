using ChatStore.Cli;

CliConsole.Configure();
return await ChatStoreCli.Build().Parse(args).InvokeAsync();
