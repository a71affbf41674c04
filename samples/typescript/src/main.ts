// ChatStore's HTTP API from TypeScript, through a client generated from the server's OpenAPI document
// (`npm run generate`): an operator makes a tenant and its API key; with that key the app makes a user and a
// conversation, appends two messages and reads the history back.
//
//   CHATSTORE_URL=http://127.0.0.1:8080 CHATSTORE_OPERATOR_KEY=… npm start
import createClient from "openapi-fetch";
import type { paths } from "./chatstore-api.js";

const baseUrl = process.env.CHATSTORE_URL ?? "http://127.0.0.1:8080";
const operatorKey = process.env.CHATSTORE_OPERATOR_KEY;
if (!operatorKey) throw new Error("Set CHATSTORE_OPERATOR_KEY to the server's operator key (chatstore serve prints it).");

/** The response's data, or an error that says which call failed and with what problem details. */
function ok<T>(call: string, result: { data?: T; error?: unknown; response: Response }): T {
  if (result.data === undefined) throw new Error(`${call}: HTTP ${result.response.status} ${JSON.stringify(result.error)}`);
  return result.data;
}

const operator = createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${operatorKey}` } });
const tenant = ok("create tenant", await operator.POST("/v1/tenants", {
  body: { name: "TypeScript sample" },
}));
const key = ok("create API key", await operator.POST("/v1/tenants/{tenantId}/api-keys", {
  params: { path: { tenantId: tenant.id } },
  body: { name: "typescript-sample" },
}));

const api = createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${key.secret}` } });
const user = ok("create user", await api.POST("/v1/users", {
  body: { email: `ada-${Date.now()}@example.com`, name: "Ada" },
}));
const conversation = ok("create conversation", await api.POST("/v1/conversations", {
  body: { userId: user.id, title: "Hello from TypeScript" },
}));
const message = (role: "user" | "assistant", content: string) => ({ role, content });
const path = { params: { path: { conversationId: conversation.id } } };
ok("append user message", await api.POST("/v1/conversations/{conversationId}/messages", { ...path, body: message("user", "What is ChatStore?") }));
ok("append assistant message", await api.POST("/v1/conversations/{conversationId}/messages", {
  ...path, body: message("assistant", "The conversation and memory store for AI chat apps."),
}));

const history = ok("read history", await api.GET("/v1/conversations/{conversationId}/messages", path));
for (const m of history.items) console.log(`${m.seq} ${m.role}: ${m.content}`);
if (history.items.length !== 2) throw new Error(`expected 2 messages, read ${history.items.length}`);
