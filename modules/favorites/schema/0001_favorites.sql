-- modules.favorites: an officer's favourite messages (收藏), a copy of each message's
-- content taken when it was favourited. search_text: body and file name, case-folded.
CREATE TABLE jwwx_favorites (
    id TEXT NOT NULL PRIMARY KEY,
    user_id TEXT NOT NULL,
    room_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    sender TEXT NOT NULL,
    event_type TEXT NOT NULL,
    kind TEXT NOT NULL,
    content TEXT NOT NULL,
    search_text TEXT NOT NULL,
    origin_ts BIGINT NOT NULL,
    created_ts BIGINT NOT NULL
);
CREATE UNIQUE INDEX jwwx_favorites_event ON jwwx_favorites (user_id, event_id);
CREATE INDEX jwwx_favorites_user ON jwwx_favorites (user_id, created_ts);
