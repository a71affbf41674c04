using System.Text.Json;
using ChatStore.Server.Hosting;
using ChatStore.Subjects;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace ChatStore.Server.Apis;

/// <summary>What users' conversations are about (a dog profile, a property, a student). A session caller reaches only its own.</summary>
public static class SubjectsApi
{
    /// <summary>Client-settable fields of a new subject.</summary>
    public sealed record CreateSubjectRequest(Guid? UserId, string? Kind, string? Name, JsonElement? Attributes);

    /// <summary>Changes; null leaves a field as it is (attributes are replaced whole).</summary>
    public sealed record UpdateSubjectRequest(string? Name, JsonElement? Attributes);

    public sealed record ListSubjectsQuery(Guid? UserId, string? Kind, int? Limit, string? Cursor);

    public static RouteGroupBuilder MapSubjectsApi(this RouteGroupBuilder v1)
    {
        var api = v1.MapGroup("/subjects").WithTags("Subjects").RequireTenant().TenantProblems();

        api.MapPost("/", async (CreateSubjectRequest body, Caller caller, CancellationToken ct) =>
            {
                var subject = await caller.Subjects.CreateAsync(new NewSubject
                {
                    UserId = caller.ActAs(body.UserId), Kind = body.Kind, Name = body.Name, Attributes = body.Attributes,
                }, ct);
                return TypedResults.Created($"/v1/subjects/{subject.Id}", subject);
            })
            .NotFound().Idempotent()
            .WithName("CreateSubject").WithSummary("Create a subject for a user")
            .WithDescription(ApiMetadata.UserIdRule);

        api.MapGet("/", async ([AsParameters] ListSubjectsQuery query, Caller caller, CancellationToken ct) =>
            {
                var user = caller.ActAs(query.UserId);
                var page = await caller.Subjects.ListAsync(user, query.Kind, query.Limit ?? 50, query.Cursor, ct);
                return TypedResults.Ok(await Access.ListOfUserAsync(caller, user, page, page.Items.Count, ct));
            })
            .NotFound()
            .WithName("ListSubjects").WithSummary("A user's subjects in creation order, optionally of one kind, keyset-paginated")
            .WithDescription(ApiMetadata.UserIdRule);

        api.MapGet("/{subjectId:guid}", async (Guid subjectId, Caller caller, CancellationToken ct) =>
                TypedResults.Ok(await caller.Subjects.GetAsync(subjectId, ct)))
            .NotFound()
            .WithName("GetSubject").WithSummary("Get a subject");

        api.MapPatch("/{subjectId:guid}", async (Guid subjectId, UpdateSubjectRequest body, Caller caller, CancellationToken ct) =>
                TypedResults.Ok(await caller.Subjects.UpdateAsync(subjectId, new SubjectUpdate { Name = body.Name, Attributes = body.Attributes }, ct)))
            .NotFound()
            .WithName("UpdateSubject").WithSummary("Rename a subject and/or replace its attributes");

        api.MapDelete("/{subjectId:guid}", async (Guid subjectId, Caller caller, CancellationToken ct) =>
            {
                await caller.Subjects.DeleteAsync(subjectId, ct);
                return TypedResults.NoContent();
            })
            .NotFound()
            .WithName("DeleteSubject").WithSummary("Soft-delete a subject (conversations keep their reference)");
        return api;
    }
}
