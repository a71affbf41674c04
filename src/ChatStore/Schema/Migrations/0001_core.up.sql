-- ChatStore core schema. {schema} is the quoted schema name, {app_role} the quoted
-- application role (NOBYPASSRLS, owns nothing). Row-level security is enabled and forced on
-- every tenant-owned table; the tenant comes from the transaction-local setting
-- chatstore.tenant_id, so with no tenant set no row is visible.

CREATE FUNCTION {schema}.chatstore_touch_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION {schema}.chatstore_touch_updated_at() IS 'Keeps updated_at current on every UPDATE.';

-- Tenants ---------------------------------------------------------------------------------

CREATE TABLE {schema}.tenants (
    id                           uuid PRIMARY KEY,
    name                         text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    roles                        text[] NOT NULL DEFAULT '{user,admin}' CHECK (cardinality(roles) BETWEEN 1 AND 50),
    default_role                 text NOT NULL DEFAULT 'user',
    search_language              regconfig NOT NULL DEFAULT 'english',
    settings                     jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(settings) = 'object'),
    retention_inactive_days      integer CHECK (retention_inactive_days > 0),
    retention_purge_deleted_days integer CHECK (retention_purge_deleted_days >= 0),
    created_at                   timestamptz NOT NULL DEFAULT now(),
    updated_at                   timestamptz NOT NULL DEFAULT now(),
    CHECK (default_role = ANY (roles))
);
COMMENT ON TABLE {schema}.tenants IS 'An organisation or app using ChatStore: its role set, search language and retention policy.';

CREATE TABLE {schema}.api_keys (
    id           uuid PRIMARY KEY,
    tenant_id    uuid NOT NULL REFERENCES {schema}.tenants (id) ON DELETE CASCADE,
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    key_hash     bytea NOT NULL UNIQUE,
    key_prefix   text NOT NULL,
    scopes       text[] NOT NULL DEFAULT '{}',
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    expires_at   timestamptz,
    revoked_at   timestamptz
);
CREATE INDEX api_keys_tenant_idx ON {schema}.api_keys (tenant_id, created_at);
COMMENT ON TABLE {schema}.api_keys IS 'Tenant API keys; only a SHA-256 hash of each key is stored.';

-- Users and sessions ----------------------------------------------------------------------

CREATE TABLE {schema}.users (
    id            uuid PRIMARY KEY,
    tenant_id     uuid NOT NULL REFERENCES {schema}.tenants (id) ON DELETE CASCADE,
    external_id   text,
    email         text,
    name          text,
    role          text NOT NULL CHECK (role <> ''),
    sso_provider  text,
    sso_id        text,
    info          jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(info) = 'object'),
    last_login_at timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    deleted_at    timestamptz,
    CHECK ((sso_provider IS NULL) = (sso_id IS NULL))
);
CREATE UNIQUE INDEX users_email_key ON {schema}.users (tenant_id, lower(email)) WHERE email IS NOT NULL;
CREATE UNIQUE INDEX users_external_id_key ON {schema}.users (tenant_id, external_id) WHERE external_id IS NOT NULL;
CREATE UNIQUE INDEX users_sso_key ON {schema}.users (tenant_id, sso_provider, sso_id) WHERE sso_provider IS NOT NULL;
CREATE INDEX users_tenant_list_idx ON {schema}.users (tenant_id, id);
COMMENT ON TABLE {schema}.users IS 'People using a tenant''s app; email unique per tenant, case-insensitive; role from the tenant''s role set.';

CREATE TABLE {schema}.sessions (
    id               uuid PRIMARY KEY,
    tenant_id        uuid NOT NULL REFERENCES {schema}.tenants (id) ON DELETE CASCADE,
    user_id          uuid NOT NULL REFERENCES {schema}.users (id) ON DELETE CASCADE,
    token_hash       bytea NOT NULL UNIQUE,
    created_at       timestamptz NOT NULL DEFAULT now(),
    expires_at       timestamptz NOT NULL,
    last_accessed_at timestamptz NOT NULL DEFAULT now(),
    revoked_at       timestamptz,
    ip_address       text,
    user_agent       text,
    CHECK (expires_at > created_at)
);
CREATE INDEX sessions_user_idx ON {schema}.sessions (tenant_id, user_id);
CREATE INDEX sessions_expiry_idx ON {schema}.sessions (tenant_id, expires_at);
COMMENT ON TABLE {schema}.sessions IS 'Login sessions; only a SHA-256 hash of each token is stored.';

