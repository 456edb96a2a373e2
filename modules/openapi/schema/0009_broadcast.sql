-- Each app's broadcast rooms (modules/openapi/broadcast.py, docs/openapi.md "Pushes to
-- the whole range"): the bot the only one who may post, every deliverable officer of
-- the range a member of one of them.
CREATE TABLE jwwx_openapi_broadcast_rooms (
    room_id TEXT NOT NULL PRIMARY KEY,
    agentid BIGINT NOT NULL,
    created_ts BIGINT NOT NULL
);
CREATE INDEX jwwx_openapi_broadcast_rooms_app ON jwwx_openapi_broadcast_rooms (agentid);

-- Who belongs in which room: the row is written before the officer's join (the join
-- check lets only these in) and deleted once the officer was removed.
-- joined: 0 while the join is pending, 1 once it is done.
CREATE TABLE jwwx_openapi_broadcast_members (
    agentid BIGINT NOT NULL,
    userid TEXT NOT NULL,
    room_id TEXT NOT NULL,
    joined SMALLINT NOT NULL DEFAULT 0,
    PRIMARY KEY (agentid, userid)
);
CREATE INDEX jwwx_openapi_broadcast_members_room
    ON jwwx_openapi_broadcast_members (room_id, userid);
