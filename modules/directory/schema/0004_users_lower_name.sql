-- Synapse looks accounts up by lower(name) when one is registered (check_username) and
-- at every password login, and has no index for it: a scan of the users table per
-- call, 12 ms at 55,000 accounts on PostgreSQL. The directory creates those accounts,
-- so it adds the index (an extra index on Synapse's table changes no behaviour).
CREATE INDEX IF NOT EXISTS jwwx_users_lower_name ON users (lower(name));