-- Subjects and conversations --------------------------------------------------------------

CREATE TABLE {schema}.subjects (
    id         uuid PRIMARY KEY,
    tenant_id  uuid NOT NULL REFERENCES {schema}.tenants (id) ON DELETE CASCADE,
    user_id    uuid NOT NULL REFERENCES {schema}.users (id) ON DELETE CASCADE,
    kind       text NOT NULL CHECK (length(kind) BETWEEN 1 AND 100),
    name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 500),
    attributes jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(attributes) = 'object'),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz
);
CREATE INDEX subjects_user_idx ON {schema}.subjects (tenant_id, user_id, kind);
COMMENT ON TABLE {schema}.subjects IS 'What a conversation is about: a dog profile, a property, a student (kind + attributes).';

CREATE TABLE {schema}.conversations (
    id               uuid PRIMARY KEY,
    tenant_id        uuid NOT NULL REFERENCES {schema}.tenants (id) ON DELETE CASCADE,
    user_id          uuid NOT NULL REFERENCES {schema}.users (id) ON DELETE CASCADE,
    title            text NOT NULL DEFAULT '',
    status           text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'archived')),
    pinned           boolean NOT NULL DEFAULT false,
    mode             text,
    state            jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(state) = 'object'),
    subject_id       uuid REFERENCES {schema}.subjects (id) ON DELETE SET NULL,
    metadata         jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
    last_seq         bigint NOT NULL DEFAULT 0 CHECK (last_seq >= 0),
    message_count    integer NOT NULL DEFAULT 0 CHECK (message_count >= 0),
    last_message_at  timestamptz,
    last_activity_at timestamptz NOT NULL DEFAULT now(),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    deleted_at       timestamptz
);
-- A user's conversations, most recently active first; keyset on (last_activity_at, id).
CREATE INDEX conversations_recent_idx ON {schema}.conversations (tenant_id, user_id, last_activity_at DESC, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX conversations_subject_idx ON {schema}.conversations (subject_id) WHERE subject_id IS NOT NULL;
CREATE INDEX conversations_deleted_idx ON {schema}.conversations (tenant_id, deleted_at) WHERE deleted_at IS NOT NULL;
COMMENT ON TABLE {schema}.conversations IS 'A user''s chat thread: title, status, mode and state, the last message sequence number.';

CREATE TABLE {schema}.conversation_shares (
    id              uuid PRIMARY KEY,
    tenant_id       uuid NOT NULL REFERENCES {schema}.tenants (id) ON DELETE CASCADE,
    conversation_id uuid NOT NULL REFERENCES {schema}.conversations (id) ON DELETE CASCADE,
    created_by      uuid REFERENCES {schema}.users (id) ON DELETE CASCADE,
    token_hash      bytea NOT NULL UNIQUE,
    up_to_seq       bigint NOT NULL CHECK (up_to_seq >= 0),
    created_at      timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz,
    revoked_at      timestamptz
);
CREATE INDEX conversation_shares_conversation_idx ON {schema}.conversation_shares (conversation_id);
COMMENT ON TABLE {schema}.conversation_shares IS 'Public share links: a hashed 128-bit token showing a conversation up to a sequence number.';

-- Documents (before messages, which link to them) -----------------------------------------

CREATE TABLE {schema}.documents (
    id                    uuid PRIMARY KEY,
    tenant_id             uuid NOT NULL REFERENCES {schema}.tenants (id) ON DELETE CASCADE,
    user_id               uuid NOT NULL REFERENCES {schema}.users (id) ON DELETE CASCADE,
    conversation_id       uuid REFERENCES {schema}.conversations (id) ON DELETE SET NULL,
    filename              text NOT NULL CHECK (length(filename) BETWEEN 1 AND 1000),
    mime_type             text NOT NULL DEFAULT 'application/octet-stream',
    size_bytes            bigint NOT NULL DEFAULT 0 CHECK (size_bytes >= 0),
    sha256                bytea CHECK (sha256 IS NULL OR length(sha256) = 32),
    storage_uri           text,
    status                text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'processing', 'ready', 'failed')),
    error                 text,
    extracted_text        text,
    metadata              jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
    last_analysis_version integer NOT NULL DEFAULT 0 CHECK (last_analysis_version >= 0),
    language              regconfig NOT NULL DEFAULT 'english',
    -- Indexed up to 100,000 characters (a tsvector is limited to 1 MB); the text is stored whole.
    search_vector         tsvector GENERATED ALWAYS AS (
                              to_tsvector(language, left(filename || ' ' || coalesce(extracted_text, ''), 100000))) STORED,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    deleted_at            timestamptz
);
CREATE INDEX documents_user_idx ON {schema}.documents (tenant_id, user_id, created_at DESC);
CREATE INDEX documents_search_idx ON {schema}.documents USING gin (search_vector);
COMMENT ON TABLE {schema}.documents IS 'Uploaded documents: storage location, size, hash, processing status and extracted text.';

