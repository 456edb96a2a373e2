-- What the directory's writes changed, for processes that cache directory facts
-- (admin_api's scope decisions). Every write moves the generation; it records the
-- members it changed (a row each), or one row with userid NULL when it may have changed
-- the tree or many members (departments, imports), and none when nothing a scope
-- depends on changed (tags, settings). Old rows are pruned by the writes.
CREATE TABLE jwwx_dir_generation (
    id SMALLINT NOT NULL PRIMARY KEY,
    generation BIGINT NOT NULL
);
INSERT INTO jwwx_dir_generation (id, generation) VALUES (1, 0);
CREATE TABLE jwwx_dir_changes (
    generation BIGINT NOT NULL,
    userid TEXT
);
CREATE INDEX jwwx_dir_changes_generation ON jwwx_dir_changes (generation);
