using ChatStore.Cli;

CliConsole.Configure();
return await ChatStoreCli.RunAsync(args);
