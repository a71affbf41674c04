// The ChatStore console: a small single-page app in plain JavaScript (no build step, no dependencies).
// It signs in with the operator key or a tenant API key, kept in sessionStorage and sent only as
// "Authorization: Bearer …" to /console/api. Every string from the server is rendered as text
// (textContent / text nodes): nothing from data ever reaches innerHTML.

const KEY = "chatstore.console.key";
const main = document.getElementById("main");
const nav = document.getElementById("nav");
const who = document.getElementById("who");
const signOutButton = document.getElementById("signout");
const statusBox = document.getElementById("status");
let me = null;

// ---------------------------------------------------------------------------------------------
// DOM helpers: elements are built from data with text nodes only.

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "text") el.textContent = String(value);
    else if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else if (name === "class") el.className = value;
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

const SVG = "http://www.w3.org/2000/svg";
function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (name === "text") el.textContent = String(value);
    else el.setAttribute(name, String(value));
  }
  append(el, children);
  return el;
}

function link(href, text) { return h("a", { href }, text); }
function time(value) {
  if (!value) return "—";
  const d = new Date(value);
  return isNaN(d) ? String(value) : d.toISOString().replace("T", " ").slice(0, 19) + " UTC";
}
function num(value) { return value === null || value === undefined ? "—" : Number(value).toLocaleString("en-US"); }
function money(value) { return value === null || value === undefined ? "—" : "$" + Number(value).toFixed(6).replace(/0{1,4}$/, ""); }
function json(value) { return JSON.stringify(value, null, 2); }
function badge(text, kind) { return h("span", { class: "badge" + (kind ? " " + kind : ""), text }); }
function shortId(id) { return id ? String(id).slice(0, 8) + "…" : "—"; }

function table(columns, rows, caption) {
  return h("div", { class: "table-wrap" },
    h("table", {},
      caption ? h("caption", { class: "muted", text: caption }) : null,
      h("thead", {}, h("tr", {}, columns.map(c => h("th", { scope: "col", class: c.num ? "num" : null, text: c.title })))),
      h("tbody", {}, rows.length === 0
        ? h("tr", {}, h("td", { colspan: columns.length, class: "muted", text: "Nothing here yet." }))
        : rows.map(row => h("tr", {}, columns.map(c => h("td", { class: c.num ? "num" : null }, c.cell(row))))))));
}

function facts(pairs) {
  return h("dl", { class: "facts" }, pairs.filter(Boolean).map(([k, v]) => [h("dt", { text: k }), h("dd", {}, v)]));
}

function say(text) {
  statusBox.textContent = text;
  clearTimeout(say.timer);
  say.timer = setTimeout(() => { statusBox.textContent = ""; }, 6000);
}

function field(label, input) { return h("label", {}, label, input); }

// ---------------------------------------------------------------------------------------------
// The API: the key goes in a header, never in a URL.

class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

async function api(path, options = {}) {
  const headers = { Authorization: "Bearer " + sessionStorage.getItem(KEY) };
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch("/console/api" + path, {
    method: options.method || "GET", headers, cache: "no-store",
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  if (response.status === 401 && path !== "/me") { signOut("Your key is no longer valid; sign in again."); throw new ApiError(401, "Signed out."); }
  if (options.raw) {
    if (!response.ok) throw new ApiError(response.status, await problemText(response));
    return response;
  }
  if (response.status === 204) return null;
  if (!response.ok) throw new ApiError(response.status, await problemText(response));
  return response.json();
}

async function problemText(response) {
  try {
    const p = await response.json();
    const errors = p.errors ? " " + Object.entries(p.errors).map(([k, v]) => k + ": " + [].concat(v).join(" ")).join("; ") : "";
    return (p.detail || p.title || response.statusText) + errors;
  } catch { return response.status + " " + response.statusText; }
}

function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== "") q.set(k, v);
  const text = q.toString();
  return text ? "?" + text : "";
}

// ---------------------------------------------------------------------------------------------
// Sign in and out.

function signOut(message) {
  sessionStorage.removeItem(KEY);
  me = null;
  location.hash = "#/";
  render();
  if (message) say(message);
}
signOutButton.addEventListener("click", () => signOut("Signed out."));

function signInPage(error) {
  const input = h("input", { id: "key", type: "password", name: "key", autocomplete: "off", required: true, spellcheck: "false" });
  const message = h("p", { class: "error", role: "alert", text: error || "" });
  const form = h("form", {
    onsubmit: async e => {
      e.preventDefault();
      sessionStorage.setItem(KEY, input.value.trim());
      try {
        me = await api("/me");
        location.hash = "#/";
        render();
      } catch (err) {
        sessionStorage.removeItem(KEY);
        message.textContent = err.status === 401 || err.status === 403
          ? "That key was not accepted. Use the operator key or a tenant API key (cs_key_…)."
          : "Could not sign in: " + err.message;
      }
    },
  },
    h("label", { for: "key" }, "Operator key or tenant API key"),
    input,
    h("button", { type: "submit", text: "Sign in" }),
    message);
  return h("section", { class: "signin" },
    h("h1", { text: "Sign in to the ChatStore console" }),
    h("p", { class: "muted", text: "The key stays in this tab's session storage and is sent only in the Authorization header." }),
    form);
}

// ---------------------------------------------------------------------------------------------
// Routing: #/path/segments?query. Other hashes (none here) are ignored.

