-- modules.burn: edits, replies and every other relation of a burn-after-read message
-- are tracked with it (issue 14, B1/B2).

-- root_event_id: for an event that relates to a burn-after-read message (m.relates_to
-- of any rel_type, or a reply's m.in_reply_to), the message it ultimately belongs to;
-- it burns with that message at the latest. NULL for the messages themselves.
ALTER TABLE jwwx_burn_messages ADD COLUMN root_event_id TEXT;
CREATE INDEX jwwx_burn_messages_root ON jwwx_burn_messages (root_event_id);
-- The live burn-after-read messages of a room (a quoting message is checked against
-- them).
CREATE INDEX jwwx_burn_messages_room ON jwwx_burn_messages (room_id, burned_ts);

-- When the database files were last rewritten after burns (scrub_interval_seconds):
-- burns after it are waiting for the next rewrite.
CREATE TABLE jwwx_burn_scrub (
    singleton TEXT NOT NULL PRIMARY KEY,
    rewritten_ts BIGINT NOT NULL
);
INSERT INTO jwwx_burn_scrub (singleton, rewritten_ts) VALUES ('X', 0);
