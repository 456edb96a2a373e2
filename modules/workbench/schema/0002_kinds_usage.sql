-- Entry kinds: link (an address), app (an open-API app, agentid), pubaccount (a public
-- account's conversation, pubaccount_id), zone2_app (an APP of the mobile police
-- network zone II, launched by its app link; always with the risk prompt).
ALTER TABLE jwwx_workbench_entries ADD COLUMN kind TEXT NOT NULL DEFAULT 'link';
ALTER TABLE jwwx_workbench_entries ADD COLUMN pubaccount_id BIGINT;
UPDATE jwwx_workbench_entries SET kind = 'app' WHERE agentid IS NOT NULL;

-- Usage per entry: each officer's opens (jumps) per local day (yyyymmdd).
CREATE TABLE jwwx_workbench_usage (
    entry_id BIGINT NOT NULL,
    day INTEGER NOT NULL,
    userid TEXT NOT NULL,
    opens INTEGER NOT NULL,
    PRIMARY KEY (entry_id, day, userid)
);
CREATE INDEX jwwx_workbench_usage_day ON jwwx_workbench_usage (day, entry_id);
