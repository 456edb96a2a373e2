-- modules.audit: has_media inside the record hash, and the quarantine of foreign rows.

-- The hash format of each record (modules/audit/records.py): 1 for the records written
-- before this migration ({"seq","kind","ts","body"}, has_media checked against the
-- body), 2 for new ones ({"v","seq","kind","ts","has_media","body"}).
ALTER TABLE jwwx_audit_records ADD COLUMN hash_format SMALLINT NOT NULL DEFAULT 1;

-- Rows found past the chain head (the archiver never leaves any: it writes records and
-- moves the head in one transaction). The archiver moves them here, as they were, and
-- goes on; health says "degraded" until an auditor has reviewed them (reviewed_ts).
-- reason: "forged" (does not chain on from the head) or "chains_past_head" (a valid
-- record: the head was rewound).
CREATE TABLE jwwx_audit_quarantine (
    seq BIGINT NOT NULL,
    kind TEXT NOT NULL,
    ts BIGINT NOT NULL,
    key_id TEXT NOT NULL,
    has_media SMALLINT NOT NULL,
    hash_format SMALLINT NOT NULL,
    payload TEXT NOT NULL,
    hash TEXT NOT NULL,
    reason TEXT NOT NULL,
    head_seq BIGINT NOT NULL,
    detected_ts BIGINT NOT NULL,
    reviewed_ts BIGINT,
    reviewed_by TEXT
);
CREATE INDEX jwwx_audit_quarantine_seq ON jwwx_audit_quarantine (seq);