function route() {
  const hash = location.hash.startsWith("#/") ? location.hash.slice(2) : "";
  const [path, search] = hash.split("?");
  return { parts: path.split("/").filter(Boolean).map(decodeURIComponent), params: new URLSearchParams(search || "") };
}

const operatorNav = [["#/tenants", "Tenants"], ["#/spaces", "Embedding spaces"], ["#/schema", "Schema"], ["#/health", "Health"]];
const tenantNav = [["#/conversations", "Conversations"], ["#/users", "Users"], ["#/usage", "Usage"], ["#/search", "Search"]];

function renderNav(current) {
  nav.replaceChildren();
  if (!me) return;
  for (const [href, text] of me.kind === "operator" ? operatorNav : tenantNav) {
    const a = link(href, text);
    if (current === href.slice(2)) a.setAttribute("aria-current", "page");
    nav.append(a);
  }
}

async function render() {
  const { parts, params } = route();
  if (!sessionStorage.getItem(KEY)) {
    me = null;
    who.textContent = "";
    signOutButton.hidden = true;
    renderNav();
    main.replaceChildren(signInPage());
    return;
  }
  if (!me) {
    try { me = await api("/me"); } catch (err) { sessionStorage.removeItem(KEY); main.replaceChildren(signInPage(err.message)); return; }
  }
  signOutButton.hidden = false;
  who.textContent = me.kind === "operator" ? "Operator" : "Tenant: " + me.tenant.name;
  const pages = me.kind === "operator" ? operatorPages : tenantPages;
  const name = parts[0] || (me.kind === "operator" ? "tenants" : "conversations");
  renderNav(name);
  const page = pages[name];
  main.replaceChildren(h("p", { class: "muted", text: "Loading…" }));
  try {
    const content = page ? await page(parts.slice(1), params) : h("p", { text: "No such page." });
    main.replaceChildren(content);
  } catch (err) {
    if (err.status === 401) return;
    main.replaceChildren(h("h1", { text: err.status === 404 ? "Not found" : "Something went wrong" }), h("p", { class: "error", role: "alert", text: err.message }));
  }
  main.focus();
}

window.addEventListener("hashchange", () => { if (location.hash === "" || location.hash.startsWith("#/")) render(); });

// Forms that filter a list keep their values in the URL's hash (never the key).
function go(path, params) { location.hash = "#/" + path + query(params || {}); }

function formValues(form) {
  const values = {};
  for (const [k, v] of new FormData(form).entries()) if (String(v).trim() !== "") values[k] = String(v).trim();
  return values;
}

function moreButton(nextCursor, path, params) {
  return nextCursor ? h("p", {}, h("button", { type: "button", class: "secondary", onclick: () => go(path, { ...params, cursor: nextCursor }), text: "Next page" })) : null;
}

// ---------------------------------------------------------------------------------------------
// Operator pages.

const operatorPages = {
  async tenants(parts, params) {
    if (parts[0]) return tenantKeysPage(parts[0]);
    const page = await api("/operator/tenants" + query({ cursor: params.get("cursor") }));
    const name = h("input", { id: "tenant-name", name: "name", required: true, maxlength: 200 });
    const create = h("form", {
      class: "inline",
      onsubmit: async e => {
        e.preventDefault();
        try { const t = await api("/operator/tenants", { method: "POST", body: { name: name.value } }); say("Created tenant " + t.name + "."); render(); }
        catch (err) { say(err.message); }
      },
    }, h("label", { for: "tenant-name" }, "New tenant's name"), name, h("button", { type: "submit", text: "Create tenant" }));
    return h("div", {},
      h("h1", { text: "Tenants" }),
      h("section", {}, create),
      table([
        { title: "Name", cell: r => renameCell(r.tenant) },
        { title: "Id", cell: r => h("code", { text: r.tenant.id }) },
        { title: "Users", num: true, cell: r => num(r.counts.users) },
        { title: "Conversations", num: true, cell: r => num(r.counts.conversations) },
        { title: "Messages", num: true, cell: r => num(r.counts.messages) },
        { title: "Memories", num: true, cell: r => num(r.counts.memories) },
        { title: "Documents", num: true, cell: r => num(r.counts.documents) },
        { title: "API keys", num: true, cell: r => link("#/tenants/" + r.tenant.id, r.counts.apiKeys === 1 ? "1 key" : num(r.counts.apiKeys) + " keys") },
        { title: "Created", cell: r => time(r.tenant.createdAt) },
      ], page.items),
      moreButton(page.nextCursor, "tenants", {}));
  },
  async spaces() {
    const spaces = await api("/operator/embedding-spaces");
    return h("div", {},
      h("h1", { text: "Embedding spaces" }),
      table([
        { title: "Name", cell: r => r.space.name },
        { title: "Model", cell: r => r.space.model },
        { title: "Dimensions", num: true, cell: r => num(r.space.dimensions) },
        { title: "Metric", cell: r => r.space.metric },
        { title: "Index", cell: r => r.space.indexKind },
        { title: "Index state", cell: r => [badge(r.indexState, r.indexState === "ready" ? "ok" : r.indexState === "invalid" ? "bad" : "warn"), r.buildPhase ? " " + r.buildPhase : ""] },
        { title: "Rows (estimated)", num: true, cell: r => num(r.estimatedRows) },
        { title: "Created", cell: r => time(r.space.createdAt) },
      ], spaces));
  },
  async schema() {
    const report = await api("/operator/schema");
    const sources = [...new Set(report.status.entries.map(e => e.source))];
    return h("div", {},
      h("h1", { text: "Schema " + report.status.schema }),
      h("section", {},
        h("h2", { text: "db verify" }),
        report.drift.length === 0
          ? h("p", {}, badge("no drift", "ok"), " The live schema matches the applied migrations.")
          : h("div", {}, h("p", {}, badge(report.drift.length + " differences", "bad")), h("ul", {}, report.drift.map(d => h("li", { text: d }))))),
      sources.map(source => {
        const entries = report.status.entries.filter(e => e.source === source);
        const pending = entries.filter(e => e.state === "pending").length;
        return h("section", {},
          h("h2", { text: "Source " + source + ": " + (entries.length - pending) + " applied, " + pending + " pending" }),
          table([
            { title: "Version", num: true, cell: e => String(e.version).padStart(4, "0") },
            { title: "Name", cell: e => e.name },
            { title: "State", cell: e => badge(e.state, e.state === "applied" ? "ok" : e.state === "pending" ? "warn" : "bad") },
            { title: "Applied", cell: e => time(e.appliedAt) },
            { title: "ms", num: true, cell: e => num(e.executionMs) },
          ], entries));
      }));
  },
  async health() {
    const r = await api("/operator/health");
    const hl = r.health;
    return h("div", {},
      h("h1", { text: "Health and version" }),
      h("section", {}, facts([
        ["Status", badge(hl.healthy ? "healthy" : "unhealthy", hl.healthy ? "ok" : "bad")],
        ["Database reachable", hl.reachable ? "yes" : "no"],
        ["PostgreSQL", hl.serverVersion || "—"],
        ["pgvector", hl.pgvectorVersion || "not installed"],
        ["Schema version", String(hl.schemaVersion)],
        ["Pending migrations", String(hl.pendingMigrations)],
        hl.error ? ["Error", h("span", { class: "error", text: hl.error })] : null,
        ["ChatStore version", r.version],
        ["Runtime", r.runtime],
      ])));
  },
};