CREATE TABLE {schema}.document_analyses (
    id            uuid PRIMARY KEY,
    tenant_id     uuid NOT NULL REFERENCES {schema}.tenants (id) ON DELETE CASCADE,
    document_id   uuid NOT NULL REFERENCES {schema}.documents (id) ON DELETE CASCADE,
    version       integer NOT NULL CHECK (version >= 1),
    category      text,
    summary       text NOT NULL DEFAULT '',
    result        jsonb NOT NULL DEFAULT '{}',
    provider      text,
    model         text,
    trace_id      text,
    language      regconfig NOT NULL DEFAULT 'english',
    search_vector tsvector GENERATED ALWAYS AS (
                      to_tsvector(language, left(coalesce(category, '') || ' ' || summary, 100000))) STORED,
    created_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (document_id, version)
);
CREATE INDEX document_analyses_search_idx ON {schema}.document_analyses USING gin (search_vector);
COMMENT ON TABLE {schema}.document_analyses IS 'Versioned AI analyses of a document; versions are gapless per document.';

-- Messages --------------------------------------------------------------------------------

CREATE TABLE {schema}.messages (
    id              uuid PRIMARY KEY,
    tenant_id       uuid NOT NULL REFERENCES {schema}.tenants (id) ON DELETE CASCADE,
    conversation_id uuid NOT NULL REFERENCES {schema}.conversations (id) ON DELETE CASCADE,
    user_id         uuid NOT NULL REFERENCES {schema}.users (id) ON DELETE CASCADE,
    seq             bigint NOT NULL CHECK (seq >= 1),
    role            text NOT NULL CHECK (role IN ('user', 'assistant', 'system', 'tool')),
    content         text NOT NULL DEFAULT '',
    status          text NOT NULL DEFAULT 'complete' CHECK (status IN ('complete', 'streaming', 'error')),
    parent_id       uuid REFERENCES {schema}.messages (id) ON DELETE SET NULL,
    citations       jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(citations) = 'array'),
    metadata        jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
    domains         text[] NOT NULL DEFAULT '{}',
    model           text,
    input_tokens    integer NOT NULL DEFAULT 0 CHECK (input_tokens >= 0),
    output_tokens   integer NOT NULL DEFAULT 0 CHECK (output_tokens >= 0),
    cost_usd        numeric(18, 8) NOT NULL DEFAULT 0 CHECK (cost_usd >= 0),
    response_ms     integer CHECK (response_ms >= 0),
    error           text,
    idempotency_key text,
    request_hash    bytea,
    language        regconfig NOT NULL DEFAULT 'english',
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    edited_at       timestamptz,
    deleted_at      timestamptz,
    date_group      date GENERATED ALWAYS AS ((created_at AT TIME ZONE 'UTC')::date) STORED,
    -- Indexed up to 100,000 characters (a tsvector is limited to 1 MB); the content is stored whole.
    search_vector   tsvector GENERATED ALWAYS AS (to_tsvector(language, left(content, 100000))) STORED,
    CONSTRAINT messages_conversation_seq_key UNIQUE (conversation_id, seq)
);
CREATE UNIQUE INDEX messages_idempotency_key ON {schema}.messages (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX messages_user_time_idx ON {schema}.messages (tenant_id, user_id, created_at DESC);
CREATE INDEX messages_parent_idx ON {schema}.messages (parent_id) WHERE parent_id IS NOT NULL;
CREATE INDEX messages_search_idx ON {schema}.messages USING gin (search_vector);
COMMENT ON TABLE {schema}.messages IS 'Messages of a conversation, gapless seq per conversation, with tokens, cost, citations and search vector.';

CREATE TABLE {schema}.message_feedback (
    id         uuid PRIMARY KEY,
    tenant_id  uuid NOT NULL REFERENCES {schema}.tenants (id) ON DELETE CASCADE,
    message_id uuid NOT NULL REFERENCES {schema}.messages (id) ON DELETE CASCADE,
    user_id    uuid NOT NULL REFERENCES {schema}.users (id) ON DELETE CASCADE,
    rating     text CHECK (rating IN ('like', 'dislike')),
    score      smallint CHECK (score BETWEEN 1 AND 10),
    comment    text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT message_feedback_message_user_key UNIQUE (message_id, user_id),
    CHECK (rating IS NOT NULL OR score IS NOT NULL)
);
CREATE INDEX message_feedback_user_idx ON {schema}.message_feedback (tenant_id, user_id);
COMMENT ON TABLE {schema}.message_feedback IS 'Like/dislike or a score from a user on a message; one per user per message.';

CREATE TABLE {schema}.message_corrections (
    id                uuid PRIMARY KEY,
    tenant_id         uuid NOT NULL REFERENCES {schema}.tenants (id) ON DELETE CASCADE,
    message_id        uuid NOT NULL REFERENCES {schema}.messages (id) ON DELETE CASCADE,
    user_id           uuid NOT NULL REFERENCES {schema}.users (id) ON DELETE CASCADE,
    original_content  text NOT NULL,
    corrected_content text NOT NULL,
    reason            text,
    created_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX message_corrections_message_idx ON {schema}.message_corrections (message_id);
CREATE INDEX message_corrections_user_idx ON {schema}.message_corrections (tenant_id, user_id);
COMMENT ON TABLE {schema}.message_corrections IS 'Corrections users made to messages, kept for learning.';

CREATE TABLE {schema}.message_documents (
    tenant_id   uuid NOT NULL REFERENCES {schema}.tenants (id) ON DELETE CASCADE,
    message_id  uuid NOT NULL REFERENCES {schema}.messages (id) ON DELETE CASCADE,
    document_id uuid NOT NULL REFERENCES {schema}.documents (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (message_id, document_id)
);
CREATE INDEX message_documents_document_idx ON {schema}.message_documents (document_id);
COMMENT ON TABLE {schema}.message_documents IS 'Which documents a message refers to.';

-- Memories --------------------------------------------------------------------------------

CREATE TABLE {schema}.memories (
    id            uuid PRIMARY KEY,
    tenant_id     uuid NOT NULL REFERENCES {schema}.tenants (id) ON DELETE CASCADE,
    user_id       uuid NOT NULL REFERENCES {schema}.users (id) ON DELETE CASCADE,
    content       text NOT NULL CHECK (content <> ''),
    kind          text NOT NULL DEFAULT 'fact' CHECK (kind IN ('fact', 'preference', 'instruction', 'goal', 'episode', 'summary')),
    importance    real NOT NULL DEFAULT 0.5 CHECK (importance BETWEEN 0 AND 1),
    external_id   text,
    content_hash  bytea NOT NULL,
    superseded_by uuid REFERENCES {schema}.memories (id) ON DELETE SET NULL,
    metadata      jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
    language      regconfig NOT NULL DEFAULT 'english',
    search_vector tsvector GENERATED ALWAYS AS (to_tsvector(language, left(content, 100000))) STORED,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    deleted_at    timestamptz
);
-- Dedupe: one live memory per user per normalised content.
CREATE UNIQUE INDEX memories_content_key ON {schema}.memories (tenant_id, user_id, content_hash) WHERE deleted_at IS NULL AND superseded_by IS NULL;
CREATE UNIQUE INDEX memories_external_id_key ON {schema}.memories (tenant_id, user_id, external_id) WHERE external_id IS NOT NULL AND deleted_at IS NULL AND superseded_by IS NULL;
CREATE INDEX memories_user_idx ON {schema}.memories (tenant_id, user_id, created_at DESC, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX memories_search_idx ON {schema}.memories USING gin (search_vector);
COMMENT ON TABLE {schema}.memories IS 'Facts and preferences distilled from chats; deduplicated by content hash, history through superseded_by.';

CREATE TABLE {schema}.memory_sources (
    tenant_id       uuid NOT NULL REFERENCES {schema}.tenants (id) ON DELETE CASCADE,
    memory_id       uuid NOT NULL REFERENCES {schema}.memories (id) ON DELETE CASCADE,
    conversation_id uuid NOT NULL REFERENCES {schema}.conversations (id) ON DELETE CASCADE,
    message_id      uuid REFERENCES {schema}.messages (id) ON DELETE CASCADE,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX memory_sources_key ON {schema}.memory_sources (memory_id, conversation_id, coalesce(message_id, '00000000-0000-0000-0000-000000000000'));
CREATE INDEX memory_sources_conversation_idx ON {schema}.memory_sources (conversation_id);
COMMENT ON TABLE {schema}.memory_sources IS 'The conversations and messages a memory was distilled from.';

-- Embeddings ------------------------------------------------------------------------------

CREATE TABLE {schema}.embedding_spaces (
    id           uuid PRIMARY KEY,
    name         text NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9][a-z0-9_.-]{0,62}$'),
    model        text NOT NULL,
    dimensions   integer NOT NULL CHECK (dimensions BETWEEN 1 AND 16000),
    metric       text NOT NULL DEFAULT 'cosine' CHECK (metric IN ('cosine', 'l2', 'inner_product')),
    index_kind   text NOT NULL DEFAULT 'hnsw' CHECK (index_kind IN ('hnsw', 'ivfflat', 'none')),
    index_params jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(index_params) = 'object'),
    created_at   timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE {schema}.embedding_spaces IS 'An embedding space: model, dimensions, distance metric and index kind; shared by all tenants.';

CREATE TABLE {schema}.embeddings (
    id              uuid PRIMARY KEY,
    tenant_id       uuid NOT NULL REFERENCES {schema}.tenants (id) ON DELETE CASCADE,
    space_id        uuid NOT NULL REFERENCES {schema}.embedding_spaces (id) ON DELETE CASCADE,
    user_id         uuid REFERENCES {schema}.users (id) ON DELETE CASCADE,
    message_id      uuid REFERENCES {schema}.messages (id) ON DELETE CASCADE,
    memory_id       uuid REFERENCES {schema}.memories (id) ON DELETE CASCADE,
    document_id     uuid REFERENCES {schema}.documents (id) ON DELETE CASCADE,
    analysis_id     uuid REFERENCES {schema}.document_analyses (id) ON DELETE CASCADE,
    subject_id      uuid REFERENCES {schema}.subjects (id) ON DELETE CASCADE,
    conversation_id uuid REFERENCES {schema}.conversations (id) ON DELETE CASCADE,
    chunk_index     integer NOT NULL DEFAULT 0 CHECK (chunk_index >= 0),
    chunk_text      text,
    embedding       vector NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT embeddings_one_owner CHECK (num_nonnulls(message_id, memory_id, document_id, analysis_id, subject_id) = 1)
);
CREATE INDEX embeddings_owner_message_idx ON {schema}.embeddings (message_id) WHERE message_id IS NOT NULL;
CREATE INDEX embeddings_owner_memory_idx ON {schema}.embeddings (memory_id) WHERE memory_id IS NOT NULL;
CREATE INDEX embeddings_owner_document_idx ON {schema}.embeddings (document_id) WHERE document_id IS NOT NULL;
CREATE INDEX embeddings_owner_analysis_idx ON {schema}.embeddings (analysis_id) WHERE analysis_id IS NOT NULL;
CREATE INDEX embeddings_owner_subject_idx ON {schema}.embeddings (subject_id) WHERE subject_id IS NOT NULL;
CREATE INDEX embeddings_user_idx ON {schema}.embeddings (tenant_id, space_id, user_id);
COMMENT ON TABLE {schema}.embeddings IS 'Vectors in an embedding space, each owned by exactly one message, memory, document chunk, analysis or subject.';

-- Preferences, reminders, usage, search history, cache ------------------------------------

CREATE TABLE {schema}.user_preferences (
    tenant_id        uuid NOT NULL REFERENCES {schema}.tenants (id) ON DELETE CASCADE,
    user_id          uuid PRIMARY KEY REFERENCES {schema}.users (id) ON DELETE CASCADE,
    preferences      jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(preferences) = 'object'),
    learned_patterns jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(learned_patterns) = 'object'),
    feature_toggles  jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(feature_toggles) = 'object'),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE {schema}.user_preferences IS 'A user''s preferences, learned patterns and feature toggles.';

CREATE TABLE {schema}.reminders (
    id              uuid PRIMARY KEY,
    tenant_id       uuid NOT NULL REFERENCES {schema}.tenants (id) ON DELETE CASCADE,
    user_id         uuid NOT NULL REFERENCES {schema}.users (id) ON DELETE CASCADE,
    conversation_id uuid REFERENCES {schema}.conversations (id) ON DELETE SET NULL,
    title           text NOT NULL CHECK (length(title) BETWEEN 1 AND 500),
    body            text,
    due_at          timestamptz NOT NULL,
    recurrence      text,
    timezone        text NOT NULL DEFAULT 'UTC',
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'completed', 'cancelled')),
    claimed_at      timestamptz,
    sent_count      integer NOT NULL DEFAULT 0 CHECK (sent_count >= 0),
    metadata        jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX reminders_due_idx ON {schema}.reminders (tenant_id, due_at) WHERE status = 'pending';
CREATE INDEX reminders_user_idx ON {schema}.reminders (tenant_id, user_id, due_at);
COMMENT ON TABLE {schema}.reminders IS 'Reminders with optional RRULE recurrence; due ones are claimed with SKIP LOCKED.';

CREATE TABLE {schema}.usage_events (
    id              uuid PRIMARY KEY,
    tenant_id       uuid NOT NULL REFERENCES {schema}.tenants (id) ON DELETE CASCADE,
    user_id         uuid NOT NULL REFERENCES {schema}.users (id) ON DELETE CASCADE,
    conversation_id uuid REFERENCES {schema}.conversations (id) ON DELETE SET NULL,
    message_id      uuid REFERENCES {schema}.messages (id) ON DELETE SET NULL,
    action          text NOT NULL CHECK (length(action) BETWEEN 1 AND 100),
    model           text,
    input_tokens    integer NOT NULL DEFAULT 0 CHECK (input_tokens >= 0),
    output_tokens   integer NOT NULL DEFAULT 0 CHECK (output_tokens >= 0),
    credits         numeric(18, 4) NOT NULL DEFAULT 0 CHECK (credits >= 0),
    cost_usd        numeric(18, 8) NOT NULL DEFAULT 0 CHECK (cost_usd >= 0),
    metadata        jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
    occurred_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX usage_events_user_time_idx ON {schema}.usage_events (tenant_id, user_id, occurred_at);
COMMENT ON TABLE {schema}.usage_events IS 'Per-action token, credit and cost records.';

CREATE TABLE {schema}.credit_balances (
    tenant_id  uuid NOT NULL REFERENCES {schema}.tenants (id) ON DELETE CASCADE,
    user_id    uuid PRIMARY KEY REFERENCES {schema}.users (id) ON DELETE CASCADE,
    balance    numeric(18, 4) NOT NULL DEFAULT 0 CHECK (balance >= 0),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE {schema}.credit_balances IS 'Credit balance per user; debits never take it below zero.';

CREATE TABLE {schema}.search_history (
    id           uuid PRIMARY KEY,
    tenant_id    uuid NOT NULL REFERENCES {schema}.tenants (id) ON DELETE CASCADE,
    user_id      uuid NOT NULL REFERENCES {schema}.users (id) ON DELETE CASCADE,
    query        text NOT NULL,
    mode         text NOT NULL DEFAULT 'fts' CHECK (mode IN ('fts', 'vector', 'hybrid')),
    result_count integer NOT NULL DEFAULT 0 CHECK (result_count >= 0),
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX search_history_user_idx ON {schema}.search_history (tenant_id, user_id, created_at DESC);
COMMENT ON TABLE {schema}.search_history IS 'Searches a user ran.';

CREATE TABLE {schema}.cache_entries (
    tenant_id  uuid NOT NULL REFERENCES {schema}.tenants (id) ON DELETE CASCADE,
    key        text NOT NULL CHECK (length(key) BETWEEN 1 AND 500),
    user_id    uuid REFERENCES {schema}.users (id) ON DELETE CASCADE,
    value      jsonb NOT NULL,
    expires_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, key)
);
CREATE INDEX cache_entries_expiry_idx ON {schema}.cache_entries (expires_at) WHERE expires_at IS NOT NULL;
COMMENT ON TABLE {schema}.cache_entries IS 'A keyed cache with expiry; expired entries read as misses.';

-- updated_at ------------------------------------------------------------------------------

CREATE TRIGGER tenants_touch_updated_at BEFORE UPDATE ON {schema}.tenants FOR EACH ROW EXECUTE FUNCTION {schema}.chatstore_touch_updated_at();
CREATE TRIGGER users_touch_updated_at BEFORE UPDATE ON {schema}.users FOR EACH ROW EXECUTE FUNCTION {schema}.chatstore_touch_updated_at();
CREATE TRIGGER subjects_touch_updated_at BEFORE UPDATE ON {schema}.subjects FOR EACH ROW EXECUTE FUNCTION {schema}.chatstore_touch_updated_at();
CREATE TRIGGER conversations_touch_updated_at BEFORE UPDATE ON {schema}.conversations FOR EACH ROW EXECUTE FUNCTION {schema}.chatstore_touch_updated_at();
CREATE TRIGGER documents_touch_updated_at BEFORE UPDATE ON {schema}.documents FOR EACH ROW EXECUTE FUNCTION {schema}.chatstore_touch_updated_at();
CREATE TRIGGER messages_touch_updated_at BEFORE UPDATE ON {schema}.messages FOR EACH ROW EXECUTE FUNCTION {schema}.chatstore_touch_updated_at();
CREATE TRIGGER message_feedback_touch_updated_at BEFORE UPDATE ON {schema}.message_feedback FOR EACH ROW EXECUTE FUNCTION {schema}.chatstore_touch_updated_at();
CREATE TRIGGER memories_touch_updated_at BEFORE UPDATE ON {schema}.memories FOR EACH ROW EXECUTE FUNCTION {schema}.chatstore_touch_updated_at();
CREATE TRIGGER user_preferences_touch_updated_at BEFORE UPDATE ON {schema}.user_preferences FOR EACH ROW EXECUTE FUNCTION {schema}.chatstore_touch_updated_at();
CREATE TRIGGER reminders_touch_updated_at BEFORE UPDATE ON {schema}.reminders FOR EACH ROW EXECUTE FUNCTION {schema}.chatstore_touch_updated_at();
CREATE TRIGGER credit_balances_touch_updated_at BEFORE UPDATE ON {schema}.credit_balances FOR EACH ROW EXECUTE FUNCTION {schema}.chatstore_touch_updated_at();

-- Row-level security: every tenant-owned table, enabled and forced ------------------------

ALTER TABLE {schema}.tenants ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
-- Operators (chatstore.operator = 'on') see every tenant row to manage tenants; nothing else.
CREATE POLICY tenant_isolation ON {schema}.tenants
    USING (id = NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid OR current_setting('chatstore.operator', true) = 'on')
    WITH CHECK (id = NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid OR current_setting('chatstore.operator', true) = 'on');
ALTER TABLE {schema}.api_keys ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON {schema}.api_keys
    USING (tenant_id = NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid);
ALTER TABLE {schema}.users ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON {schema}.users
    USING (tenant_id = NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid);
ALTER TABLE {schema}.sessions ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON {schema}.sessions
    USING (tenant_id = NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid);
ALTER TABLE {schema}.subjects ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON {schema}.subjects
    USING (tenant_id = NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid);
ALTER TABLE {schema}.conversations ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON {schema}.conversations
    USING (tenant_id = NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid);
ALTER TABLE {schema}.conversation_shares ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON {schema}.conversation_shares
    USING (tenant_id = NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid);
ALTER TABLE {schema}.documents ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON {schema}.documents
    USING (tenant_id = NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid);
ALTER TABLE {schema}.document_analyses ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON {schema}.document_analyses
    USING (tenant_id = NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid);
ALTER TABLE {schema}.messages ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON {schema}.messages
    USING (tenant_id = NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid);
ALTER TABLE {schema}.message_feedback ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON {schema}.message_feedback
    USING (tenant_id = NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid);
ALTER TABLE {schema}.message_corrections ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON {schema}.message_corrections
    USING (tenant_id = NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid);
ALTER TABLE {schema}.message_documents ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON {schema}.message_documents
    USING (tenant_id = NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid);
ALTER TABLE {schema}.memories ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON {schema}.memories
    USING (tenant_id = NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid);
ALTER TABLE {schema}.memory_sources ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON {schema}.memory_sources
    USING (tenant_id = NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid);
ALTER TABLE {schema}.embeddings ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON {schema}.embeddings
    USING (tenant_id = NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid);
ALTER TABLE {schema}.user_preferences ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON {schema}.user_preferences
    USING (tenant_id = NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid);
ALTER TABLE {schema}.reminders ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON {schema}.reminders
    USING (tenant_id = NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid);
ALTER TABLE {schema}.usage_events ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON {schema}.usage_events
    USING (tenant_id = NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid);
ALTER TABLE {schema}.credit_balances ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON {schema}.credit_balances
    USING (tenant_id = NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid);
ALTER TABLE {schema}.search_history ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON {schema}.search_history
    USING (tenant_id = NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid);
ALTER TABLE {schema}.cache_entries ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON {schema}.cache_entries
    USING (tenant_id = NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid);

-- The application role ---------------------------------------------------------------------

GRANT USAGE ON SCHEMA {schema} TO {app_role};
GRANT SELECT, INSERT, UPDATE, DELETE ON
    {schema}.tenants, {schema}.api_keys, {schema}.users, {schema}.sessions, {schema}.subjects,
    {schema}.conversations, {schema}.conversation_shares, {schema}.documents, {schema}.document_analyses,
    {schema}.messages, {schema}.message_feedback, {schema}.message_corrections, {schema}.message_documents,
    {schema}.memories, {schema}.memory_sources, {schema}.embeddings, {schema}.user_preferences,
    {schema}.reminders, {schema}.usage_events, {schema}.credit_balances, {schema}.search_history,
    {schema}.cache_entries
    TO {app_role};
GRANT SELECT ON {schema}.embedding_spaces TO {app_role};
