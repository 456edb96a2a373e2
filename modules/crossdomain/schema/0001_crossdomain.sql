-- modules.crossdomain: what each peer police domain may do with us (docs/federation.md).
-- policy is JSON: {"units": [...] or "*", "directory": {"departments": [...],
-- "fields": [...]}, "apps": [...]}. A domain without a row: nothing is permitted.
CREATE TABLE jwwx_crossdomain_peers (
    domain TEXT NOT NULL PRIMARY KEY,
    policy TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_ts BIGINT NOT NULL
);
