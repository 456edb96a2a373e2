# SPDX-License-Identifier: AGPL-3.0-or-later
"""The relay protocol's framing (docs/ministry_im.md): HMAC-SM3 request signatures and
the SM4-CBC envelope, the same code for what the bridge sends and what it receives.

    signed = method "\\n" path "\\n" system_id "\\n" key_id "\\n" timestamp "\\n" nonce
             "\\n" SM3-hex(body)          (body: the envelope bytes as sent)
    X-Relay-Signature = hex HMAC-SM3(signing key, signed)

The system id and key id are signed too: otherwise a captured request could be
replayed under another caller's or key's name (a flaw of the draft)."""

import base64
import json
import os
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from modules.common import gm

PREFIX = "/relay/v1/"
KINDS = ("message", "file_chunk", "receipt", "lookup")
H_ID = "X-Relay-Id"
H_KEY = "X-Relay-Key-Id"
H_TS = "X-Relay-Timestamp"
H_NONCE = "X-Relay-Nonce"
H_SIG = "X-Relay-Signature"
_NONCE = re.compile(r"^[0-9a-f]{32}$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


class RelayError(Exception):
    """A refusal: HTTP status, errcode, message (answered in clear: no key involved)."""

    def __init__(self, status: int, errcode: str, error: str, **extra: Any) -> None:
        super().__init__(f"{status} {errcode}: {error}")
        self.status = status
        self.errcode = errcode
        self.error = error
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {"errcode": self.errcode, "error": self.error, **self.extra}


@dataclass(frozen=True)
class Keys:
    system_id: str  # whose requests these keys sign
    signing_key: bytes
    sm4_keys: Mapping[str, bytes]  # key id → 16-byte SM4 key
    current_key_id: str  # what a sender encrypts with


def signed_string(
    method: str,
    path: str,
    system_id: str,
    key_id: str,
    ts: str,
    nonce: str,
    body: bytes,
) -> bytes:
    parts = (method, path, system_id, key_id, ts, nonce, gm.sm3_hex(body))
    return "\n".join(parts).encode("utf-8")


def seal(key: bytes, payload: Any) -> bytes:
    iv = os.urandom(gm.SM4_BLOCK_SIZE)
    plain = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    data = gm.sm4_cbc_encrypt(key, iv, plain)
    envelope = {
        "iv": base64.b64encode(iv).decode(),
        "data": base64.b64encode(data).decode(),
    }
    return json.dumps(envelope).encode()


def open_envelope(key: bytes, body: bytes) -> Any:
    try:
        envelope = json.loads(body)
        iv = base64.b64decode(envelope["iv"], validate=True)
        data = base64.b64decode(envelope["data"], validate=True)
        return json.loads(gm.sm4_cbc_decrypt(key, iv, data).decode("utf-8"))
    except (ValueError, KeyError, TypeError, gm.GmError) as e:
        raise RelayError(
            400, "RELAY_BAD_PAYLOAD", f"cannot decrypt the body: {e}"
        ) from e


def request(keys: Keys, path: str, payload: Any) -> tuple[dict[str, str], bytes]:
    """Headers and body of a POST of `payload` to `path`, signed and sealed."""
    key_id = keys.current_key_id
    body = seal(keys.sm4_keys[key_id], payload)
    ts = str(int(time.time() * 1000))
    nonce = os.urandom(16).hex()
    text = signed_string("POST", path, keys.system_id, key_id, ts, nonce, body)
    headers = {
        H_ID: keys.system_id,
        H_KEY: key_id,
        H_TS: ts,
        H_NONCE: nonce,
        H_SIG: gm.hmac_sm3(keys.signing_key, text).hex(),
        "Content-Type": "application/json",
    }
    return headers, body


@dataclass(frozen=True)
class Verified:
    key_id: str
    nonce: str
    timestamp_ms: int


def verify(
    keys: Keys,
    method: str,
    path: str,
    headers: Mapping[str, str],
    body: bytes,
    skew_seconds: int,
    now: float | None = None,
) -> Verified:
    """Check a request of the peer (`keys` are the peer's; header names lower-case).
    The nonce is the caller's to claim once the request is otherwise valid."""

    def header(name: str) -> str:
        value = headers.get(name.lower(), "")
        if not value:
            raise RelayError(401, "RELAY_UNSIGNED", f"header {name} is missing")
        return value

    system_id, key_id = header(H_ID), header(H_KEY)
    ts, nonce, given = header(H_TS), header(H_NONCE), header(H_SIG)
    if system_id != keys.system_id:
        raise RelayError(
            401, "RELAY_UNKNOWN_SYSTEM", f"unknown system {system_id[:40]!r}"
        )
    if key_id not in keys.sm4_keys:
        raise RelayError(401, "RELAY_UNKNOWN_KEY", f"unknown key id {key_id[:40]!r}")
    if not re.fullmatch(r"[0-9]{1,15}", ts) or not _NONCE.match(nonce):
        raise RelayError(401, "RELAY_BAD_SIGNATURE", "malformed timestamp or nonce")
    if not _HEX64.match(given):
        raise RelayError(401, "RELAY_BAD_SIGNATURE", f"{H_SIG} must be 64 hex")
    text = signed_string(method, path, system_id, key_id, ts, nonce, body)
    if not gm.hmac_sm3_verify(keys.signing_key, text, bytes.fromhex(given)):
        raise RelayError(401, "RELAY_BAD_SIGNATURE", "signature mismatch")
    clock = time.time() if now is None else now
    if abs(int(ts) / 1000 - clock) > skew_seconds:
        raise RelayError(
            401, "RELAY_STALE", f"timestamp is more than {skew_seconds} s off"
        )
    return Verified(key_id, nonce, int(ts))