function renameCell(tenant) {
  const cell = h("span", {}, tenant.name, " ");
  const button = h("button", {
    type: "button", class: "secondary", "aria-label": "Rename " + tenant.name, text: "Rename",
    onclick: () => {
      const id = "rename-" + tenant.id;
      const input = h("input", { id, value: tenant.name, required: true });
      const form = h("form", {
        class: "inline",
        onsubmit: async e => {
          e.preventDefault();
          try { await api("/operator/tenants/" + tenant.id, { method: "PATCH", body: { name: input.value } }); say("Renamed."); render(); }
          catch (err) { say(err.message); }
        },
      }, h("label", { for: id }, "New name"), input, h("button", { type: "submit", text: "Save" }));
      cell.replaceChildren(form);
      input.focus();
    },
  });
  cell.append(button);
  return cell;
}

async function tenantKeysPage(tenantId) {
  const keys = await api("/operator/tenants/" + encodeURIComponent(tenantId) + "/keys");
  const name = h("input", { id: "key-name", name: "name", required: true, value: "console" });
  const scopes = h("input", { id: "key-scopes", name: "scopes", placeholder: "read, write" });
  const secret = h("div", {});
  const form = h("form", {
    class: "inline",
    onsubmit: async e => {
      e.preventDefault();
      try {
        const list = scopes.value.split(",").map(x => x.trim()).filter(Boolean);
        const created = await api("/operator/tenants/" + tenantId + "/keys", { method: "POST", body: { name: name.value, scopes: list.length ? list : null } });
        const list2 = await api("/operator/tenants/" + tenantId + "/keys");
        keysTable.replaceWith(keysTable = keyList(tenantId, list2));
        secret.replaceChildren(h("p", { class: "secret", role: "status" }, "New key (shown once): ", h("code", { id: "new-key", text: created.secret })));
      } catch (err) { say(err.message); }
    },
  }, h("label", { for: "key-name" }, "Key name"), name, h("label", { for: "key-scopes" }, "Scopes (comma-separated)"), scopes,
    h("button", { type: "submit", text: "Create key" }));
  let keysTable = keyList(tenantId, keys);
  return h("div", {}, h("p", {}, link("#/tenants", "← Tenants")), h("h1", { text: "API keys of tenant " + tenantId }),
    h("section", {}, form, secret), keysTable);
}

function keyList(tenantId, keys) {
  return table([
    { title: "Name", cell: k => k.name },
    { title: "Prefix", cell: k => h("code", { text: k.prefix }) },
    { title: "Scopes", cell: k => k.scopes.join(", ") || "—" },
    { title: "Created", cell: k => time(k.createdAt) },
    { title: "Last used", cell: k => time(k.lastUsedAt) },
    { title: "Expires", cell: k => time(k.expiresAt) },
    { title: "State", cell: k => k.revokedAt ? [badge("revoked", "bad"), " ", time(k.revokedAt)] : badge("active", "ok") },
    {
      title: "", cell: k => k.revokedAt ? "" : h("button", {
        type: "button", class: "danger", "aria-label": "Revoke key " + k.name, text: "Revoke",
        onclick: async () => {
          if (!confirm("Revoke key " + k.name + "? Apps using it stop working at once.")) return;
          try { await api("/operator/tenants/" + tenantId + "/keys/" + k.id, { method: "DELETE" }); say("Revoked."); render(); }
          catch (err) { say(err.message); }
        },
      }),
    },
  ], keys);
}

