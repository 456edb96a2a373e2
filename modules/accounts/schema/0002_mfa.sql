-- TOTP authenticators: the secret SM4-sealed (base64); last_counter refuses replayed codes.
CREATE TABLE jwwx_acc_totp (
    user_id TEXT NOT NULL PRIMARY KEY,
    sealed_secret TEXT NOT NULL,
    confirmed_ts BIGINT,
    last_counter BIGINT NOT NULL DEFAULT 0,
    created_ts BIGINT NOT NULL
);

-- One-time recovery codes, stored as HMAC-SM3 only.
CREATE TABLE jwwx_acc_recovery_codes (
    user_id TEXT NOT NULL,
    code_mac TEXT NOT NULL,
    used_ts BIGINT,
    PRIMARY KEY (user_id, code_mac)
);
