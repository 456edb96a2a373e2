# SPDX-License-Identifier: AGPL-3.0-or-later
"""Revisions at rest: each Yjs update or snapshot SM4-sealed (modules/common/gm.py's
sm4_seal: CBC + HMAC-SM3) and SM3-chained per document.

chain(n) = SM3(chain(n-1) || doc_id || seq || kind || user_id || created_ts || key_id
               || sealed body), chain(0) = 32 zero bytes.

verify.py walks the chain.
"""

import base64
from collections.abc import Mapping
from dataclasses import dataclass

from modules.common.gm import sm3, sm4_open, sm4_seal

GENESIS = bytes(32)


@dataclass(frozen=True)
class Revision:
    doc_id: str
    seq: int
    kind: str  # "update", "snapshot" or "restore" (an update that restored a version)
    user_id: str
    created_ts: int
    key_id: str
    body: str  # base64 of the sealed payload
    chain: str  # hex


def link(previous: bytes, rev: Revision) -> bytes:
    fields = (
        rev.doc_id,
        str(rev.seq),
        rev.kind,
        rev.user_id,
        str(rev.created_ts),
        rev.key_id,
        rev.body,
    )
    return sm3(previous + "\x1f".join(fields).encode("utf-8"))


def seal(
    doc_id: str,
    seq: int,
    kind: str,
    user_id: str,
    created_ts: int,
    key_id: str,
    key: bytes,
    payload: bytes,
    previous_chain: str,
) -> Revision:
    body = base64.b64encode(sm4_seal(key, payload)).decode("ascii")
    draft = Revision(doc_id, seq, kind, user_id, created_ts, key_id, body, "")
    previous = bytes.fromhex(previous_chain) if previous_chain else GENESIS
    return Revision(
        doc_id,
        seq,
        kind,
        user_id,
        created_ts,
        key_id,
        body,
        link(previous, draft).hex(),
    )


def open_body(rev: Revision, keys: Mapping[str, bytes]) -> bytes:
    """The revision's plaintext; GmError/KeyError when it does not open."""
    return sm4_open(keys[rev.key_id], base64.b64decode(rev.body))
