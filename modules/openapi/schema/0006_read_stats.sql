-- The stream position of each delivered event, to count read receipts against it.
ALTER TABLE jwwx_openapi_message_events ADD COLUMN stream_ordering BIGINT;
