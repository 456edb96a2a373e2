# SPDX-License-Identifier: AGPL-3.0-or-later
"""The push protocol of zone II/III apps (docs/app_push.md): one HTTPS POST of a JSON
message to /_jwwx/app_push/v1/messages, signed with the app's secret.

    X-Jwwx-App: <app_id>
    X-Jwwx-Timestamp: <unix seconds>
    X-Jwwx-Nonce: <8–64 of [A-Za-z0-9_-], never reused within the clock skew>
    X-Jwwx-Signature: <method>=<hex>   e.g. hmac-sm3=5f1c…

    signed = "POST\\n" + path + "\\n" + app_id + "\\n" + timestamp + "\\n" + nonce + "\\n" + body
    hex    = HMAC-SM3(secret, signed) or HMAC-SHA256(secret, signed), as the app is configured

The body is a message in the open API's message/send form (msgtype text, markdown,
textcard or news; touser/toparty/totag separated by "|") plus an optional `msgid`, the
sender's idempotency key. `verify_push` checks all of it before anything is delivered;
a failure is a PushError with the HTTP status and a WeCom-style errcode/errmsg.
"""

import hashlib
import hmac
import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from bridges.app_push.config import AppPushConfig, PushApp
from modules.common import gm
from modules.openapi import errors as wecom
from modules.openapi.errors import WeComError
from modules.openapi.messages import build_content

PATH = "/_jwwx/app_push/v1/messages"
HEADER_APP = "X-Jwwx-App"
HEADER_TIMESTAMP = "X-Jwwx-Timestamp"
HEADER_NONCE = "X-Jwwx-Nonce"
HEADER_SIGNATURE = "X-Jwwx-Signature"
MESSAGE_TYPES = ("text", "markdown", "textcard", "news")
MAX_USERS, MAX_PARTIES, MAX_TAGS = 1000, 100, 100

BODY_TOO_LARGE = 45002
_NONCE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
_MSGID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
_SIGNATURE = re.compile(r"^(hmac-sm3|hmac-sha256)=([0-9a-f]{64})$")


class PushError(Exception):
    def __init__(self, status: int, errcode: int, errmsg: str) -> None:
        super().__init__(f"{errcode}: {errmsg}")
        self.status = status
        self.errcode = errcode
        self.errmsg = errmsg

    def body(self) -> dict[str, Any]:
        return {"errcode": self.errcode, "errmsg": self.errmsg}


@dataclass(frozen=True)
class Push:
    app_id: str
    msgid: str | None
    touser: tuple[str, ...]
    toparty: tuple[int, ...]
    totag: tuple[int, ...]
    msgtype: str
    content: dict[str, Any] = field(hash=False)  # the m.room.message content


def signed_bytes(app_id: str, timestamp: str, nonce: str, body: bytes) -> bytes:
    head = f"POST\n{PATH}\n{app_id}\n{timestamp}\n{nonce}\n"
    return head.encode("utf-8") + body


def sign(
    method: str, secret: bytes, app_id: str, timestamp: str, nonce: str, body: bytes
) -> str:
    """The X-Jwwx-Signature header value."""
    data = signed_bytes(app_id, timestamp, nonce, body)
    if method == "hmac-sm3":
        return f"{method}={gm.hmac_sm3(secret, data).hex()}"
    if method == "hmac-sha256":
        return f"{method}={hmac.new(secret, data, hashlib.sha256).hexdigest()}"
    raise ValueError(f"unknown signature method {method!r}")


class Nonces(Protocol):
    def claim(self, app_id: str, nonce: str, now: float) -> bool: ...


class NonceCache:
    """Nonces seen per app, forgotten once outside the clock skew (a replayed request
    is refused; a request older than the skew is refused by its timestamp)."""

    def __init__(self, skew_seconds: int, max_per_app: int = 100_000) -> None:
        self._skew = skew_seconds
        self._max = max_per_app
        self._seen: dict[str, dict[str, float]] = {}

    def claim(self, app_id: str, nonce: str, now: float) -> bool:
        seen = self._seen.setdefault(app_id, {})
        if len(seen) >= self._max:
            for old in [n for n, t in seen.items() if t < now - 2 * self._skew]:
                del seen[old]
        if nonce in seen or len(seen) >= self._max:
            return False
        seen[nonce] = now
        return True


def _header(headers: Mapping[str, str], name: str) -> str:
    value = headers.get(name.lower())
    if not value:
        raise PushError(400, wecom.INVALID_PARAMETER, f"header {name} is missing")
    return value


