-- Member search reads candidates in result order straight from an index instead of
-- grouping every matching term first: broad queries (one initial, a common surname)
-- match tens of thousands of terms at bureau size. The terms carry the member's
-- sort_order for that (kept in step by every write of jwwx_dir_members.sort_order).
ALTER TABLE jwwx_dir_search_terms ADD COLUMN sort_order BIGINT NOT NULL DEFAULT 0;
UPDATE jwwx_dir_search_terms SET sort_order = (
    SELECT m.sort_order FROM jwwx_dir_members AS m WHERE m.userid = jwwx_dir_search_terms.userid
);
DROP INDEX jwwx_dir_search_terms_term;
-- Narrow queries: all matches of one rank by term range (covering).
CREATE INDEX jwwx_dir_search_terms_rank_term
    ON jwwx_dir_search_terms (rank, term, sort_order, userid);
-- Broad queries: one rank in result order, term checked in the index (covering).
CREATE INDEX jwwx_dir_search_terms_rank_order
    ON jwwx_dir_search_terms (rank, sort_order, userid, term);
-- Restricted readers: their subtree's members' terms by member (covering).
DROP INDEX jwwx_dir_search_terms_userid;
CREATE INDEX jwwx_dir_search_terms_member
    ON jwwx_dir_search_terms (userid, term, rank, sort_order);
