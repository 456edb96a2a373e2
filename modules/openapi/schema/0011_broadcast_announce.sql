-- A spare room an app claimed (modules/openapi/pool.py) whose claim events (the app's
-- bot joined with power, its name, marker, topic, avatar) are not sent yet: they go
-- with the app's first push into the room, as one batch, or alone once due.
-- announce_ts: NULL once announced (and for every room built by its app); > 0 the time
-- (ms) the claim events are due; < 0 being announced, minus the time the announcer's
-- lease ends (after it, an announcer that died is replaced).
ALTER TABLE jwwx_openapi_broadcast_rooms ADD COLUMN announce_ts BIGINT;
CREATE INDEX jwwx_openapi_broadcast_rooms_announce
    ON jwwx_openapi_broadcast_rooms (announce_ts);