def _authenticate(
    config: AppPushConfig, headers: Mapping[str, str], body: bytes
) -> tuple[PushApp, str, str]:
    app_id = _header(headers, HEADER_APP)
    timestamp = _header(headers, HEADER_TIMESTAMP)
    nonce = _header(headers, HEADER_NONCE)
    given = _header(headers, HEADER_SIGNATURE)
    app = config.app(app_id)
    if app is None:
        raise PushError(401, wecom.INVALID_AGENTID, f"unknown app {app_id[:40]!r}")
    if not re.fullmatch(r"[0-9]{1,12}", timestamp):
        raise PushError(
            400, wecom.INVALID_PARAMETER, f"{HEADER_TIMESTAMP} must be unix seconds"
        )
    if not _NONCE.match(nonce):
        raise PushError(
            400,
            wecom.INVALID_PARAMETER,
            f"{HEADER_NONCE} must be 8-64 of [A-Za-z0-9_-]",
        )
    match = _SIGNATURE.match(given)
    if match is None or match.group(1) != app.signature:
        raise PushError(
            401,
            wecom.INVALID_SECRET,
            f"{HEADER_SIGNATURE} must be {app.signature}=<64 hex>",
        )
    expected = sign(app.signature, app.secret, app_id, timestamp, nonce, body)
    if not hmac.compare_digest(expected, given):
        raise PushError(401, wecom.INVALID_SECRET, "signature mismatch")
    return app, timestamp, nonce


def _targets(
    body: Mapping[str, Any], key: str, limit: int, numeric: bool
) -> tuple[Any, ...]:
    raw = body.get(key, "")
    if raw is None or raw == "":
        return ()
    if not isinstance(raw, str):
        raise PushError(
            400,
            wecom.INVALID_PARAMETER,
            f"{key} must be a string of ids separated by |",
        )
    parts = [p.strip() for p in raw.split("|") if p.strip()]
    if len(parts) > limit:
        raise PushError(400, wecom.INVALID_PARAMETER, f"{key}: at most {limit} ids")
    if not numeric:
        return tuple(dict.fromkeys(parts))
    if not all(re.fullmatch(r"[0-9]{1,10}", p) for p in parts):
        code = wecom.INVALID_TAGID if key == "totag" else wecom.INVALID_PARAMETER
        raise PushError(400, code, f"{key} must be numeric ids")
    return tuple(dict.fromkeys(int(p) for p in parts))


def parse_message(app: PushApp, body: bytes) -> Push:
    try:
        message = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise PushError(400, wecom.BAD_JSON, f"body is not UTF-8 JSON: {e}") from e
    if not isinstance(message, dict):
        raise PushError(400, wecom.BAD_JSON, "body must be a JSON object")
    msgid = message.get("msgid")
    if msgid is not None and (not isinstance(msgid, str) or not _MSGID.match(msgid)):
        raise PushError(
            400, wecom.INVALID_PARAMETER, "msgid must be 1-64 of [A-Za-z0-9_.:-]"
        )
    touser = _targets(message, "touser", MAX_USERS, numeric=False)
    if "@all" in touser and not app.allow_all:
        raise PushError(403, wecom.API_FORBIDDEN, "this app may not push to @all")
    toparty = _targets(message, "toparty", MAX_PARTIES, numeric=True)
    totag = _targets(message, "totag", MAX_TAGS, numeric=True)
    if not (touser or toparty or totag):
        raise PushError(
            400, wecom.INVALID_PARAMETER, "no target: touser, toparty or totag"
        )
    msgtype = message.get("msgtype")
    if isinstance(msgtype, str) and msgtype not in MESSAGE_TYPES and msgtype:
        raise PushError(
            400,
            wecom.INVALID_MSGTYPE,
            f"msgtype must be one of {', '.join(MESSAGE_TYPES)}",
        )
    try:
        msgtype, content = build_content(message)
    except WeComError as e:
        raise PushError(400, e.errcode, e.errmsg) from e
    return Push(app.app_id, msgid, touser, toparty, totag, msgtype, content)


def verify_push(
    config: AppPushConfig,
    nonces: Nonces,
    headers: Mapping[str, str],
    body: bytes,
    now: float | None = None,
) -> Push:
    """The push of one request (headers with lower-case names), or PushError."""
    if len(body) > config.max_body_bytes:
        raise PushError(
            413, BODY_TOO_LARGE, f"body is over {config.max_body_bytes} bytes"
        )
    app, timestamp, nonce = _authenticate(config, headers, body)
    clock = time.time() if now is None else now
    if abs(int(timestamp) - clock) > config.clock_skew_seconds:
        raise PushError(
            401,
            wecom.INVALID_SECRET,
            f"timestamp is more than {config.clock_skew_seconds} s off",
        )
    push = parse_message(app, body)
    # Claimed last: a request refused above may be corrected and sent again.
    if not nonces.claim(app.app_id, nonce, clock):
        raise PushError(401, wecom.INVALID_SECRET, "nonce already used")
    return push
