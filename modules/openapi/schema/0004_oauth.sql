-- OAuth2 (网页授权) codes: single use, five minutes. agentid is the app that asked
-- (NULL when the page gave none: then any app trusting `domain` may exchange it).
CREATE TABLE jwwx_openapi_oauth_codes (
    code_hash TEXT NOT NULL PRIMARY KEY,
    agentid BIGINT,
    domain TEXT NOT NULL,
    userid TEXT NOT NULL,
    expires_ts BIGINT NOT NULL
);
CREATE INDEX jwwx_openapi_oauth_codes_expiry ON jwwx_openapi_oauth_codes (expires_ts);
