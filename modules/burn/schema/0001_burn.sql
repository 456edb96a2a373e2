-- modules.burn: burn-after-read messages and their timers (they survive restarts).

-- stream_ordering: the message's stream position once persisted (NULL until seen).
-- read_ts/read_by: when the first recipient's read receipt was noticed; burn_at =
-- read_ts + ttl_ms; burned_ts once redacted and purged.
CREATE TABLE jwwx_burn_messages (
    event_id TEXT NOT NULL PRIMARY KEY,
    room_id TEXT NOT NULL,
    sender TEXT NOT NULL,
    ttl_ms BIGINT NOT NULL,
    created_ts BIGINT NOT NULL,
    stream_ordering BIGINT,
    read_ts BIGINT,
    read_by TEXT,
    burn_at BIGINT,
    burned_ts BIGINT
);
CREATE INDEX jwwx_burn_messages_unread ON jwwx_burn_messages (read_ts, room_id);
CREATE INDEX jwwx_burn_messages_due ON jwwx_burn_messages (burned_ts, burn_at);

-- Copies of burned messages, only when the audit setting asks for them.
CREATE TABLE jwwx_burn_audit (
    event_id TEXT NOT NULL PRIMARY KEY,
    room_id TEXT NOT NULL,
    sender TEXT NOT NULL,
    event_json TEXT NOT NULL,
    burned_ts BIGINT NOT NULL
);
