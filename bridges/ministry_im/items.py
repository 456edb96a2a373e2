# SPDX-License-Identifier: AGPL-3.0-or-later
"""The protocol's items, checked field by field (docs/ministry_im.md): a bad one is a
RelayError 400 naming the field, and nothing is stored."""

import base64
import re
from typing import Any

from bridges.ministry_im.protocol import RelayError

ID = re.compile(r"^[a-z0-9_.=-]{1,64}$")  # a ministry user/group id, an officer id
RELAY_ID = re.compile(r"^[A-Za-z0-9-]{8,64}$")
FILE_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
HEX64 = re.compile(r"^[0-9a-f]{64}$")
TYPES = ("text", "image", "file", "voice", "edit", "recall")
CONTENT_TYPES = ("text", "image", "file", "voice")  # what edit/recall may target
FILE_TYPES = ("image", "file", "voice")
CHANGE_TYPES = ("edit", "recall")  # of an earlier item, named by `target`
RECEIPTS = ("delivered", "read", "failed")
MAX_TEXT = 16384
MAX_BURN_MS = 7 * 86400 * 1000  # modules.burn's default max_ttl_ms


def bad(field: str, problem: str) -> RelayError:
    return RelayError(400, "RELAY_BAD_ITEM", f"{field}: {problem}")


def text_field(item: Any, key: str, pattern: re.Pattern[str] | None = None) -> str:
    value = item.get(key)
    if not isinstance(value, str) or not value:
        raise bad(key, "required, a string")
    if pattern is not None and not pattern.match(value):
        raise bad(key, f"must match {pattern.pattern}")
    return value


def int_field(item: Any, key: str, minimum: int, maximum: int) -> int:
    value = item.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise bad(key, "required, an integer")
    if not minimum <= value <= maximum:
        raise bad(key, f"must be {minimum}..{maximum}")
    return value


def conversation(value: Any) -> tuple[str, str, str | None]:
    """("direct", ministry user, officer) or ("group", group id, None)."""
    parts = value.split("/") if isinstance(value, str) else []
    if len(parts) == 3 and parts[0] == "direct" and all(ID.match(p) for p in parts[1:]):
        return "direct", parts[1], parts[2]
    if len(parts) == 2 and parts[0] == "group" and ID.match(parts[1]):
        return "group", parts[1], None
    raise bad("conversation", "must be direct/<ministry user>/<officer> or group/<id>")


def message(item: Any, max_file_bytes: int) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise bad("body", "must be an object")
    text_field(item, "relay_id", RELAY_ID)
    kind, first, _officer = conversation(item.get("conversation"))
    int_field(item, "seq", 1, 2**62)
    sender = text_field(item, "sender", ID)
    if kind == "direct" and sender != first:
        raise bad("sender", "must be the conversation's ministry user")
    if item.get("type") not in TYPES:
        raise bad("type", f"must be one of {', '.join(TYPES)}")
    if item["type"] in ("text", "edit"):
        text = text_field(item, "text")
        if len(text) > MAX_TEXT:
            raise bad("text", f"at most {MAX_TEXT} characters")
    if item["type"] in CHANGE_TYPES:
        text_field(item, "target", RELAY_ID)
        if "burn_after_read_ms" in item and item["type"] == "recall":
            raise bad("burn_after_read_ms", "not on a recall")
    elif item["type"] != "text":
        text_field(item, "file_id", FILE_ID)
        text_field(item, "name")
        text_field(item, "sm3", HEX64)
        int_field(item, "size", 1, max_file_bytes)
    if "burn_after_read_ms" in item:
        int_field(item, "burn_after_read_ms", 0, MAX_BURN_MS)
    members = item.get("members", [])
    if not isinstance(members, list) or not all(
        isinstance(m, str) and ID.match(m) for m in members
    ):
        raise bad("members", "must be a list of officer ids")
    return item


def burn_ms(item: dict[str, Any]) -> int | None:
    """The item's time-to-live after reading (burn-after-read), None when it has none."""
    value = item.get("burn_after_read_ms")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def pruned(item: dict[str, Any]) -> dict[str, Any]:
    """What is kept of a burn-after-read item once it has crossed: no text, no file
    name (what exactly-once, order and receipts need)."""
    keep = ("relay_id", "conversation", "seq", "sender", "type", "burn_after_read_ms")
    return {k: item[k] for k in keep if k in item} | {"burned": True}


def check_target(item: dict[str, Any], target: Any) -> None:
    """An edit or recall names an earlier message of the same side in the same
    conversation (`target`: that item's stored body, None when unknown); an edit
    only a text of its own sender."""
    if target is None or target.get("conversation") != item["conversation"]:
        raise bad("target", "no such message of yours in this conversation")
    if target.get("type") not in CONTENT_TYPES:
        raise bad("target", "must be a message (not an edit or recall)")
    if item["type"] == "edit" and (
        target.get("type") != "text" or target.get("sender") != item["sender"]
    ):
        raise bad("target", "an edit replaces a text of its own sender")


def chunk(
    item: Any, max_file_bytes: int, max_chunk: int
) -> tuple[str, int, int, bytes]:
    if not isinstance(item, dict):
        raise bad("body", "must be an object")
    file_id = text_field(item, "file_id", FILE_ID)
    size = int_field(item, "size", 1, max_file_bytes)
    offset = int_field(item, "offset", 0, size - 1)
    try:
        data = base64.b64decode(text_field(item, "data"), validate=True)
    except ValueError as e:
        raise bad("data", "must be base64") from e
    if not data or len(data) > max_chunk or offset + len(data) > size:
        raise bad("data", f"1..{max_chunk} bytes inside the file's size")
    text_field(item, "sm3", HEX64)
    return file_id, size, offset, data


def receipt(item: Any) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise bad("body", "must be an object")
    text_field(item, "relay_id", RELAY_ID)
    if item.get("kind") not in RECEIPTS:
        raise bad("kind", f"must be one of {', '.join(RECEIPTS)}")
    text_field(item, "user", ID)
    return item
