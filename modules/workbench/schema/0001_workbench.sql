-- modules.workbench: the entries of the officers' workbench (工作台). visible_range is
-- JSON {department_ids, userids, tag_ids} or NULL for everyone; agentid links an
-- open-API app (jumps then carry an OAuth2 code of that app).
CREATE TABLE jwwx_workbench_entries (
    id BIGINT NOT NULL PRIMARY KEY,
    name TEXT NOT NULL,
    category TEXT NOT NULL,
    description TEXT NOT NULL,
    icon TEXT NOT NULL,
    url TEXT NOT NULL,
    agentid BIGINT,
    zone TEXT NOT NULL,
    risk_prompt TEXT,
    visible_range TEXT,
    position INTEGER NOT NULL,
    enabled SMALLINT NOT NULL,
    created_ts BIGINT NOT NULL,
    updated_ts BIGINT NOT NULL
);
CREATE INDEX jwwx_workbench_entries_order ON jwwx_workbench_entries (category, position, id);
