-- Per-device internal keys issued by admins as a second factor (HMAC-SM3 of the secret only).
CREATE TABLE jwwx_acc_device_keys (
    key_id TEXT NOT NULL PRIMARY KEY,
    user_id TEXT NOT NULL,
    label TEXT NOT NULL,
    key_mac TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_ts BIGINT NOT NULL,
    last_used_ts BIGINT,
    revoked_ts BIGINT
);
CREATE INDEX jwwx_acc_device_keys_user ON jwwx_acc_device_keys (user_id);
