-- Entries a bridge keeps (the app-push bridge's zone-II APPs): source is
-- "<registration id>:<app id>", NULL for the admins' own entries. The bridge replaces
-- its set of entries whenever it starts (PUT /_jwwx/client/v1/workbench/bridged).
ALTER TABLE jwwx_workbench_entries ADD COLUMN source TEXT;
CREATE UNIQUE INDEX jwwx_workbench_entries_source ON jwwx_workbench_entries (source);
