-- When the member's initial password was issued (NULL: not yet). Provisioning issues
-- every pending member's password in a few batched transactions first; the Matrix
-- account is created afterwards, or at the member's first login with that password,
-- whichever comes first (provisioning.py), so the whole import can log in at once.
ALTER TABLE jwwx_dir_members ADD COLUMN credentials_ts BIGINT;
