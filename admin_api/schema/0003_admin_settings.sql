-- Settings of the administration itself (docs/admin.md): the unit information and the
-- client splash image ("unit"), which profile fields officers may edit
-- ("profile_fields"). value: a JSON object.
CREATE TABLE jwwx_admin_settings (
    name TEXT NOT NULL PRIMARY KEY,
    value TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_ts BIGINT NOT NULL
);
