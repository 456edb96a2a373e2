# SPDX-License-Identifier: AGPL-3.0-or-later
"""Turning Synapse events into audit record bodies (pure: no I/O).

Timeline events (messages, stickers, reactions, redactions, ...) become "message"
records with the room's joined members at that point as recipients; state events become
"group" records with the operation they stand for (create, rename, topic, join, leave,
kick, invite, ban, power-level changes such as owner transfer and mute, dissolve).
"""

from collections.abc import Iterator, Mapping
from typing import Any

from modules.common.markers import BURN_FIELDS

GROUP_TYPE = "cn.jwwx.group"
POWER_LEVELS = "m.room.power_levels"
# State whose previous content a later record compares against.
TRACKED_STATE = ("m.room.name", "m.room.topic", POWER_LEVELS, GROUP_TYPE)
MEDIA_MSGTYPES = ("m.image", "m.video", "m.file", "m.audio")
# The levels of modules.groups' defaults (docs/groups.md): owner, admin, muted.
OWNER_LEVEL = 100
MUTED_LEVEL = -1
ADMIN_LEVEL = 50


def media_refs(event: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The media an event carries: mxc, file name, size and type as the sender gave."""
    content = event.get("content")
    if not isinstance(content, Mapping):
        return []
    url = content.get("url")
    is_media = event.get("type") == "m.sticker" or content.get("msgtype") in (
        MEDIA_MSGTYPES
    )
    if not is_media or not isinstance(url, str) or not url.startswith("mxc://"):
        return []
    info = content.get("info") if isinstance(content.get("info"), Mapping) else {}
    assert isinstance(info, Mapping)
    name = content.get("filename") or content.get("body")
    size = info.get("size")
    return [
        {
            "mxc": url,
            "name": name if isinstance(name, str) else None,
            "size": size
            if isinstance(size, int) and not isinstance(size, bool)
            else None,
            "mimetype": info.get("mimetype")
            if isinstance(info.get("mimetype"), str)
            else None,
        }
    ]


def local_media_id(mxc: str, server_name: str) -> str | None:
    prefix = f"mxc://{server_name}/"
    if not mxc.startswith(prefix):
        return None
    media_id = mxc[len(prefix) :].split("/", 1)[0].split("?", 1)[0]
    return media_id or None


def message_body(
    event: Mapping[str, Any],
    joined: list[str],
    is_group: bool,
    media: list[dict[str, Any]],
) -> dict[str, Any]:
    sender = str(event.get("sender"))
    body: dict[str, Any] = {
        "event_id": event.get("event_id"),
        "room_id": event.get("room_id"),
        "sender": sender,
        "type": event.get("type"),
        "recipients": [u for u in joined if u != sender],
        "is_group": is_group,
        "content": event.get("content", {}),
        "media": media,
    }
    redacts = event.get("redacts") or _get(event.get("content"), "redacts")
    if isinstance(redacts, str):
        body["redacts"] = redacts
    return body


def _domain(user_id: Any) -> str | None:
    if isinstance(user_id, str) and user_id.startswith("@") and ":" in user_id:
        return user_id.split(":", 1)[1]
    return None


def mark_cross_domain(body: dict[str, Any], server_name: str) -> None:
    """A record of an event that crosses police domains (federation) names them:
    "origin", the sender's domain, and "remote_domains", every other domain among the
    sender, the recipients and the membership target. Local records are unchanged."""
    users = [body.get("sender"), body.get("state_key"), *body.get("recipients", [])]
    found = {_domain(u) for u in users}
    remote = sorted(d for d in found if d is not None and d != server_name)
    if remote:
        body["origin"] = _domain(body.get("sender"))
        body["remote_domains"] = remote


BURN_PLACEHOLDER = "[阅后即焚消息：按设置不存档内容]"


def is_burn_message(event: Mapping[str, Any]) -> bool:
    content = event.get("content")
    return isinstance(content, Mapping) and any(f in content for f in BURN_FIELDS)


def without_burned_content(body: dict[str, Any]) -> dict[str, Any]:
    """A burn-after-read message's record when burn's audit_copy is off: who, when,
    where and to whom stay accountable; text and files are not kept."""
    content = body.get("content")
    msgtype = content.get("msgtype") if isinstance(content, Mapping) else None
    return {
        **body,
        "content": {
            "msgtype": msgtype,
            "body": BURN_PLACEHOLDER,
            "cn.jwwx.burn_after_read": True,
        },
        "media": [],
    }


def _get(value: Any, key: str) -> Any:
    return value.get(key) if isinstance(value, Mapping) else None


def _levels(content: Mapping[str, Any]) -> dict[str, int]:
    users = content.get("users")
    if not isinstance(users, Mapping):
        return {}
    out = {}
    for user, level in users.items():
        if isinstance(level, int) and not isinstance(level, bool):
            out[str(user)] = level
    return out


def _level_ops(
    old: Mapping[str, Any], new: Mapping[str, Any]
) -> tuple[list[str], dict[str, Any]]:
    before, after = _levels(old), _levels(new)
    changes = {
        u: [before.get(u), after.get(u)]
        for u in sorted(set(before) | set(after))
        if before.get(u) != after.get(u)
    }
    ops: list[str] = []
    gained = [u for u, (b, a) in changes.items() if (a or 0) >= OWNER_LEVEL > (b or 0)]
    lost = [u for u, (b, a) in changes.items() if (b or 0) >= OWNER_LEVEL > (a or 0)]
    if gained and lost:
        ops.append("owner_transfer")
    for b, a in changes.values():
        if (a if a is not None else 0) <= MUTED_LEVEL < (b if b is not None else 0):
            ops.append("mute")
        elif (b if b is not None else 0) <= MUTED_LEVEL < (a if a is not None else 0):
            ops.append("unmute")
    old_default, new_default = (
        old.get("events_default", 0),
        new.get("events_default", 0),
    )
    if isinstance(old_default, int) and isinstance(new_default, int):
        if new_default >= ADMIN_LEVEL > old_default:
            ops.append("mute_all")
        elif old_default >= ADMIN_LEVEL > new_default:
            ops.append("unmute_all")
    details: dict[str, Any] = {"changes": changes}
    if old_default != new_default:
        details["events_default"] = [old_default, new_default]
    return sorted(set(ops)), details


def _membership_op(event: Mapping[str, Any], was_joined: bool) -> str:
    membership = _get(event.get("content"), "membership")
    own = event.get("sender") == event.get("state_key")
    if membership == "join":
        return "profile" if was_joined else "join"
    if membership == "invite":
        return "invite"
    if membership == "ban":
        return "ban"
    if membership == "knock":
        return "knock"
    if membership == "leave":
        if own:
            return "leave" if was_joined else "invite_reject"
        return "kick" if was_joined else "invite_revoke"
    return "membership"


def group_body(
    event: Mapping[str, Any],
    previous: Mapping[str, Any] | None,
    was_joined: bool,
    is_group: bool,
) -> dict[str, Any]:
    """A state event as a group operation; `previous` is the tracked earlier content
    of the same state (TRACKED_STATE), `was_joined` the member's state before."""
    event_type = event.get("type")
    content = event.get("content") if isinstance(event.get("content"), Mapping) else {}
    assert isinstance(content, Mapping)
    old = previous or {}
    ops: list[str] = []
    details: dict[str, Any] = {}
    if event_type == "m.room.create":
        ops = ["create"]
    elif event_type == "m.room.name":
        ops = ["rename"]
        details = {"before": old.get("name"), "after": content.get("name")}
    elif event_type == "m.room.topic":
        ops = ["topic"]
        details = {"before": old.get("topic"), "after": content.get("topic")}
    elif event_type == "m.room.member":
        ops = [_membership_op(event, was_joined)]
    elif event_type == POWER_LEVELS:
        ops, details = _level_ops(old, content)
        ops = ops or ["power_levels"]
    elif event_type == GROUP_TYPE:
        if content.get("dissolved") is True and old.get("dissolved") is not True:
            ops = ["dissolve"]
        else:
            ops = ["group_settings"]
    elif event_type == "cn.jwwx.announcement":
        ops = ["announcement"]
    else:
        ops = ["state"]
    return {
        "event_id": event.get("event_id"),
        "room_id": event.get("room_id"),
        "sender": event.get("sender"),
        "type": event_type,
        "state_key": event.get("state_key"),
        "op": ops[0] if len(ops) == 1 else ",".join(ops),
        "ops": ops,
        "is_group": is_group or event_type == GROUP_TYPE,
        "content": dict(content),
        "details": details,
    }


def walk_strings(value: Any) -> Iterator[str]:
    """Every string in a JSON value (the keyword search looks at all of them)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from walk_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from walk_strings(item)