// ---------------------------------------------------------------------------------------------
// Tenant pages.

const tenantPages = {
  async conversations(parts, params) {
    if (parts[0]) return transcriptPage(parts[0], params);
    const filters = Object.fromEntries(["userId", "subjectId", "status", "from", "to"].map(k => [k, params.get(k) || ""]));
    const page = await api("/tenant/conversations" + query({ ...filters, from: isoDate(filters.from), to: isoDate(filters.to), cursor: params.get("cursor") }));
    const form = h("form", {
      class: "inline", "aria-label": "Filter conversations",
      onsubmit: e => { e.preventDefault(); go("conversations", formValues(e.target)); },
    },
      field("User id", h("input", { name: "userId", value: filters.userId, size: 36 })),
      field("Subject id", h("input", { name: "subjectId", value: filters.subjectId, size: 36 })),
      field("Status", h("select", { name: "status" }, ["", "active", "archived"].map(v => h("option", { value: v, selected: v === filters.status, text: v || "any" })))),
      field("Active from", h("input", { name: "from", type: "date", value: filters.from })),
      field("Active before", h("input", { name: "to", type: "date", value: filters.to })),
      h("button", { type: "submit", text: "Filter" }));
    return h("div", {},
      h("h1", { text: "Conversations" }),
      h("section", {}, form),
      table([
        { title: "Title", cell: c => link("#/conversations/" + c.id, c.title || "(untitled)") },
        { title: "User", cell: c => link("#/users/" + c.userId, shortId(c.userId)) },
        { title: "Status", cell: c => [badge(c.status), c.pinned ? [" ", badge("pinned")] : null] },
        { title: "Messages", num: true, cell: c => num(c.messageCount) },
        { title: "Last activity", cell: c => time(c.lastActivityAt) },
        { title: "Created", cell: c => time(c.createdAt) },
      ], page.items),
      moreButton(page.nextCursor, "conversations", filters));
  },
  async users(parts, params) {
    if (parts[0]) return userPage(parts[0]);
    const q = params.get("q") || "";
    const page = await api("/tenant/users" + query({ q, cursor: params.get("cursor") }));
    const form = h("form", { class: "inline", role: "search", onsubmit: e => { e.preventDefault(); go("users", formValues(e.target)); } },
      field("Email, external id or name", h("input", { name: "q", value: q, type: "search", size: 40 })),
      h("button", { type: "submit", text: "Find" }));
    return h("div", {},
      h("h1", { text: "Users" }),
      h("section", {}, form),
      table([
        { title: "Name", cell: u => link("#/users/" + u.id, u.name || "(no name)") },
        { title: "Email", cell: u => u.email || "—" },
        { title: "External id", cell: u => u.externalId || "—" },
        { title: "Role", cell: u => u.role },
        { title: "Last login", cell: u => time(u.lastLoginAt) },
        { title: "Created", cell: u => time(u.createdAt) },
      ], page.items),
      moreButton(page.nextCursor, "users", { q }));
  },
  async memories(parts) { return memoryPage(parts[0]); },
  async documents(parts) { return documentPage(parts[0]); },
  async usage(parts, params) { return usagePage(params); },
  async search(parts, params) { return searchPage(params); },
};

function isoDate(value) { return value ? new Date(value + "T00:00:00Z").toISOString() : ""; }

async function transcriptPage(id, params) {
  const t = await api("/tenant/conversations/" + encodeURIComponent(id) + query({ beforeSeq: params.get("beforeSeq") }));
  const c = t.conversation;
  const feedback = groupBy(t.feedback, f => f.messageId);
  const corrections = groupBy(t.corrections, k => k.messageId);
  const first = t.messages[0];
  return h("div", {},
    h("p", {}, link("#/conversations", "← Conversations")),
    h("h1", { text: c.title || "(untitled conversation)" }),
    h("section", {}, facts([
      ["User", t.user ? link("#/users/" + c.userId, (t.user.name || t.user.email || c.userId)) : c.userId + " (deleted)"],
      ["Status", [badge(c.status), c.pinned ? [" ", badge("pinned")] : null]],
      ["Messages", num(c.messageCount)],
      ["Mode", c.mode || "—"],
      ["Subject", c.subjectId || "—"],
      ["Last activity", time(c.lastActivityAt)],
      ["Created", time(c.createdAt)],
      ["Id", h("code", { text: c.id })],
    ])),
    t.hasMore && first ? h("p", {}, link("#/conversations/" + c.id + "?beforeSeq=" + first.seq, "Earlier messages")) : null,
    h("div", { class: "transcript", "aria-label": "Transcript" }, t.messages.map(m => messageView(m, feedback.get(m.id) || [], corrections.get(m.id) || []))),
    params.get("beforeSeq") ? h("p", {}, link("#/conversations/" + c.id, "Latest messages")) : null);
}

function groupBy(items, key) {
  const map = new Map();
  for (const item of items) { const k = key(item); if (!map.has(k)) map.set(k, []); map.get(k).push(item); }
  return map;
}

