-- modules.docs: collaborative documents. A document's content is its revisions: Yjs
-- updates and compacted snapshots (full states), each SM4-sealed (body, base64) and
-- SM3-chained (chain = SM3 over the previous chain and the revision, hex). head_seq /
-- head_chain: the last revision written, so a missing tail is detected too.
CREATE TABLE jwwx_docs_documents (
    doc_id TEXT NOT NULL PRIMARY KEY,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    owner TEXT NOT NULL,
    link_role TEXT,
    created_ts BIGINT NOT NULL,
    updated_ts BIGINT NOT NULL,
    deleted_ts BIGINT,
    head_seq BIGINT NOT NULL,
    head_chain TEXT NOT NULL
);
CREATE INDEX jwwx_docs_documents_owner ON jwwx_docs_documents (owner, updated_ts);

CREATE TABLE jwwx_docs_revisions (
    doc_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    kind TEXT NOT NULL,
    user_id TEXT NOT NULL,
    created_ts BIGINT NOT NULL,
    key_id TEXT NOT NULL,
    body TEXT NOT NULL,
    chain TEXT NOT NULL,
    PRIMARY KEY (doc_id, seq)
);

-- Who else may open a document: a person (user id), a department (id, its subtree
-- included) or a tag (id), each with a role (reader, commenter, editor).
CREATE TABLE jwwx_docs_grants (
    doc_id TEXT NOT NULL,
    principal_kind TEXT NOT NULL,
    principal TEXT NOT NULL,
    role TEXT NOT NULL,
    PRIMARY KEY (doc_id, principal_kind, principal)
);
CREATE INDEX jwwx_docs_grants_principal ON jwwx_docs_grants (principal_kind, principal);
