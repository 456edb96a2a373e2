-- Where the reader of Synapse's event stream (incoming.py: officers' messages to apps)
-- has got to; moved in the same transaction that queues the callbacks.
CREATE TABLE jwwx_openapi_stream_cursor (
    name TEXT PRIMARY KEY,
    stream_ordering BIGINT NOT NULL
);