function messageView(m, feedback, corrections) {
  const statusKind = m.status === "error" ? "bad" : m.status === "streaming" ? "warn" : null;
  const article = h("article", { class: "message role-" + m.role + (m.deletedAt ? " deleted" : ""), "data-message-id": m.id, "aria-label": "Message " + m.seq + " by " + m.role },
    h("header", {},
      h("strong", { text: "#" + m.seq + " " + m.role }),
      m.status !== "complete" ? badge(m.status, statusKind) : null,
      m.deletedAt ? badge("deleted " + time(m.deletedAt), "bad") : null,
      m.model ? h("span", { text: "model " + m.model }) : null,
      m.inputTokens || m.outputTokens ? h("span", { text: num(m.inputTokens) + " in / " + num(m.outputTokens) + " out tokens" }) : null,
      Number(m.costUsd) ? h("span", { text: money(m.costUsd) }) : null,
      m.responseMs !== null && m.responseMs !== undefined ? h("span", { text: num(m.responseMs) + " ms" }) : null,
      h("span", { text: time(m.createdAt) }),
      m.editedAt ? h("span", { text: "edited " + time(m.editedAt) }) : null),
    h("pre", { class: "content", text: m.content }),
    m.error ? h("p", { class: "error", text: "Error: " + m.error }) : null,
    m.domains && m.domains.length ? h("p", {}, "Domains: ", m.domains.map(d => [badge(d), " "])) : null,
    Array.isArray(m.citations) && m.citations.length ? h("details", {}, h("summary", { text: m.citations.length + " citation(s)" }),
      h("ol", {}, m.citations.map(ci => h("li", {}, citation(ci))))) : null,
    feedback.length ? h("div", {}, h("strong", { text: "Feedback" }), h("ul", {}, feedback.map(f =>
      h("li", { text: [f.rating, f.score !== null && f.score !== undefined ? "score " + f.score : null, f.comment ? "“" + f.comment + "”" : null, "by " + shortId(f.userId)].filter(Boolean).join(" · ") })))) : null,
    corrections.length ? h("div", {}, h("strong", { text: "Corrections" }), corrections.map(k =>
      h("div", {}, h("p", { class: "muted", text: time(k.createdAt) + " by " + shortId(k.userId) + (k.reason ? " — " + k.reason : "") }), h("pre", { text: k.correctedContent })))) : null);
  if (m.deletedAt) {
    article.append(h("button", {
      type: "button", class: "secondary", text: "Restore message #" + m.seq,
      onclick: async () => {
        try { await api("/tenant/messages/" + m.id + "/restore", { method: "POST" }); say("Message restored."); render(); }
        catch (err) { say(err.message); }
      },
    }));
  }
  return article;
}

function citation(ci) {
  if (ci && typeof ci === "object" && !Array.isArray(ci)) {
    const title = ci.title || ci.name || ci.source || null;
    const url = typeof ci.url === "string" ? ci.url : null;
    // A citation's URL is shown as text, not followed: it is data from the app.
    return [title ? h("strong", { text: title }) : null, title && url ? " " : null, url ? h("code", { text: url }) : null,
      !title && !url ? h("code", { text: JSON.stringify(ci) }) : null, ci.snippet ? h("div", { class: "muted", text: ci.snippet }) : null];
  }
  return h("code", { text: JSON.stringify(ci) });
}

