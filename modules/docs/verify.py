# SPDX-License-Identifier: AGPL-3.0-or-later
"""The verifier of a document's revisions (chain.py): walked from seq 1, a gap, a chain
that does not recompute, a body that does not open, or a last revision that is not the
document's recorded head is reported with its seq. Used by the admin endpoint and by
`python -m homeserver docs-verify` (public.py) on a plain DB-API connection."""

from collections.abc import Mapping
from typing import Any

from modules.common.gm import GmError
from modules.common.storage import Txn
from modules.docs import storage
from modules.docs.chain import GENESIS, link, open_body


def verify_document_txn(
    txn: Txn, doc_id: str, keys: Mapping[str, bytes]
) -> dict[str, Any]:
    """{"doc_id", "ok", "revisions", "problems": [{"seq", "problem"}]}; problem is one
    of missing, altered, unreadable, head_mismatch."""
    head = storage.head_txn(txn, doc_id)
    if head is None:
        return {"doc_id": doc_id, "ok": False, "problems": [{"problem": "no document"}]}
    problems: list[dict[str, Any]] = []
    previous = GENESIS
    expected = 1
    count = 0
    for rev in storage.all_revisions_txn(txn, doc_id):
        count += 1
        while expected < rev.seq:
            problems.append({"seq": expected, "problem": "missing"})
            expected += 1
        if link(previous, rev).hex() != rev.chain:
            problems.append({"seq": rev.seq, "problem": "altered"})
        try:
            open_body(rev, keys)
        except (GmError, KeyError, ValueError):
            problems.append({"seq": rev.seq, "problem": "unreadable"})
        previous = bytes.fromhex(rev.chain)
        expected = rev.seq + 1
    head_seq, head_chain = head
    while expected <= head_seq:
        problems.append({"seq": expected, "problem": "missing"})
        expected += 1
    if previous.hex() != head_chain and head_seq > 0:
        problems.append({"seq": head_seq, "problem": "head_mismatch"})
    return {
        "doc_id": doc_id,
        "ok": not problems,
        "revisions": count,
        "head_seq": head_seq,
        "problems": problems,
    }
