-- Wrong second-factor codes on the admin API (admin login hardening, docs/admin.md):
-- one row per wrong code, kept for the failure window, so the limit (5 in 15 minutes)
-- holds across workers and restarts. Cleared by a right code.
CREATE TABLE jwwx_admin_totp_failures (
    user_id TEXT NOT NULL,
    failed_ts BIGINT NOT NULL
);
CREATE INDEX jwwx_admin_totp_failures_user ON jwwx_admin_totp_failures (user_id, failed_ts);
CREATE INDEX jwwx_admin_totp_failures_ts ON jwwx_admin_totp_failures (failed_ts);
