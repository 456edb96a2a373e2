-- modules.ocr: the open-API apps allowed to call /cgi-bin/ocr/* (an admin grants it).
CREATE TABLE jwwx_ocr_apps (
    agentid BIGINT NOT NULL PRIMARY KEY,
    granted_by TEXT NOT NULL,
    granted_ts BIGINT NOT NULL
);
