# SPDX-License-Identifier: AGPL-3.0-or-later
"""message/send's duplicate check (重复消息检查): with `enable_duplicate_check: 1`, the
same message (type and content) to the same touser / toparty / totag from the same app
within `duplicate_check_interval` seconds (default 1800, at most 4 hours) is not sent
again; the answer carries the first message's msgid."""

import hashlib
import json
from typing import Any

from modules.common.inputs import decimal
from modules.openapi import errors
from modules.openapi.errors import WeComError

DEFAULT_INTERVAL_SECONDS = 1800
MAX_INTERVAL_SECONDS = 4 * 3600


def _flag(body: dict[str, Any], key: str, default: int) -> int:
    value = body.get(key, default)
    if isinstance(value, str) and decimal(value) is not None:
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise WeComError(errors.INVALID_PARAMETER, f"{key} must be an integer")
    return value


def window_ms(body: dict[str, Any]) -> int | None:
    """The duplicate-check window of a message/send body, or None when off."""
    if _flag(body, "enable_duplicate_check", 0) not in (0, 1):
        raise WeComError(errors.INVALID_PARAMETER, "enable_duplicate_check: 0 or 1")
    interval = _flag(body, "duplicate_check_interval", DEFAULT_INTERVAL_SECONDS)
    if not 1 <= interval <= MAX_INTERVAL_SECONDS:
        raise WeComError(
            errors.INVALID_PARAMETER,
            f"duplicate_check_interval: 1 to {MAX_INTERVAL_SECONDS}",
        )
    if not body.get("enable_duplicate_check"):
        return None
    return interval * 1000


def key(body: dict[str, Any], msgtype: str) -> str:
    """SHA-256 of the message and its addressees (canonical JSON)."""
    parts = {k: body.get(k) for k in ("touser", "toparty", "totag", "msgtype")}
    parts["content"] = body.get(msgtype)
    text = json.dumps(parts, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
