-- modules.asr: what open-API apps submitted for recognition (/cgi-bin/media/voice/
-- addvoicetorecofortext), kept for app_result_ttl_seconds so that the app can fetch
-- it (queryrecoresultfortext), then deleted. Never the audio.
CREATE TABLE jwwx_asr_app_results (
    agentid BIGINT NOT NULL,
    voice_id TEXT NOT NULL,
    text TEXT NOT NULL,
    created_ts BIGINT NOT NULL,
    PRIMARY KEY (agentid, voice_id)
);
CREATE INDEX jwwx_asr_app_results_created ON jwwx_asr_app_results (created_ts);
