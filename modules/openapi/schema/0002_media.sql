-- Temporary media (素材) uploaded through media/upload: valid three days, like WeCom's.
-- The bytes live in Synapse's media repository (mxc); media_id is what the app uses.
CREATE TABLE jwwx_openapi_media (
    media_id TEXT NOT NULL PRIMARY KEY,
    agentid BIGINT NOT NULL,
    media_type TEXT NOT NULL,
    mxc TEXT NOT NULL,
    filename TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    created_ts BIGINT NOT NULL,
    expires_ts BIGINT NOT NULL
);
CREATE INDEX jwwx_openapi_media_expiry ON jwwx_openapi_media (expires_ts);
