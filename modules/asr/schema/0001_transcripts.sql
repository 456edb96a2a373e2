-- modules.asr: transcripts of voice messages, made once per message on request and
-- shown again to anyone who may see the message.
CREATE TABLE jwwx_asr_transcripts (
    event_id TEXT NOT NULL PRIMARY KEY,
    room_id TEXT NOT NULL,
    text TEXT NOT NULL,
    engine TEXT NOT NULL,
    created_ts BIGINT NOT NULL
);
