-- A department's members are listed by (department sort order, member sort order,
-- userid). With the member's sort order copied here, a page is a walk of one index
-- instead of sorting the whole department (3,000 members) for every page. Kept in step
-- by every write of jwwx_dir_members.sort_order.
ALTER TABLE jwwx_dir_memberships ADD COLUMN member_sort_order BIGINT NOT NULL DEFAULT 0;
UPDATE jwwx_dir_memberships SET member_sort_order = (
    SELECT m.sort_order FROM jwwx_dir_members AS m WHERE m.userid = jwwx_dir_memberships.userid
);
DROP INDEX jwwx_dir_memberships_department;
CREATE INDEX jwwx_dir_memberships_listing
    ON jwwx_dir_memberships (department_id, sort_order, member_sort_order, userid);
