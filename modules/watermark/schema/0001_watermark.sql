-- modules.watermark: admin settings and where each shared file was first sent.

-- One row per setting (e.g. "watermark.opacity"); value is JSON. Missing rows mean the
-- built-in default (modules/watermark/settings.py).
CREATE TABLE jwwx_watermark_settings (
    name TEXT NOT NULL PRIMARY KEY,
    value TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_ts BIGINT NOT NULL
);

-- The first message that carried a file (mxc URI): the room it was shared in and by
-- whom. Forwarding rules compare later messages with it (docs/watermark.md).
CREATE TABLE jwwx_watermark_media_origin (
    media_uri TEXT NOT NULL PRIMARY KEY,
    room_id TEXT NOT NULL,
    sender TEXT NOT NULL,
    event_id TEXT NOT NULL,
    first_ts BIGINT NOT NULL
);
