-- modules.groups: admin settings and QR join links.

-- One row per setting; value is JSON. Missing rows fall back to the module config.
CREATE TABLE jwwx_groups_settings (
    name TEXT NOT NULL PRIMARY KEY,
    value TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_ts BIGINT NOT NULL
);

-- A join link (扫码入群): token is the secret in the link. revoked_ts is set once.
CREATE TABLE jwwx_groups_join_links (
    token TEXT NOT NULL PRIMARY KEY,
    room_id TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_ts BIGINT NOT NULL,
    expires_ts BIGINT NOT NULL,
    revoked_ts BIGINT,
    revoked_by TEXT,
    uses INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX jwwx_groups_join_links_room ON jwwx_groups_join_links (room_id, created_ts);
