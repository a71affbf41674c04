using System.Text.Json;
using ChatStore.Reminders;
using ChatStore.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace ChatStore.Server.Apis;

/// <summary>Reminders: CRUD, cancel, complete, and claim-due for workers (tenant API key). A session caller reaches only its own.</summary>
public static class RemindersApi
{
    /// <summary>
    /// Client-settable fields of a new reminder. recurrence: an RRULE (FREQ, INTERVAL, COUNT or UNTIL);
    /// timezone: an IANA zone whose wall clock recurrences keep (UTC by default).
    /// </summary>
    public sealed record CreateReminderRequest(
        Guid? UserId, Guid? ConversationId, string? Title, string? Body, DateTimeOffset? DueAt, string? Recurrence, string? Timezone, JsonElement? Metadata);

    /// <summary>Changes; null leaves a field as it is; recurrence "" makes the reminder one-off.</summary>
    public sealed record UpdateReminderRequest(string? Title, string? Body, DateTimeOffset? DueAt, string? Recurrence, string? Timezone);

    public sealed record ListRemindersQuery(Guid? UserId, string? Status, int? Limit, string? Cursor);

    /// <summary>How many due reminders one worker claims at most (default 100).</summary>
    public sealed record ClaimDueRequest(int? Limit);

    public static RouteGroupBuilder MapRemindersApi(this RouteGroupBuilder v1)
    {
        var api = v1.MapGroup("/reminders").WithTags("Reminders").RequireTenant().TenantProblems();

        api.MapPost("/", async (CreateReminderRequest body, Caller caller, CancellationToken ct) =>
            {
                var reminder = await caller.Scope.Reminders.CreateAsync(new NewReminder
                {
                    UserId = caller.ActAs(body.UserId), ConversationId = body.ConversationId, Title = body.Title!, Body = body.Body,
                    DueAt = body.DueAt ?? throw new ChatStoreValidationException("dueAt", "required", "is required."),
                    Recurrence = body.Recurrence, Timezone = body.Timezone, Metadata = body.Metadata,
                }, ct);
                return TypedResults.Created($"/v1/reminders/{reminder.Id}", reminder);
            })
            .NotFound().Idempotent()
            .WithName("CreateReminder").WithSummary("Create a pending reminder for a user, one-off or recurring")
            .WithDescription("conversationId must be one of the user's conversations. " + ApiMetadata.UserIdRule);

        api.MapGet("/", async ([AsParameters] ListRemindersQuery query, Caller caller, CancellationToken ct) =>
            {
                var user = caller.ActAs(query.UserId);
                var page = await caller.Scope.Reminders.ListAsync(user, query.Status, query.Limit ?? 50, query.Cursor, ct);
                return TypedResults.Ok(await Access.ListOfUserAsync(caller, user, page, page.Items.Count, ct));
            })
            .NotFound()
            .WithName("ListReminders").WithSummary("A user's reminders by due time, keyset-paginated, optionally of one status")
            .WithDescription("status: pending, sent, completed or cancelled. " + ApiMetadata.UserIdRule);

        api.MapPost("/claim-due", async (ClaimDueRequest body, Caller caller, CancellationToken ct) =>
                TypedResults.Ok(new Page<ClaimedReminder>(await caller.Scope.Reminders.ClaimDueAsync(DateTimeOffset.UtcNow, body.Limit ?? 100, ct), null)))
            .TenantKeyOnly()
            .WithName("ClaimDueReminders")
            .WithSummary("Claim the tenant's due reminders for one worker (each goes to exactly one worker) (tenant API key)")
            .WithDescription("One-off reminders become sent; recurring ones move to their next occurrence in their time zone. Send each claimed reminder for its occurrenceAt.");

        api.MapGet("/{reminderId:guid}", async (Guid reminderId, Caller caller, CancellationToken ct) =>
            {
                var reminder = await caller.Scope.Reminders.GetAsync(reminderId, ct);
                caller.EnsureOwns(reminder.UserId, "reminder", reminderId);
                return TypedResults.Ok(reminder);
            })
            .NotFound()
            .WithName("GetReminder").WithSummary("Get a reminder");

        api.MapPatch("/{reminderId:guid}", async (Guid reminderId, UpdateReminderRequest body, Caller caller, CancellationToken ct) =>
            {
                await Access.ReminderAsync(caller, reminderId, ct);
                return TypedResults.Ok(await caller.Scope.Reminders.UpdateAsync(reminderId, new ReminderUpdate
                {
                    Title = body.Title, Body = body.Body, DueAt = body.DueAt, Recurrence = body.Recurrence, Timezone = body.Timezone,
                }, ct));
            })
            .NotFound().Conflict()
            .WithName("UpdateReminder").WithSummary("Change a reminder; a new schedule makes a sent or completed reminder pending again (409 when cancelled)");

        api.MapDelete("/{reminderId:guid}", async (Guid reminderId, Caller caller, CancellationToken ct) =>
            {
                await Access.ReminderAsync(caller, reminderId, ct);
                await caller.Scope.Reminders.DeleteAsync(reminderId, ct);
                return TypedResults.NoContent();
            })
            .NotFound()
            .WithName("DeleteReminder").WithSummary("Delete a reminder for good");

        api.MapPost("/{reminderId:guid}/cancel", async (Guid reminderId, Caller caller, CancellationToken ct) =>
            {
                await Access.ReminderAsync(caller, reminderId, ct);
                return TypedResults.Ok(await caller.Scope.Reminders.CancelAsync(reminderId, ct));
            })
            .NotFound().Conflict()
            .WithName("CancelReminder").WithSummary("Cancel a pending or sent reminder (409 when completed)");

        api.MapPost("/{reminderId:guid}/complete", async (Guid reminderId, Caller caller, CancellationToken ct) =>
            {
                await Access.ReminderAsync(caller, reminderId, ct);
                return TypedResults.Ok(await caller.Scope.Reminders.CompleteAsync(reminderId, ct));
            })
            .NotFound().Conflict()
            .WithName("CompleteReminder").WithSummary("Complete a pending or sent reminder, ending a recurring series (409 when cancelled)");
        return api;
    }
}