async function userPage(id) {
  const u = await api("/tenant/users/" + encodeURIComponent(id));
  const [memories, documents, reminders] = await Promise.all([
    api("/tenant/users/" + id + "/memories?includeSuperseded=true"),
    api("/tenant/users/" + id + "/documents"),
    api("/tenant/users/" + id + "/reminders"),
  ]);
  const user = u.user;
  const expected = user.email || user.id;
  const confirmInput = h("input", { id: "erase-confirm", autocomplete: "off", spellcheck: "false" });
  const eraseResult = h("div", { role: "status" });
  const eraseButton = h("button", { type: "submit", class: "danger", text: "Erase this user" });
  const eraseForm = h("form", {
    class: "inline",
    onsubmit: async e => {
      e.preventDefault();
      if (confirmInput.value.trim().toLowerCase() !== expected.toLowerCase()) { eraseResult.replaceChildren(h("p", { class: "error", text: "Type " + expected + " exactly to confirm." })); return; }
      eraseButton.disabled = true;
      try {
        const report = await api("/tenant/users/" + user.id + "/erase", { method: "POST", body: { confirm: confirmInput.value } });
        eraseResult.replaceChildren(h("h3", { text: "Erased. Rows deleted per table:" }),
          table([{ title: "Table", cell: r => r[0] }, { title: "Rows", num: true, cell: r => num(r[1]) }], Object.entries(report)));
      } catch (err) { eraseButton.disabled = false; eraseResult.replaceChildren(h("p", { class: "error", text: err.message })); }
    },
  }, h("label", { for: "erase-confirm" }, "Type " + expected + " to confirm"), confirmInput, eraseButton);
  return h("div", {},
    h("p", {}, link("#/users", "← Users")),
    h("h1", { text: user.name || user.email || user.id }),
    h("section", {}, facts([
      ["Id", h("code", { text: user.id })],
      ["Email", user.email || "—"],
      ["External id", user.externalId || "—"],
      ["Role", user.role],
      ["SSO", user.ssoProvider ? user.ssoProvider + " " + user.ssoId : "—"],
      ["Credit balance", h("span", { id: "balance", text: String(u.balance) })],
      ["Last login", time(user.lastLoginAt)],
      ["Created", time(user.createdAt)],
      ["Info", h("pre", { text: json(user.info) })],
    ]), h("p", {}, link("#/conversations?userId=" + user.id, "Conversations"), " · ", link("#/usage?userId=" + user.id, "Usage and credits"))),
    h("h2", { text: "Sessions" }),
    table([
      { title: "Created", cell: x => time(x.createdAt) },
      { title: "Last used", cell: x => time(x.lastAccessedAt) },
      { title: "Expires", cell: x => time(x.expiresAt) },
      { title: "IP", cell: x => x.ipAddress || "—" },
      { title: "User agent", cell: x => x.userAgent || "—" },
      { title: "Revoked", cell: x => time(x.revokedAt) },
    ], u.sessions),
    h("h2", { text: "Preferences" }),
    h("section", {}, facts([
      ["Preferences", h("pre", { text: json(u.preferences.preferences) })],
      ["Learned patterns", h("pre", { text: json(u.preferences.learnedPatterns) })],
      ["Feature toggles", h("pre", { text: json(u.preferences.featureToggles) })],
    ])),
    h("h2", { text: "Memories" }),
    table([
      { title: "Content", cell: x => link("#/memories/" + x.id, x.content) },
      { title: "Kind", cell: x => x.kind },
      { title: "Importance", num: true, cell: x => Number(x.importance).toFixed(2) },
      { title: "State", cell: x => x.supersededBy ? badge("superseded", "warn") : badge("current", "ok") },
      { title: "Created", cell: x => time(x.createdAt) },
    ], memories.items),
    h("h2", { text: "Documents" }),
    table([
      { title: "File", cell: x => link("#/documents/" + x.id, x.filename) },
      { title: "Type", cell: x => x.mimeType },
      { title: "Size", num: true, cell: x => num(x.sizeBytes) },
      { title: "Status", cell: x => badge(x.status, x.status === "ready" ? "ok" : x.status === "failed" ? "bad" : "warn") },
      { title: "Analyses", num: true, cell: x => num(x.lastAnalysisVersion) },
      { title: "Created", cell: x => time(x.createdAt) },
    ], documents.items),
    h("h2", { text: "Reminders" }),
    table([
      { title: "Title", cell: x => x.title },
      { title: "Due", cell: x => time(x.dueAt) },
      { title: "Recurrence", cell: x => x.recurrence || "—" },
      { title: "Time zone", cell: x => x.timezone },
      { title: "Status", cell: x => badge(x.status) },
      { title: "Sent", num: true, cell: x => num(x.sentCount) },
    ], reminders.items),
    h("h2", { text: "Export" }),
    h("section", {}, h("p", { class: "muted", text: "Everything this user owns, one JSON object per line (NDJSON)." }),
      h("button", { type: "button", id: "export", text: "Download export", onclick: () => exportUser(user.id) })),
    h("h2", { text: "Erase" }),
    h("section", {}, h("p", { text: "Erasing deletes this user and everything they own for good. It cannot be undone." }), eraseForm, eraseResult));
}

async function exportUser(userId) {
  try {
    const response = await api("/tenant/users/" + userId + "/export", { raw: true });
    const blob = await response.blob();
    const url = URL.createObjectURL(blob);
    const a = h("a", { href: url, download: "chatstore-user-" + userId + ".ndjson" });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
    say("Export downloaded.");
  } catch (err) { say(err.message); }
}

async function memoryPage(id) {
  const r = await api("/tenant/memories/" + encodeURIComponent(id));
  const m = r.memory;
  return h("div", {},
    h("p", {}, link("#/users/" + m.userId, "← User")),
    h("h1", { text: "Memory" }),
    h("section", {}, h("pre", { class: "content", text: m.content }), facts([
      ["Kind", m.kind], ["Importance", Number(m.importance).toFixed(2)], ["External id", m.externalId || "—"],
      ["State", m.supersededBy ? ["superseded by ", link("#/memories/" + m.supersededBy, m.supersededBy)] : "current"],
      ["Created", time(m.createdAt)], ["Metadata", h("pre", { text: json(m.metadata) })],
    ])),
    h("h2", { text: "Sources" }),
    table([
      { title: "Conversation", cell: x => link("#/conversations/" + x.conversationId, x.conversationId) },
      { title: "Message", cell: x => x.messageId || "—" },
      { title: "Linked", cell: x => time(x.createdAt) },
    ], r.sources),
    h("h2", { text: "History (oldest first)" }),
    table([
      { title: "Content", cell: x => x.id === m.id ? h("strong", { text: x.content }) : link("#/memories/" + x.id, x.content) },
      { title: "Kind", cell: x => x.kind },
      { title: "State", cell: x => x.supersededBy ? badge("superseded", "warn") : badge("current", "ok") },
      { title: "Created", cell: x => time(x.createdAt) },
    ], r.history));
}

async function documentPage(id) {
  const r = await api("/tenant/documents/" + encodeURIComponent(id));
  const d = r.document;
  return h("div", {},
    h("p", {}, link("#/users/" + d.userId, "← User")),
    h("h1", { text: d.filename }),
    h("section", {}, facts([
      ["Status", badge(d.status)], ["Type", d.mimeType], ["Size", num(d.sizeBytes) + " bytes"], ["Storage", d.storageUri || "—"],
      ["Conversation", d.conversationId ? link("#/conversations/" + d.conversationId, d.conversationId) : "—"],
      d.error ? ["Error", h("span", { class: "error", text: d.error })] : null, ["Created", time(d.createdAt)],
    ])),
    h("h2", { text: "Analyses (" + r.analyses.length + " versions, side by side)" }),
    r.analyses.length === 0 ? h("p", { class: "muted", text: "No analysis yet." }) :
      h("div", { class: "versions" }, r.analyses.map(a => h("section", { "aria-label": "Analysis version " + a.version },
        h("h3", { text: "Version " + a.version }),
        facts([["Category", a.category || "—"], ["Provider", a.provider || "—"], ["Model", a.model || "—"], ["Trace", a.traceId || "—"], ["Created", time(a.createdAt)]]),
        h("h4", { text: "Summary" }), h("pre", { text: a.summary }),
        h("h4", { text: "Result" }), h("pre", { class: "mono", text: json(a.result) })))));
}

