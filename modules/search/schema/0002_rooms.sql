-- modules.search: groups (rooms) by name or by a member's name, with pinyin. Kept from
-- the same event stream as the message index: the current name of each room and its
-- joined members. `folded` is what a query is matched against (text.py name_text).
CREATE TABLE jwwx_search_room_names (
    room_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    folded TEXT NOT NULL
);
CREATE TABLE jwwx_search_room_members (
    room_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    displayname TEXT,
    folded TEXT NOT NULL,
    PRIMARY KEY (room_id, user_id)
);
