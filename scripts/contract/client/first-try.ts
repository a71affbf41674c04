// A first-try program against ChatStore's generated TypeScript client (openapi-typescript + openapi-fetch):
// what a developer writes on day one, compiled with tsc --strict, no casts, and run against a real server.
// Usage: node first-try.js <base url> <operator key>
import createClient from "openapi-fetch";
import type { paths } from "./schema.js";

// The one Node API used; declared here rather than pulling in @types/node.
declare const process: { argv: string[] };
const [baseUrl = "http://127.0.0.1:8080", operatorKey = ""] = process.argv.slice(2);

function check(condition: boolean, what: string): void {
  if (!condition) throw new Error(`first-try: ${what}`);
}

// Health: no credentials.
const anonymous = createClient<paths>({ baseUrl });
const live = await anonymous.GET("/healthz");
check(live.data?.status === "up", "healthz answers up");
const ready = await anonymous.GET("/readyz");
check(ready.data?.schemaVersion !== undefined && ready.data.schemaVersion > 0, "readyz reports the schema version");

// Tenants (operator key): create, read, list, update, API key.
const operator = createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${operatorKey}` } });
const tenant = await operator.POST("/v1/tenants", { body: { name: "First try", roles: ["student", "teacher"] } });
check(tenant.data !== undefined, `create tenant: ${JSON.stringify(tenant.error)}`);
const tenantId = tenant.data!.id;
const readTenant = await operator.GET("/v1/tenants/{tenantId}", { params: { path: { tenantId } } });
check(readTenant.data?.name === "First try", "read tenant");
const tenants = await operator.GET("/v1/tenants", { params: { query: { limit: 10 } } });
check((tenants.data?.items.length ?? 0) > 0 && typeof tenants.data?.hasMore === "boolean", "list tenants");
const renamed = await operator.PATCH("/v1/tenants/{tenantId}", { params: { path: { tenantId } }, body: { name: "First try, renamed" } });
check(renamed.data?.name === "First try, renamed", `update tenant: ${JSON.stringify(renamed.error)}`);
const key = await operator.POST("/v1/tenants/{tenantId}/api-keys", { params: { path: { tenantId } }, body: { name: "first-try" } });
check(key.data !== undefined, `create api key: ${JSON.stringify(key.error)}`);

const api = createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${key.data!.secret}` } });

// Users: create, read, list, update, delete.
const user = await api.POST("/v1/users", { body: { email: "ada@example.com", name: "Ada", role: "student" } });
check(user.data !== undefined, `create user: ${JSON.stringify(user.error)}`);
const userId = user.data!.id;
const readUser = await api.GET("/v1/users/{userId}", { params: { path: { userId } } });
check(readUser.data?.email === "ada@example.com", "read user");
const users = await api.GET("/v1/users", { params: { query: { limit: 10, role: "student" } } });
check(users.data?.items.some((u) => u.id === userId) === true, "list users");
const updatedUser = await api.PATCH("/v1/users/{userId}", { params: { path: { userId } }, body: { name: "Ada L." } });
check(updatedUser.data?.name === "Ada L.", "update user");
const typo = await api.POST("/v1/users", { body: { email: "b@example.com" }, headers: {} });
check(typo.data !== undefined, "a second user");

// Conversations: create, read, list, update (title), delete.
const conversation = await api.POST("/v1/conversations", { body: { userId, title: "Trip to Lisbon" } });
check(conversation.data !== undefined, `create conversation: ${JSON.stringify(conversation.error)}`);
const conversationId = conversation.data!.id;
const readConversation = await api.GET("/v1/conversations/{conversationId}", { params: { path: { conversationId } } });
check(readConversation.data?.status === "active", "read conversation");
const conversations = await api.GET("/v1/conversations", { params: { query: { userId, status: "active", limit: 20 } } });
check(conversations.data?.items.length === 1, "list conversations");
const retitled = await api.PUT("/v1/conversations/{conversationId}/title", { params: { path: { conversationId } }, body: { title: "Lisbon in March" } });
check(retitled.error === undefined, `rename conversation: ${JSON.stringify(retitled.error)}`);