// Usage: tokens per day stacked by model (bars) and cost per day (line), as SVG.
const palette = ["#2457c5", "#36a269", "#d9822b", "#8e44ad", "#c0392b", "#16a0a0", "#7f8c8d", "#b8a000"];

async function usagePage(params) {
  const userId = params.get("userId") || "";
  const from = params.get("from") || "";
  const to = params.get("to") || "";
  const r = await api("/tenant/usage" + query({ userId, from: isoDate(from), to: isoDate(to) }));
  const form = h("form", { class: "inline", "aria-label": "Usage filters", onsubmit: e => { e.preventDefault(); go("usage", formValues(e.target)); } },
    field("User id (empty: whole tenant)", h("input", { name: "userId", value: userId, size: 36 })),
    field("From", h("input", { name: "from", type: "date", value: from })),
    field("Before", h("input", { name: "to", type: "date", value: to })),
    h("button", { type: "submit", text: "Show" }));
  const totals = r.days.reduce((t, d) => ({ tokens: t.tokens + d.inputTokens + d.outputTokens, cost: t.cost + Number(d.costUsd), credits: t.credits + Number(d.credits) }), { tokens: 0, cost: 0, credits: 0 });
  return h("div", {},
    h("h1", { text: "Usage and credits" }),
    h("section", {}, form),
    h("section", {}, facts([
      ["Period", time(r.from) + " – " + time(r.to)],
      ["Tokens", num(totals.tokens)], ["Cost", money(totals.cost)], ["Credits used", String(totals.credits)],
      r.balance !== null && r.balance !== undefined ? ["Credit balance", String(r.balance)] : null,
    ])),
    h("section", { class: "chart" }, h("h2", { text: "Tokens and cost per day, by model" }), usageChart(r)),
    table([
      { title: "Day", cell: d => d.day },
      { title: "Model", cell: d => d.model || "(none)" },
      { title: "Input tokens", num: true, cell: d => num(d.inputTokens) },
      { title: "Output tokens", num: true, cell: d => num(d.outputTokens) },
      { title: "Cost", num: true, cell: d => money(d.costUsd) },
      { title: "Credits", num: true, cell: d => String(d.credits) },
      { title: "Events", num: true, cell: d => num(d.eventCount) },
    ], r.days));
}

function usageChart(r) {
  const start = new Date(r.from); const end = new Date(r.to);
  const days = [];
  for (let d = new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth(), start.getUTCDate())); d < end; d.setUTCDate(d.getUTCDate() + 1))
    days.push(d.toISOString().slice(0, 10));
  const models = [...new Set(r.days.map(d => d.model || "(none)"))];
  const byDay = new Map(days.map(d => [d, { tokens: new Map(), cost: 0 }]));
  for (const row of r.days) {
    const day = byDay.get(row.day); if (!day) continue;
    const m = row.model || "(none)";
    day.tokens.set(m, (day.tokens.get(m) || 0) + row.inputTokens + row.outputTokens);
    day.cost += Number(row.costUsd);
  }
  const W = 900, H = 280, L = 60, R = 60, T = 10, B = 40;
  const maxTokens = Math.max(1, ...[...byDay.values()].map(d => [...d.tokens.values()].reduce((a, b) => a + b, 0)));
  const maxCost = Math.max(0.000001, ...[...byDay.values()].map(d => d.cost));
  const step = (W - L - R) / Math.max(1, days.length);
  const y = v => T + (H - T - B) * (1 - v / maxTokens);
  const yc = v => T + (H - T - B) * (1 - v / maxCost);
  const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-labelledby": "chart-title" },
    s("title", { id: "chart-title", text: `Tokens per day by model (bars, left axis, max ${maxTokens.toLocaleString("en-US")}) and cost per day (line, right axis, max $${maxCost.toFixed(4)})` }),
    s("line", { x1: L, y1: H - B, x2: W - R, y2: H - B, stroke: "#999" }),
    s("text", { x: L - 6, y: T + 10, "text-anchor": "end", "font-size": 11, fill: "#555", text: maxTokens.toLocaleString("en-US") }),
    s("text", { x: L - 6, y: H - B, "text-anchor": "end", "font-size": 11, fill: "#555", text: "0" }),
    s("text", { x: W - R + 6, y: T + 10, "font-size": 11, fill: "#555", text: "$" + maxCost.toFixed(4) }));
  days.forEach((day, i) => {
    let base = 0;
    const x = L + i * step + step * 0.15;
    models.forEach((m, j) => {
      const v = byDay.get(day).tokens.get(m) || 0;
      if (!v) return;
      svg.append(s("rect", { x, y: y(base + v), width: Math.max(1, step * 0.7), height: y(base) - y(base + v), fill: palette[j % palette.length] },
        s("title", { text: `${day} ${m}: ${v.toLocaleString("en-US")} tokens` })));
      base += v;
    });
    if (i % Math.ceil(days.length / 8) === 0)
      svg.append(s("text", { x: L + i * step, y: H - B + 16, "font-size": 11, fill: "#555", text: day.slice(5) }));
  });
  const points = days.map((day, i) => `${L + i * step + step / 2},${yc(byDay.get(day).cost)}`).join(" ");
  svg.append(s("polyline", { points, fill: "none", stroke: "#c0392b", "stroke-width": 2 }));
  const legend = h("div", { class: "legend" }, models.map((m, j) => {
    const sw = h("span", { class: "swatch" });
    sw.style.backgroundColor = palette[j % palette.length];
    return h("span", {}, sw, m);
  }), (() => { const sw = h("span", { class: "swatch" }); sw.style.backgroundColor = "#c0392b"; return h("span", {}, sw, "cost (USD)"); })());
  return h("div", {}, svg, legend);
}

