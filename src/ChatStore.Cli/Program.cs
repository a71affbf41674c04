using ChatStore.Cli;

return await ChatStoreCli.RunAsync(args);
