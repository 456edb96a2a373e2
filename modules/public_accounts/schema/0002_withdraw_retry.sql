-- A withdraw must not lose a copy: each event of a push is marked once it is redacted
-- (removed_ts); a withdrawn push keeps removal_pending = 1 until all are, and the
-- scheduler tries the rest again at removal_next_ts (backoff by removal_attempts).
ALTER TABLE jwwx_pubacct_push_events ADD COLUMN removed_ts BIGINT;
ALTER TABLE jwwx_pubacct_pushes ADD COLUMN removal_pending SMALLINT NOT NULL DEFAULT 0;
ALTER TABLE jwwx_pubacct_pushes ADD COLUMN removal_attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jwwx_pubacct_pushes ADD COLUMN removal_next_ts BIGINT NOT NULL DEFAULT 0;
