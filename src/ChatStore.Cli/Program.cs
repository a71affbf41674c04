using ChatStore.Cli;

return await ChatStoreCli.Build().Parse(args).InvokeAsync();
