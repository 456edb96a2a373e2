# SPDX-License-Identifier: AGPL-3.0-or-later
"""Checking an admin's entry body (create: every field; update: the fields given) into
an Entry. Bad input is refused with 400 M_INVALID_PARAM naming the field; nothing is
stored until the whole body passes."""

from typing import Any
from urllib.parse import urlsplit

from modules.common.inputs import InputError, bounded_str, has_bad_chars, int_value
from modules.workbench.storage import Entry

ZONES = ("internal", "external")
ZONE_NAMES = {"internal": "警务微信所在网络区域", "external": "其他网络区域"}
FIELDS = frozenset(
    {
        "name",
        "category",
        "description",
        "icon",
        "url",
        "agentid",
        "zone",
        "risk_prompt",
        "visible_range",
        "position",
        "enabled",
    }
)
RANGE_KEYS = ("department_ids", "userids", "tag_ids")
MAX_RANGE_ITEMS = 1000
DEFAULT_CATEGORY = "其他"


def check_url(value: Any) -> str:
    url = bounded_str(value, "url", 1024)
    parts = urlsplit(url)
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or has_bad_chars(url)
        or any(c.isspace() for c in url)
    ):
        raise InputError("url 应为 http:// 或 https:// 开头的完整地址")
    return url


def check_icon(value: Any) -> str:
    if value == "":
        return ""
    icon = bounded_str(value, "icon", 255)
    if not icon.startswith("mxc://") or icon.count("/") != 3:
        raise InputError("icon 应为本服务器上传图片的 mxc:// 地址")
    return icon


def check_range(value: Any) -> dict[str, list[Any]] | None:
    """None means everyone."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InputError("visible_range 应为对象 {department_ids, userids, tag_ids}")
    unknown = sorted(set(value) - set(RANGE_KEYS))
    if unknown:
        raise InputError(f"visible_range 不支持字段 {', '.join(unknown)}")
    out: dict[str, list[Any]] = {}
    for key in RANGE_KEYS:
        items = value.get(key, [])
        if not isinstance(items, list) or len(items) > MAX_RANGE_ITEMS:
            raise InputError(f"visible_range.{key} 应为至多 {MAX_RANGE_ITEMS} 项的列表")
        if key == "userids":
            out[key] = sorted(
                {bounded_str(u, "visible_range.userids", 64) for u in items}
            )
        else:
            out[key] = sorted(
                {int_value(i, f"visible_range.{key}", 1, 2**31 - 1) for i in items}
            )
    if not any(out.values()):
        raise InputError(
            "visible_range 为空：请指定部门、成员或标签，或设为 null（全员可见）"
        )
    return out


def entry_from_body(
    body: dict[str, Any], entry_id: int, now: int, base: Entry | None = None
) -> Entry:
    """The entry `body` describes: a new one (base None) or base with body's changes."""
    unknown = sorted(set(body) - FIELDS)
    if unknown:
        raise InputError(f"不支持的字段：{', '.join(unknown)}")
    if base is None:
        for field in ("name", "url"):
            if field not in body:
                raise InputError(f"缺少 {field}")
    changes: dict[str, Any] = {}
    if "name" in body:
        changes["name"] = bounded_str(body["name"], "name", 32, strip=True)
    if "category" in body:
        changes["category"] = bounded_str(body["category"], "category", 16, strip=True)
    if "description" in body:
        changes["description"] = bounded_str(
            body["description"], "description", 120, min_chars=0
        )
    if "icon" in body:
        changes["icon"] = check_icon(body["icon"])
    if "url" in body:
        changes["url"] = check_url(body["url"])
    if "agentid" in body:
        agentid = body["agentid"]
        changes["agentid"] = (
            None if agentid is None else int_value(agentid, "agentid", 1, 10**12 - 1)
        )
    if "zone" in body:
        if body["zone"] not in ZONES:
            raise InputError(
                "zone 只能是 internal（本网络区域）或 external（其他网络区域）"
            )
        changes["zone"] = body["zone"]
    if "risk_prompt" in body:
        prompt = body["risk_prompt"]
        changes["risk_prompt"] = (
            None
            if prompt is None
            else bounded_str(prompt, "risk_prompt", 500, strip=True)
        )
    if "visible_range" in body:
        changes["visible_range"] = check_range(body["visible_range"])
    if "position" in body:
        changes["position"] = int_value(body["position"], "position", 0, 100000)
    if "enabled" in body:
        if not isinstance(body["enabled"], bool):
            raise InputError("enabled 必须是 true 或 false")
        changes["enabled"] = body["enabled"]
    if base is not None:
        return base.with_changes(updated_ts=now, **changes)
    return Entry(
        id=entry_id,
        name=changes["name"],
        category=changes.get("category", DEFAULT_CATEGORY),
        description=changes.get("description", ""),
        icon=changes.get("icon", ""),
        url=changes["url"],
        agentid=changes.get("agentid"),
        zone=changes.get("zone", "internal"),
        risk_prompt=changes.get("risk_prompt"),
        visible_range=changes.get("visible_range"),
        position=changes.get("position", 0),
        enabled=changes.get("enabled", True),
        created_ts=now,
        updated_ts=now,
    )


def admin_json(entry: Entry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "name": entry.name,
        "category": entry.category,
        "description": entry.description,
        "icon": entry.icon,
        "url": entry.url,
        "agentid": entry.agentid,
        "zone": entry.zone,
        "risk_prompt": entry.risk_prompt,
        "visible_range": entry.visible_range,
        "position": entry.position,
        "enabled": entry.enabled,
        "created_ts": entry.created_ts,
        "updated_ts": entry.updated_ts,
    }


def officer_json(entry: Entry) -> dict[str, Any]:
    """What an officer's client shows; the address of an app or another zone comes
    only from the jump (with its code, after the prompt)."""
    out: dict[str, Any] = {
        "id": entry.id,
        "name": entry.name,
        "category": entry.category,
        "description": entry.description,
        "icon": entry.icon,
        "zone": entry.zone,
        "agentid": entry.agentid,
        "jump_required": entry.agentid is not None or entry.zone == "external",
    }
    if not out["jump_required"]:
        out["url"] = entry.url
    return out