// Messages: append, read, history, edit, delete.
const message = await api.POST("/v1/conversations/{conversationId}/messages", {
  params: { path: { conversationId } },
  body: { role: "user", content: "What should I pack for Lisbon in March?" },
});
check(message.data?.seq === 1, `append message: ${JSON.stringify(message.error)}`);
const messageId = message.data!.id;
await api.POST("/v1/conversations/{conversationId}/messages", {
  params: { path: { conversationId } },
  body: { role: "assistant", content: "A light rain jacket and layers.", model: "gpt-x", inputTokens: 12, outputTokens: 9 },
});
const readMessage = await api.GET("/v1/messages/{messageId}", { params: { path: { messageId } } });
check(readMessage.data?.role === "user", "read message");
const history = await api.GET("/v1/conversations/{conversationId}/messages", { params: { path: { conversationId }, query: { limit: 50 } } });
check(history.data?.items.length === 2 && history.data.hasMore === false, "history");
const edited = await api.PATCH("/v1/messages/{messageId}", { params: { path: { messageId } }, body: { content: "What should I pack for Porto?" } });
check(edited.error === undefined, `edit message: ${JSON.stringify(edited.error)}`);

// Search: full text over what was just written.
const hits = await api.POST("/v1/search/full-text", { body: { text: "rain jacket", userId, limit: 10 } });
check(hits.data !== undefined && typeof hits.data.hasMore === "boolean", `full-text search: ${JSON.stringify(hits.error)}`);

// Memories: add, read, list, update, delete.
const memory = await api.POST("/v1/memories", { body: { userId, content: "Prefers window seats", kind: "preference", importance: 0.7 } });
check(memory.data !== undefined, `add memory: ${JSON.stringify(memory.error)}`);
const memoryId = memory.data!.memory.id;
const readMemory = await api.GET("/v1/memories/{memoryId}", { params: { path: { memoryId } } });
check(readMemory.data?.kind === "preference", "read memory");
const memories = await api.GET("/v1/memories", { params: { query: { userId, limit: 10 } } });
check(memories.data?.items.length === 1, "list memories");
const updatedMemory = await api.PATCH("/v1/memories/{memoryId}", { params: { path: { memoryId } }, body: { importance: 0.9 } });
check(updatedMemory.error === undefined, `update memory: ${JSON.stringify(updatedMemory.error)}`);
const deletedMemory = await api.DELETE("/v1/memories/{memoryId}", { params: { path: { memoryId } } });
check(deletedMemory.response.status === 204, "delete memory");

// Subjects: create, read, list, update, delete.
const subject = await api.POST("/v1/subjects", { body: { userId, kind: "trip", name: "Lisbon" } });
check(subject.data !== undefined, `create subject: ${JSON.stringify(subject.error)}`);
const subjectId = subject.data!.id;
const readSubject = await api.GET("/v1/subjects/{subjectId}", { params: { path: { subjectId } } });
check(readSubject.data?.kind === "trip", "read subject");
const subjects = await api.GET("/v1/subjects", { params: { query: { userId } } });
check(subjects.data?.items.length === 1, "list subjects");
const updatedSubject = await api.PATCH("/v1/subjects/{subjectId}", { params: { path: { subjectId } }, body: { name: "Lisbon, March" } });
check(updatedSubject.error === undefined, `update subject: ${JSON.stringify(updatedSubject.error)}`);
const deletedSubject = await api.DELETE("/v1/subjects/{subjectId}", { params: { path: { subjectId } } });
check(deletedSubject.response.status === 204, "delete subject");

// Documents: create, read, list, update (extracted text, status), delete.
const document = await api.POST("/v1/documents", { body: { userId, filename: "itinerary.pdf", mimeType: "application/pdf", sizeBytes: 1024 } });
check(document.data !== undefined, `create document: ${JSON.stringify(document.error)}`);
const documentId = document.data!.id;
const readDocument = await api.GET("/v1/documents/{documentId}", { params: { path: { documentId } } });
check(readDocument.data?.status === "pending", "read document");
const documents = await api.GET("/v1/documents", { params: { query: { userId, status: "pending" } } });
check(documents.data?.items.length === 1, "list documents");
const text = await api.PUT("/v1/documents/{documentId}/text", { params: { path: { documentId } }, body: { text: "Day 1: Alfama." } });
check(text.error === undefined, `set document text: ${JSON.stringify(text.error)}`);
const deletedDocument = await api.DELETE("/v1/documents/{documentId}", { params: { path: { documentId } } });
check(deletedDocument.response.status === 204, "delete document");

