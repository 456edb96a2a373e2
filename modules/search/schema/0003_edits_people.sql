-- modules.search: the edits (m.replace) of indexed messages, so that when an edit is
-- redacted the index falls back to the newest remaining edit, or to the message's own
-- text, as Synapse shows it (newest = highest origin_server_ts, then event id); and
-- `body`, what clients show of an edited message in the unified search.
CREATE TABLE jwwx_search_edits (
    edit_id TEXT PRIMARY KEY,
    original_id TEXT NOT NULL,
    origin_ts BIGINT NOT NULL,
    body TEXT NOT NULL,
    text TEXT NOT NULL
);
CREATE INDEX jwwx_search_edits_original ON jwwx_search_edits (original_id, origin_ts);
-- People by name, pinyin and initials (text.py name_text, plus the localpart): the
-- unified search's sender_name filter ("zhangsan", "zs"). The latest display name
-- seen in any room, kept after the person leaves (their messages stay findable).
CREATE TABLE jwwx_search_people (
    user_id TEXT PRIMARY KEY,
    displayname TEXT,
    folded TEXT NOT NULL
);
INSERT INTO jwwx_search_people (user_id, displayname, folded)
    SELECT user_id, MAX(displayname), MAX(folded) FROM jwwx_search_room_members
    GROUP BY user_id;
CREATE INDEX jwwx_search_docs_sender ON jwwx_search_docs (sender, stream_ordering);
