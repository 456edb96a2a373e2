-- JS-SDK tickets: agentid 0 holds the corp's jsapi_ticket (wx.config); an app's agentid
-- its agent ticket (wx.agentConfig). Kept in clear: a ticket only signs page URLs, and
-- the server needs it to check the signatures H5 pages present.
CREATE TABLE jwwx_openapi_tickets (
    ticket TEXT NOT NULL PRIMARY KEY,
    agentid BIGINT NOT NULL,
    issued_ts BIGINT NOT NULL,
    expires_ts BIGINT NOT NULL
);
CREATE INDEX jwwx_openapi_tickets_app ON jwwx_openapi_tickets (agentid, expires_ts);
