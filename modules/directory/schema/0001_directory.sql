-- The organisation directory (通讯录). Booleans are SMALLINT 0/1 on both engines.

-- path: ids from the root, this one included, e.g. "/1/5/27/"; a subtree is the range
-- [path, path with its last "/" replaced by "0"), which an index serves on both engines.
-- hidden_effective: hidden here or on an ancestor. restricted_root: the nearest
-- ancestor-or-self with restricted = 1 (its subtree is all its members may see).
-- Counts cover enabled, non-hidden members: direct and whole subtree.
CREATE TABLE jwwx_dir_departments (
    id BIGINT NOT NULL PRIMARY KEY,
    name TEXT NOT NULL,
    parent_id BIGINT,
    path TEXT NOT NULL,
    depth INTEGER NOT NULL,
    sort_order BIGINT NOT NULL DEFAULT 0,
    hidden SMALLINT NOT NULL DEFAULT 0,
    restricted SMALLINT NOT NULL DEFAULT 0,
    hidden_effective SMALLINT NOT NULL DEFAULT 0,
    restricted_root BIGINT,
    direct_count INTEGER NOT NULL DEFAULT 0,
    subtree_count INTEGER NOT NULL DEFAULT 0,
    created_ts BIGINT NOT NULL,
    updated_ts BIGINT NOT NULL
);
CREATE INDEX jwwx_dir_departments_parent ON jwwx_dir_departments (parent_id, sort_order, id);
CREATE UNIQUE INDEX jwwx_dir_departments_path ON jwwx_dir_departments (path);
CREATE INDEX jwwx_dir_departments_name ON jwwx_dir_departments (name);

-- userid is the WeCom-style account id and the Matrix localpart.
-- account_state: pending (Matrix account not created yet), created, failed.
CREATE TABLE jwwx_dir_members (
    userid TEXT NOT NULL PRIMARY KEY,
    name TEXT NOT NULL,
    gender SMALLINT NOT NULL DEFAULT 0,
    mobile TEXT,
    telephone TEXT,
    email TEXT,
    position TEXT,
    avatar TEXT,
    sort_order BIGINT NOT NULL DEFAULT 0,
    hidden SMALLINT NOT NULL DEFAULT 0,
    enabled SMALLINT NOT NULL DEFAULT 1,
    account_state TEXT NOT NULL DEFAULT 'pending',
    account_error TEXT,
    account_attempts INTEGER NOT NULL DEFAULT 0,
    provision_job BIGINT,
    created_ts BIGINT NOT NULL,
    updated_ts BIGINT NOT NULL
);
CREATE UNIQUE INDEX jwwx_dir_members_mobile ON jwwx_dir_members (mobile);
CREATE INDEX jwwx_dir_members_account ON jwwx_dir_members (account_state, provision_job);

-- seq keeps a member's departments in the order given (the first is the main one).
CREATE TABLE jwwx_dir_memberships (
    userid TEXT NOT NULL,
    department_id BIGINT NOT NULL,
    seq INTEGER NOT NULL DEFAULT 0,
    sort_order BIGINT NOT NULL DEFAULT 0,
    is_leader SMALLINT NOT NULL DEFAULT 0,
    PRIMARY KEY (userid, department_id)
);
CREATE INDEX jwwx_dir_memberships_department ON jwwx_dir_memberships (department_id, sort_order, userid);

-- Prefix-searchable terms of member names (name, suffixes, pinyin, initials); rank 0 best.
CREATE TABLE jwwx_dir_search_terms (
    term TEXT NOT NULL,
    rank SMALLINT NOT NULL,
    userid TEXT NOT NULL
);
CREATE INDEX jwwx_dir_search_terms_term ON jwwx_dir_search_terms (term);
CREATE INDEX jwwx_dir_search_terms_userid ON jwwx_dir_search_terms (userid);

CREATE TABLE jwwx_dir_tags (
    id BIGINT NOT NULL PRIMARY KEY,
    name TEXT NOT NULL,
    created_by TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    created_ts BIGINT NOT NULL,
    updated_ts BIGINT NOT NULL
);
CREATE UNIQUE INDEX jwwx_dir_tags_name ON jwwx_dir_tags (name);

CREATE TABLE jwwx_dir_tag_members (
    tag_id BIGINT NOT NULL,
    userid TEXT NOT NULL,
    PRIMARY KEY (tag_id, userid)
);

CREATE TABLE jwwx_dir_tag_departments (
    tag_id BIGINT NOT NULL,
    department_id BIGINT NOT NULL,
    PRIMARY KEY (tag_id, department_id)
);

-- 收藏联系人: an officer's (owner, a Matrix user id) favourite colleagues.
CREATE TABLE jwwx_dir_favorites (
    owner TEXT NOT NULL,
    userid TEXT NOT NULL,
    created_ts BIGINT NOT NULL,
    PRIMARY KEY (owner, userid)
);

-- Admin settings as JSON values (e.g. visible_fields).
CREATE TABLE jwwx_dir_settings (
    name TEXT NOT NULL PRIMARY KEY,
    value TEXT NOT NULL,
    updated_by TEXT,
    updated_ts BIGINT
);

-- Keyed hash (HMAC-SM3) of an initial password; valid until the officer sets their own.
CREATE TABLE jwwx_dir_initial_passwords (
    user_id TEXT NOT NULL PRIMARY KEY,
    mac TEXT NOT NULL,
    created_ts BIGINT NOT NULL
);

-- Account-provisioning jobs (one per import or admin request).
CREATE TABLE jwwx_dir_jobs (
    id BIGINT NOT NULL PRIMARY KEY,
    kind TEXT NOT NULL,
    total INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    created_ts BIGINT NOT NULL
);

-- E-mails waiting to be sent; the body (it holds a password) is SM4-sealed, base64.
-- state: pending, sent, failed (gave up after max attempts).
CREATE TABLE jwwx_dir_mail_outbox (
    id BIGINT NOT NULL PRIMARY KEY,
    userid TEXT NOT NULL,
    to_address TEXT NOT NULL,
    subject TEXT NOT NULL,
    sealed_body TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_ts BIGINT NOT NULL,
    last_error TEXT,
    created_ts BIGINT NOT NULL,
    sent_ts BIGINT
);
CREATE INDEX jwwx_dir_mail_outbox_due ON jwwx_dir_mail_outbox (state, next_attempt_ts);
