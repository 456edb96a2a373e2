-- The administration model (docs/admin.md). JSON lists are TEXT.

-- Admin groups (管理组), nested through parent_id (NULL: created by the super admin at
-- the top). rights/apps/hidden_fields: JSON arrays of strings.
CREATE TABLE jwwx_admin_groups (
    id BIGINT NOT NULL PRIMARY KEY,
    name TEXT NOT NULL,
    parent_id BIGINT,
    rights TEXT NOT NULL,
    apps TEXT NOT NULL,
    hidden_fields TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_ts BIGINT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_ts BIGINT NOT NULL
);
CREATE INDEX jwwx_admin_groups_parent ON jwwx_admin_groups (parent_id);

-- Members (accounts) of a group: its admins.
CREATE TABLE jwwx_admin_group_members (
    group_id BIGINT NOT NULL,
    user_id TEXT NOT NULL,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX jwwx_admin_group_members_user ON jwwx_admin_group_members (user_id);

-- A group's scope: directory subtrees (a department and everything below it).
CREATE TABLE jwwx_admin_group_scope (
    group_id BIGINT NOT NULL,
    department_id BIGINT NOT NULL,
    PRIMARY KEY (group_id, department_id)
);

-- The separated roles: super, audit, security.
CREATE TABLE jwwx_admin_roles (
    user_id TEXT NOT NULL,
    role TEXT NOT NULL,
    assigned_by TEXT NOT NULL,
    assigned_ts BIGINT NOT NULL,
    PRIMARY KEY (user_id, role)
);

-- 二级单位授权人数: unit_id is a second-level department; 0 is the total licence.
CREATE TABLE jwwx_admin_quotas (
    unit_id BIGINT NOT NULL PRIMARY KEY,
    quota BIGINT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_ts BIGINT NOT NULL
);

-- Bumped by every change of groups, members, scopes or roles: every process reloads
-- its cached model when it sees a new value.
CREATE TABLE jwwx_admin_generation (
    id SMALLINT NOT NULL PRIMARY KEY,
    generation BIGINT NOT NULL
);
INSERT INTO jwwx_admin_generation (id, generation) VALUES (1, 1);
