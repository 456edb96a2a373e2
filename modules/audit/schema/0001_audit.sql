-- modules.audit: the tamper-evident, SM4-sealed audit archive (docs/audit.md).

-- The chain. seq has no gaps; hash = SM3(previous hash || canonical record bytes).
-- payload is base64(SM4 seal of the record body) under key_id; kind and ts stay in
-- clear so exports and searches can select by type and time range; has_media marks
-- messages that reference media (the image and file searches read only those).
CREATE TABLE jwwx_audit_records (
    seq BIGINT NOT NULL PRIMARY KEY,
    kind TEXT NOT NULL,
    ts BIGINT NOT NULL,
    key_id TEXT NOT NULL,
    has_media SMALLINT NOT NULL,
    payload TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX jwwx_audit_records_kind_seq ON jwwx_audit_records (kind, seq);
CREATE INDEX jwwx_audit_records_kind_ts ON jwwx_audit_records (kind, ts);

-- The head of the chain and the archiver's durable cursor in Synapse's event stream,
-- updated in the same transaction as the records they describe.
CREATE TABLE jwwx_audit_head (
    singleton TEXT NOT NULL PRIMARY KEY,
    last_seq BIGINT NOT NULL,
    last_hash TEXT NOT NULL,
    stream_ordering BIGINT NOT NULL
);
INSERT INTO jwwx_audit_head (singleton, last_seq, last_hash, stream_ordering)
    VALUES ('X', 0, '0000000000000000000000000000000000000000000000000000000000000000', 0);

-- Records handed in through the hooks (admin operations, logins, app messages, audit
-- searches), already sealed; the archiver moves them into the chain in order.
CREATE TABLE jwwx_audit_inbox (
    id TEXT NOT NULL PRIMARY KEY,
    kind TEXT NOT NULL,
    ts BIGINT NOT NULL,
    key_id TEXT NOT NULL,
    payload TEXT NOT NULL
);
CREATE INDEX jwwx_audit_inbox_order ON jwwx_audit_inbox (ts, id);

-- Joined members per room as of the archiver's cursor: a message's recipients.
CREATE TABLE jwwx_audit_members (
    room_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    PRIMARY KEY (room_id, user_id)
);

-- The previous content of the state the group-operation records compare against
-- (power levels: owner transfer, mute; cn.jwwx.group: dissolve).
CREATE TABLE jwwx_audit_room_state (
    room_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    content TEXT NOT NULL,
    PRIMARY KEY (room_id, event_type)
);

-- Durable export cursors: pull consumers ("pull:<name>") and push exporters
-- ("push:<name>"), per record kind ("*" for an exporter of several kinds).
CREATE TABLE jwwx_audit_cursors (
    consumer TEXT NOT NULL,
    kind TEXT NOT NULL,
    position BIGINT NOT NULL,
    updated_ts BIGINT NOT NULL,
    PRIMARY KEY (consumer, kind)
);
