# SPDX-License-Identifier: AGPL-3.0-or-later
"""The archive's record format: canonical bytes, the SM3 hash chain and SM4 sealing.

A record is (seq, kind, ts, has_media, body). Its canonical bytes are the UTF-8 of
canonical JSON (sorted keys, no spaces); its hash is SM3(previous record's hash ||
canonical bytes), the first record chaining to GENESIS. Two hash formats, stored per
record (jwwx_audit_records.hash_format):
  1: {"seq", "kind", "ts", "body"} (records written before schema 0002; has_media was
     outside the hash: the verifier checks it against the body's media list instead);
  2: {"v": 2, "seq", "kind", "ts", "has_media", "body"}: every stored column that
     selects or means something is inside the hash (key_id only names the key, and a
     wrong one fails the seal).
The hash covers the plaintext, so rebuilding the chain after deleting or changing a
record needs the SM4 key as well as database access. The stored payload is
base64(sm4_seal(key, canonical JSON of body)) with the key's id beside it, so a key can
be retired from sealing while older records stay readable with it.
"""

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from modules.common.gm import GmError, sm3, sm4_open, sm4_seal

GENESIS = "0" * 64
# The hash format new records are written with; HASH_FORMATS are those the verifier knows.
HASH_FORMAT = 2
HASH_FORMATS = (1, 2)


class RecordError(ValueError):
    """A stored record that cannot be opened (unknown key id, failed verification)."""


def canonical_json(value: Any) -> bytes:
    return json.dumps(
        value, ensure_ascii=False, sort_keys=True, separators=(",", ":")
    ).encode("utf-8")


def record_bytes(
    seq: int,
    kind: str,
    ts: int,
    body: Mapping[str, Any],
    has_media: bool = False,
    fmt: int = 1,
) -> bytes:
    if fmt == 1:
        return canonical_json({"seq": seq, "kind": kind, "ts": ts, "body": body})
    if fmt == 2:
        return canonical_json(
            {
                "v": 2,
                "seq": seq,
                "kind": kind,
                "ts": ts,
                "has_media": bool(has_media),
                "body": body,
            }
        )
    raise RecordError(f"unknown hash format {fmt}")


def chain_hash(
    prev_hash: str,
    seq: int,
    kind: str,
    ts: int,
    body: Any,
    has_media: bool = False,
    fmt: int = 1,
) -> str:
    data = record_bytes(seq, kind, ts, body, has_media, fmt)
    return sm3(bytes.fromhex(prev_hash) + data).hex()


def expected_has_media(kind: str, body: Mapping[str, Any]) -> bool:
    """What has_media must be for a record: a message that lists media."""
    return kind == "message" and bool(body.get("media"))


def seal_body(key: bytes, body: Mapping[str, Any]) -> str:
    return base64.b64encode(sm4_seal(key, canonical_json(body))).decode("ascii")


def open_body(keys: Mapping[str, bytes], key_id: str, payload: str) -> dict[str, Any]:
    key = keys.get(key_id)
    if key is None:
        raise RecordError(f"unknown key id {key_id!r}")
    try:
        plain = sm4_open(key, base64.b64decode(payload.encode("ascii")))
    except (GmError, ValueError) as e:
        raise RecordError(str(e)) from e
    body = json.loads(plain.decode("utf-8"))
    if not isinstance(body, dict):
        raise RecordError("record body is not an object")
    return body


@dataclass(frozen=True)
class StoredRecord:
    """A row of jwwx_audit_records, still sealed."""

    seq: int
    kind: str
    ts: int
    key_id: str
    payload: str
    hash: str
    has_media: bool = False
    hash_format: int = 1


@dataclass(frozen=True)
class Record:
    seq: int
    kind: str
    ts: int
    hash: str
    body: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "kind": self.kind,
            "ts": self.ts,
            "hash": self.hash,
            "record": self.body,
        }


def open_record(keys: Mapping[str, bytes], row: StoredRecord) -> Record:
    return Record(
        row.seq, row.kind, row.ts, row.hash, open_body(keys, row.key_id, row.payload)
    )
