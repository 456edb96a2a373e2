-- modules.asr: automatic transcription (auto_transcribe). Where the stream reader is,
-- and the voice messages it found that still wait for the engine.
CREATE TABLE jwwx_asr_cursor (
    name TEXT NOT NULL PRIMARY KEY,
    stream_ordering BIGINT NOT NULL
);
CREATE TABLE jwwx_asr_pending (
    event_id TEXT NOT NULL PRIMARY KEY,
    room_id TEXT NOT NULL,
    media_id TEXT NOT NULL,
    mimetype TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_ts BIGINT NOT NULL
);
CREATE INDEX jwwx_asr_pending_next ON jwwx_asr_pending (next_ts);
