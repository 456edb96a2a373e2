-- bridges.mail: an officer's bound mailbox. The password is SM4-sealed; no mail, header
-- or body is ever written here (only the UID of the last mail a reminder was sent for).
CREATE TABLE mail_accounts (
    user_id TEXT NOT NULL PRIMARY KEY,
    login TEXT NOT NULL,
    sealed_password BLOB NOT NULL,
    room_id TEXT NOT NULL,
    uid_validity BIGINT NOT NULL,
    last_uid BIGINT NOT NULL,
    bound_ts BIGINT NOT NULL
);