// The search playground. Snippets come marked with \u0002 … \u0003 and are shown with <mark> elements
// built around text nodes, so a snippet's own markup stays text.
function snippet(text) {
  if (!text) return "—";
  const out = h("span", {});
  for (const [i, part] of text.split(/[\u0002\u0003]/).entries())
    out.append(i % 2 === 1 ? h("mark", { text: part }) : document.createTextNode(part));
  return out;
}

function hitLink(hit) {
  const id = hit.id;
  if (hit.kind === "message" && hit.conversationId) return link("#/conversations/" + hit.conversationId, "message " + shortId(id));
  if (hit.kind === "memory") return link("#/memories/" + id, "memory " + shortId(id));
  if (hit.kind === "document") return link("#/documents/" + id, "document " + shortId(id));
  if (hit.kind === "analysis" && hit.documentId) return link("#/documents/" + hit.documentId, "analysis of " + shortId(hit.documentId));
  return hit.kind + " " + shortId(id);
}

async function searchPage(params) {
  const spaces = await api("/tenant/embedding-spaces");
  const mode = params.get("mode") || "full-text";
  const text = params.get("text") || "";
  const space = params.get("space") || (spaces[0] ? spaces[0].name : "");
  const userId = params.get("userId") || "";
  const form = h("form", { class: "inline", role: "search", onsubmit: e => { e.preventDefault(); go("search", formValues(e.target)); } },
    field("Search for", h("input", { name: "text", value: text, type: "search", size: 40, required: true })),
    field("Mode", h("select", { name: "mode" }, [["full-text", "Full text"], ["vector", "Vector (embedded text)"], ["hybrid", "Hybrid"]]
      .map(([v, t]) => h("option", { value: v, selected: v === mode, text: t })))),
    field("Embedding space", h("select", { name: "space" }, spaces.length === 0 ? h("option", { value: "", text: "(none registered)" })
      : spaces.map(sp => h("option", { value: sp.name, selected: sp.name === space, text: sp.name + " (" + sp.model + ", " + sp.dimensions + ")" })))),
    field("User id (optional)", h("input", { name: "userId", value: userId, size: 36 })),
    h("button", { type: "submit", text: "Search" }));
  const parts = [h("h1", { text: "Search playground" }), h("section", {}, form)];
  if (text) {
    const started = performance.now();
    const r = await api("/tenant/search", { method: "POST", body: { mode, text, space: mode === "full-text" ? null : space, userId: userId || null } });
    const ms = Math.round(performance.now() - started);
    let rows, columns;
    if (r.mode === "full-text") {
      rows = r.fullText;
      columns = [
        { title: "#", num: true, cell: x => String(rows.indexOf(x) + 1) },
        { title: "Rank", num: true, cell: x => Number(x.rank).toFixed(4) },
        { title: "Kind", cell: x => x.kind + (x.role ? " · " + x.role : "") },
        { title: "Snippet", cell: x => snippet(x.snippet) },
        { title: "Where", cell: hitLink },
        { title: "Created", cell: x => time(x.createdAt) },
      ];
    } else if (r.mode === "vector") {
      rows = r.vector;
      columns = [
        { title: "#", num: true, cell: x => String(rows.indexOf(x) + 1) },
        { title: "Distance", num: true, cell: x => Number(x.distance).toFixed(4) },
        { title: "Kind", cell: x => x.kind },
        { title: "Chunk", cell: x => x.chunkText ? x.chunkText : "chunk " + x.chunkIndex },
        { title: "Where", cell: hitLink },
      ];
    } else {
      rows = r.hybrid;
      columns = [
        { title: "#", num: true, cell: x => String(rows.indexOf(x) + 1) },
        { title: "Score", num: true, cell: x => Number(x.score).toFixed(5) },
        { title: "Full-text rank", num: true, cell: x => x.fullTextRank ?? "—" },
        { title: "Vector rank", num: true, cell: x => x.vectorRank ?? "—" },
        { title: "Kind", cell: x => x.kind },
        { title: "Snippet", cell: x => x.snippet ? snippet(x.snippet) : (x.chunkText || "—") },
        { title: "Where", cell: hitLink },
      ];
    }
    parts.push(h("p", { class: "muted", text: rows.length + " result(s) in " + ms + " ms" }), h("div", { id: "results" }, table(columns, rows)));
  }
  return h("div", {}, parts);
}

render();
