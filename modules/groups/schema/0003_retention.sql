-- The retention policy last applied to each room (m.room.retention sent), as JSON;
-- 'unreachable' when no local member could send it (retried when the policy changes).
CREATE TABLE jwwx_groups_retention_applied (
    room_id TEXT NOT NULL PRIMARY KEY,
    policy TEXT NOT NULL,
    applied_ts BIGINT NOT NULL
);
