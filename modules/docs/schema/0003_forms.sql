-- modules.docs: collection forms (收集表, forms.py). A form is a resource of its own,
-- not a CRDT document: its definition (questions and respondents, JSON) is written
-- by its creator before publishing; answers are rows, one per officer.
-- status: draft | published. deadline_ts NULL: no deadline. unit_id/department_id:
-- the creator's, as for documents (document admins' scope). respondents is JSON
-- {users, departments, tags, bureau}.
CREATE TABLE jwwx_docs_forms (
    form_id TEXT NOT NULL PRIMARY KEY,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    questions TEXT NOT NULL,
    respondents TEXT NOT NULL,
    deadline_ts BIGINT,
    editable INTEGER NOT NULL,
    anonymous INTEGER NOT NULL,
    status TEXT NOT NULL,
    creator TEXT NOT NULL,
    unit_id BIGINT,
    department_id BIGINT,
    created_ts BIGINT NOT NULL,
    updated_ts BIGINT NOT NULL,
    published_ts BIGINT,
    deleted_ts BIGINT
);
CREATE INDEX jwwx_docs_forms_creator ON jwwx_docs_forms (creator, updated_ts);
CREATE INDEX jwwx_docs_forms_status ON jwwx_docs_forms (status, deadline_ts);

-- Who answered (what the creator sees as 已填 / 未填, per unit).
CREATE TABLE jwwx_docs_form_respondents (
    form_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    unit_id BIGINT,
    answered_ts BIGINT NOT NULL,
    PRIMARY KEY (form_id, user_id)
);

-- The answers, SM4-sealed JSON (key_id names the key). answer_key is the officer's
-- user id on a named form; on an anonymous one a keyed SM3 of it (so his answer can
-- be found again to edit it, never read back to a name), with no times.
CREATE TABLE jwwx_docs_form_answers (
    form_id TEXT NOT NULL,
    answer_key TEXT NOT NULL,
    key_id TEXT NOT NULL,
    body TEXT NOT NULL,
    created_ts BIGINT NOT NULL,
    updated_ts BIGINT NOT NULL,
    PRIMARY KEY (form_id, answer_key)
);
