-- modules.docs, second slice: units, bytes, tasks, templates, the bot's rooms, quotas.
-- A document belongs to its owner's unit (二级单位) and main department as they were
-- when it was made (NULL: no directory membership); bytes = the sealed bodies of its
-- revisions (what the unit quota counts).
ALTER TABLE jwwx_docs_documents ADD COLUMN unit_id BIGINT;
ALTER TABLE jwwx_docs_documents ADD COLUMN department_id BIGINT;
ALTER TABLE jwwx_docs_documents ADD COLUMN bytes BIGINT NOT NULL DEFAULT 0;
UPDATE jwwx_docs_documents SET bytes = (
    SELECT COALESCE(SUM(LENGTH(r.body)), 0) FROM jwwx_docs_revisions r
    WHERE r.doc_id = jwwx_docs_documents.doc_id
);
CREATE INDEX jwwx_docs_documents_unit ON jwwx_docs_documents (unit_id, updated_ts);

-- Task blocks read from documents (tasks.py): steps is JSON
-- [{title, assignee, done_by, done_ts}], current = the index of the open step
-- (= the number of steps once done), current_assignee its assignee (NULL unless open);
-- status open | done | removed.
CREATE TABLE jwwx_docs_tasks (
    doc_id TEXT NOT NULL,
    task_id TEXT NOT NULL,
    title TEXT NOT NULL,
    due TEXT,
    steps TEXT NOT NULL,
    current_step INTEGER NOT NULL,
    current_assignee TEXT,
    status TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_ts BIGINT NOT NULL,
    updated_ts BIGINT NOT NULL,
    PRIMARY KEY (doc_id, task_id)
);
CREATE INDEX jwwx_docs_tasks_assignee ON jwwx_docs_tasks (current_assignee);
-- One row per (task, assignee of any step): the officers' task lists.
CREATE TABLE jwwx_docs_task_assignees (
    doc_id TEXT NOT NULL,
    task_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    PRIMARY KEY (doc_id, task_id, user_id)
);
CREATE INDEX jwwx_docs_task_assignees_user ON jwwx_docs_task_assignees (user_id);

-- Business templates added by admins from a document (the shipped ones are code):
-- body is the document's Yjs state, SM4-sealed like a revision (key_id names the key).
CREATE TABLE jwwx_docs_templates (
    template_id TEXT NOT NULL PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    key_id TEXT NOT NULL,
    body TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_ts BIGINT NOT NULL
);

-- The docs bot's chat with each officer it told of a task.
CREATE TABLE jwwx_docs_bot_rooms (
    user_id TEXT NOT NULL PRIMARY KEY,
    room_id TEXT NOT NULL
);

-- Unit quotas (0 = the whole bureau): documents and bytes, NULL = no limit.
CREATE TABLE jwwx_docs_quotas (
    unit_id BIGINT NOT NULL PRIMARY KEY,
    max_documents BIGINT,
    max_bytes BIGINT,
    updated_by TEXT NOT NULL,
    updated_ts BIGINT NOT NULL
);
