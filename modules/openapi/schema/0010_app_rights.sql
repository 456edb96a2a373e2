-- modules.openapi: what an app may use beyond messaging (one row per app and right:
-- "ocr" for /cgi-bin/ocr/*, "asr" for /cgi-bin/media/voice/*), granted by an admin.
-- modules.ocr moves the grants of its former jwwx_ocr_apps here on start-up.
CREATE TABLE jwwx_openapi_app_rights (
    agentid BIGINT NOT NULL,
    capability TEXT NOT NULL,
    granted_by TEXT NOT NULL,
    granted_ts BIGINT NOT NULL,
    PRIMARY KEY (agentid, capability)
);
