-- The WeCom-compatible open API: apps (自建应用), access tokens, conversations, messages.
-- Booleans are SMALLINT 0/1; lists are JSON text.

-- secret_hash: SHA-256 hex of the app secret (the secret is shown once). callback_* and
-- encoding_aes_key are what the app developer configured on their side.
-- visible_*: the app's visible range (JSON arrays of userids / department ids / tag ids).
CREATE TABLE jwwx_openapi_apps (
    agentid BIGINT NOT NULL PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    avatar TEXT,
    bot_user_id TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    visible_users TEXT NOT NULL,
    visible_departments TEXT NOT NULL,
    visible_tags TEXT NOT NULL,
    redirect_domain TEXT,
    ip_allowlist TEXT NOT NULL,
    callback_url TEXT,
    callback_token TEXT,
    encoding_aes_key TEXT,
    crypto_mode TEXT NOT NULL DEFAULT 'aes',
    directory_write SMALLINT NOT NULL DEFAULT 0,
    created_by TEXT NOT NULL,
    created_ts BIGINT NOT NULL,
    updated_ts BIGINT NOT NULL
);
CREATE UNIQUE INDEX jwwx_openapi_apps_secret ON jwwx_openapi_apps (secret_hash);

-- An access token is HMAC-SHA256(secret, agentid:issued_ts:salt); only its SHA-256 is
-- stored, so gettoken can hand out the same token again to a caller holding the secret.
CREATE TABLE jwwx_openapi_tokens (
    token_hash TEXT NOT NULL PRIMARY KEY,
    agentid BIGINT NOT NULL,
    salt TEXT NOT NULL,
    issued_ts BIGINT NOT NULL,
    expires_ts BIGINT NOT NULL
);
CREATE INDEX jwwx_openapi_tokens_app ON jwwx_openapi_tokens (agentid, expires_ts);

-- The app's conversation (a direct room of its bot) with each officer.
CREATE TABLE jwwx_openapi_conversations (
    agentid BIGINT NOT NULL,
    userid TEXT NOT NULL,
    room_id TEXT NOT NULL,
    created_ts BIGINT NOT NULL,
    PRIMARY KEY (agentid, userid)
);
CREATE INDEX jwwx_openapi_conversations_room ON jwwx_openapi_conversations (room_id);

-- One message/send: state pending (background delivery running), done, recalled.
CREATE TABLE jwwx_openapi_messages (
    msgid TEXT NOT NULL PRIMARY KEY,
    agentid BIGINT NOT NULL,
    msgtype TEXT NOT NULL,
    recipients INTEGER NOT NULL,
    sent INTEGER NOT NULL DEFAULT 0,
    failed INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL,
    created_ts BIGINT NOT NULL,
    finished_ts BIGINT,
    recalled_ts BIGINT
);
CREATE INDEX jwwx_openapi_messages_app ON jwwx_openapi_messages (agentid, created_ts);

-- The event each recipient got (for recall and statistics).
CREATE TABLE jwwx_openapi_message_events (
    msgid TEXT NOT NULL,
    userid TEXT NOT NULL,
    room_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    PRIMARY KEY (msgid, userid)
);
