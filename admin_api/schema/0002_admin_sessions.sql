-- Admin sessions (admin login hardening, docs/admin.md): a Matrix session (user and
-- device) that has passed the second factor for the admin API, and when it was last
-- active there (idle expiry). No row: the session must verify first.
CREATE TABLE jwwx_admin_sessions (
    user_id TEXT NOT NULL,
    device_id TEXT NOT NULL,
    verified_ts BIGINT NOT NULL,
    last_active_ts BIGINT NOT NULL,
    verified_by TEXT NOT NULL,
    PRIMARY KEY (user_id, device_id)
);
CREATE INDEX jwwx_admin_sessions_active ON jwwx_admin_sessions (last_active_ts);