// Reminders: create, read, list, update, delete.
const reminder = await api.POST("/v1/reminders", { body: { userId, title: "Book the tram tour", dueAt: "2030-03-01T09:00:00Z", timezone: "Europe/Lisbon" } });
check(reminder.data !== undefined, `create reminder: ${JSON.stringify(reminder.error)}`);
const reminderId = reminder.data!.id;
const readReminder = await api.GET("/v1/reminders/{reminderId}", { params: { path: { reminderId } } });
check(readReminder.data?.status === "pending", "read reminder");
const reminders = await api.GET("/v1/reminders", { params: { query: { userId, status: "pending" } } });
check(reminders.data?.items.length === 1, "list reminders");
const movedReminder = await api.PATCH("/v1/reminders/{reminderId}", { params: { path: { reminderId } }, body: { dueAt: "2030-03-02T09:00:00Z" } });
check(movedReminder.error === undefined, `update reminder: ${JSON.stringify(movedReminder.error)}`);
const deletedReminder = await api.DELETE("/v1/reminders/{reminderId}", { params: { path: { reminderId } } });
check(deletedReminder.response.status === 204, "delete reminder");

// Sessions: create, act as the user, list, revoke.
const session = await api.POST("/v1/sessions", { body: { userId, lifetimeSeconds: 3600 } });
check(session.data !== undefined, `create session: ${JSON.stringify(session.error)}`);
const asUser = createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${session.data!.token}` } });
const me = await asUser.GET("/v1/sessions/me");
check(me.data?.userId === userId, "the session acts as its user");
const sessions = await api.GET("/v1/sessions", { params: { query: { userId } } });
check(sessions.data?.items.length === 1, "list sessions");
const revoked = await api.DELETE("/v1/sessions/{sessionId}", { params: { path: { sessionId: session.data!.session.id } } });
check(revoked.response.status === 204, "revoke session");

// Cache: set, read, delete.
const cached = await api.PUT("/v1/cache/{key}", { params: { path: { key: "lisbon-weather" } }, body: { value: { rain: true }, timeToLiveSeconds: 60 } });
check(cached.error === undefined, `set cache entry: ${JSON.stringify(cached.error)}`);
const cachedEntry = await api.GET("/v1/cache/{key}", { params: { path: { key: "lisbon-weather" } } });
check(cachedEntry.data?.key === "lisbon-weather", "read cache entry");
const uncached = await api.DELETE("/v1/cache/{key}", { params: { path: { key: "lisbon-weather" } } });
check(uncached.response.status === 204, "delete cache entry");

// Mistakes are errors with problem details that name the input.
const unknownProperty = await api.POST("/v1/users", { body: { email: "c@example.com" }, bodySerializer: () => JSON.stringify({ emial: "c@example.com" }) });
check(unknownProperty.error?.field === "emial" && unknownProperty.error.rule === "unknown_property", "an unknown property is a 400 naming it");

// Deletes last: message, conversation, user, tenant.
const deletedMessage = await api.DELETE("/v1/messages/{messageId}", { params: { path: { messageId } } });
check(deletedMessage.response.status === 204, "delete message");
const deletedConversation = await api.DELETE("/v1/conversations/{conversationId}", { params: { path: { conversationId } } });
check(deletedConversation.response.status === 204, "delete conversation");
const deletedUser = await api.DELETE("/v1/users/{userId}", { params: { path: { userId } } });
check(deletedUser.response.status === 204, "delete user");
const deletedTenant = await operator.DELETE("/v1/tenants/{tenantId}", { params: { path: { tenantId } } });
check(deletedTenant.response.status === 204, `delete tenant: ${JSON.stringify(deletedTenant.error)}`);

console.log("first-try: every call compiled without a cast and succeeded");
