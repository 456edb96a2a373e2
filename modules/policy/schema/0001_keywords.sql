-- The admin-edited keyword list of the keyword filter (config keywords are not stored).
CREATE TABLE jwwx_policy_keywords (
    keyword TEXT NOT NULL PRIMARY KEY,
    added_by TEXT NOT NULL,
    added_ts BIGINT NOT NULL
);

-- One row: bumped on every change, so other processes (workers) notice and reload.
CREATE TABLE jwwx_policy_keyword_version (
    singleton CHAR(1) NOT NULL PRIMARY KEY,
    version BIGINT NOT NULL,
    updated_by TEXT,
    updated_ts BIGINT
);

INSERT INTO jwwx_policy_keyword_version (singleton, version) VALUES ('X', 0);
