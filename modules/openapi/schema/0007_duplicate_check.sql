-- message/send's duplicate check (enable_duplicate_check): a hash of the message and its
-- addressees, looked up per app within duplicate_check_interval.
ALTER TABLE jwwx_openapi_messages ADD COLUMN dedup_key TEXT;
CREATE INDEX jwwx_openapi_messages_dedup ON jwwx_openapi_messages (agentid, dedup_key, created_ts);
