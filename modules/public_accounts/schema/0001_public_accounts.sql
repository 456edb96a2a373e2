-- modules.public_accounts (公众号), docs/pubaccounts.md.
-- An account: its bot posts into its rooms; owners and editors are userids (JSON
-- lists); subscribers are the range (userids, departments, tags, everyone) plus those
-- who follow it, less those who unfollowed (jwwx_pubacct_follows).
CREATE TABLE jwwx_pubacct_accounts (
    id BIGINT NOT NULL PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    avatar TEXT,
    bot_user_id TEXT NOT NULL,
    owners TEXT NOT NULL,
    editors TEXT NOT NULL,
    range_users TEXT NOT NULL,
    range_departments TEXT NOT NULL,
    range_tags TEXT NOT NULL,
    range_everyone SMALLINT NOT NULL,
    allow_unfollow SMALLINT NOT NULL,
    created_by TEXT NOT NULL,
    created_ts BIGINT NOT NULL,
    updated_ts BIGINT NOT NULL
);

-- An officer's own choice: following (1) or having unfollowed (0).
CREATE TABLE jwwx_pubacct_follows (
    account_id BIGINT NOT NULL,
    userid TEXT NOT NULL,
    following SMALLINT NOT NULL,
    ts BIGINT NOT NULL,
    PRIMARY KEY (account_id, userid)
);

-- The account's rooms and who belongs in which (the open API's broadcast rooms:
-- modules/openapi/broadcast.py fills them).
CREATE TABLE jwwx_pubacct_rooms (
    room_id TEXT NOT NULL PRIMARY KEY,
    account_id BIGINT NOT NULL,
    created_ts BIGINT NOT NULL
);
CREATE INDEX jwwx_pubacct_rooms_account ON jwwx_pubacct_rooms (account_id);
CREATE TABLE jwwx_pubacct_members (
    account_id BIGINT NOT NULL,
    userid TEXT NOT NULL,
    room_id TEXT NOT NULL,
    joined SMALLINT NOT NULL DEFAULT 0,
    PRIMARY KEY (account_id, userid)
);
CREATE INDEX jwwx_pubacct_members_room ON jwwx_pubacct_members (room_id, userid);

-- Articles. body: sanitised HTML. state: draft, published, withdrawn.
-- push_id: the push that published it (NULL while a draft).
CREATE TABLE jwwx_pubacct_articles (
    id BIGINT NOT NULL PRIMARY KEY,
    account_id BIGINT NOT NULL,
    title TEXT NOT NULL,
    cover TEXT,
    digest TEXT NOT NULL,
    author TEXT NOT NULL,
    body TEXT NOT NULL,
    state TEXT NOT NULL,
    push_id BIGINT,
    created_by TEXT NOT NULL,
    created_ts BIGINT NOT NULL,
    updated_ts BIGINT NOT NULL,
    published_ts BIGINT,
    withdrawn_ts BIGINT
);
CREATE INDEX jwwx_pubacct_articles_account ON jwwx_pubacct_articles (account_id, id);

-- A push: one card (one or several articles) into every room of the account.
-- state: scheduled, sending, sent, withdrawn. delivered: subscribers in the rooms it
-- reached when it was sent.
CREATE TABLE jwwx_pubacct_pushes (
    id BIGINT NOT NULL PRIMARY KEY,
    account_id BIGINT NOT NULL,
    article_ids TEXT NOT NULL,
    state TEXT NOT NULL,
    publish_at BIGINT NOT NULL,
    sent_ts BIGINT,
    delivered INTEGER NOT NULL DEFAULT 0,
    created_by TEXT NOT NULL,
    created_ts BIGINT NOT NULL
);
CREATE INDEX jwwx_pubacct_pushes_due ON jwwx_pubacct_pushes (state, publish_at);

-- The events a push left in the rooms: its cards and their edits (kind card / edit),
-- all redacted and purged by a withdraw.
CREATE TABLE jwwx_pubacct_push_events (
    push_id BIGINT NOT NULL,
    room_id TEXT NOT NULL,
    event_id TEXT NOT NULL PRIMARY KEY,
    kind TEXT NOT NULL
);
CREATE INDEX jwwx_pubacct_push_events_push ON jwwx_pubacct_push_events (push_id);

-- Who opened which article: first and last open, opens, reading time reported by
-- the page (milliseconds).
CREATE TABLE jwwx_pubacct_reads (
    article_id BIGINT NOT NULL,
    userid TEXT NOT NULL,
    first_ts BIGINT NOT NULL,
    last_ts BIGINT NOT NULL,
    opens INTEGER NOT NULL,
    read_ms BIGINT NOT NULL,
    PRIMARY KEY (article_id, userid)
);

-- The module's key for signing article-page read-time reports (one row).
CREATE TABLE jwwx_pubacct_keys (
    name TEXT NOT NULL PRIMARY KEY,
    secret TEXT NOT NULL
);

-- The private room where an account's bot shows an editor a preview.
CREATE TABLE jwwx_pubacct_preview_rooms (
    account_id BIGINT NOT NULL,
    userid TEXT NOT NULL,
    room_id TEXT NOT NULL,
    PRIMARY KEY (account_id, userid)
);
