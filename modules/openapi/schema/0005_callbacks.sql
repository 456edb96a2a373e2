-- Messages officers send to an app, waiting to be POSTed to the app's callback URL.
-- msgid is WeCom's MsgId (an integer derived from the event id): one row per message,
-- so a message is never queued twice. state: pending, sent, failed (gave up).
CREATE TABLE jwwx_openapi_callbacks (
    agentid BIGINT NOT NULL,
    msgid TEXT NOT NULL,
    event_id TEXT NOT NULL,
    payload TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_ts BIGINT NOT NULL,
    last_error TEXT,
    created_ts BIGINT NOT NULL,
    sent_ts BIGINT,
    PRIMARY KEY (agentid, msgid)
);
CREATE INDEX jwwx_openapi_callbacks_due ON jwwx_openapi_callbacks (state, next_attempt_ts);
