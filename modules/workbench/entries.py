# SPDX-License-Identifier: AGPL-3.0-or-later
"""Checking an admin's entry body (create: every field; update: the fields given) into
an Entry. Bad input is refused with 400 M_INVALID_PARAM naming the field; nothing is
stored until the whole body passes.

Kinds: `link` (an http(s) address), `app` (an open-API app: agentid, its address in
the app's trusted domain), `pubaccount` (a public account: pubaccount_id; no address:
the jump opens the account's conversation), `zone2_app` (an APP of the mobile police
network zone II: its app link, e.g. `jwapp://open?page=…`, or an http(s) address;
always in the external zone, so always with the risk prompt)."""

import dataclasses
import re
from typing import Any
from urllib.parse import urlsplit

from modules.common.inputs import InputError, bounded_str, has_bad_chars, int_value
from modules.workbench.storage import Entry

KINDS = ("link", "app", "pubaccount", "zone2_app")
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
        "kind",
        "pubaccount_id",
    }
)
_SCHEME = re.compile(r"^([a-z][a-z0-9+.-]{1,31}):", re.IGNORECASE)
_UNSAFE_SCHEMES = {"javascript", "vbscript", "data", "file", "about", "blob"}
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


def check_app_link(value: Any) -> str:
    """A zone-II APP's launch address: its own scheme (not a script or data one), or
    http(s)."""
    url = bounded_str(value, "url", 1024)
    match = _SCHEME.match(url)
    if (
        match is None
        or match.group(1).lower() in _UNSAFE_SCHEMES
        or has_bad_chars(url)
        or any(c.isspace() for c in url)
        or len(url) <= len(match.group(0))
    ):
        raise InputError("url 应为应用的调起地址（如 jwapp://…）或 http(s):// 地址")
    if match.group(1).lower() in ("http", "https"):
        return check_url(url)
    return url


def check_kind(entry: Entry) -> Entry:
    """The entry with the fields its kind implies, or InputError when they disagree."""
    if entry.kind == "pubaccount":
        if entry.pubaccount_id is None:
            raise InputError("pubaccount 类应用需指定 pubaccount_id")
        if entry.agentid is not None:
            raise InputError("pubaccount 类应用不能指定 agentid")
        return dataclasses.replace(entry, url="", zone="internal")
    if entry.pubaccount_id is not None:
        raise InputError("只有 pubaccount 类应用能指定 pubaccount_id")
    if not entry.url:
        raise InputError("缺少 url")
    if entry.kind == "app" and entry.agentid is None:
        raise InputError("app 类应用需指定 agentid")
    if entry.kind == "link" and entry.agentid is not None:
        raise InputError("指定 agentid 的应用应为 app 类")
    if entry.kind == "zone2_app":
        if entry.agentid is not None:
            raise InputError("zone2_app 类应用不能指定 agentid")
        return dataclasses.replace(
            entry, url=check_app_link(entry.url), zone="external"
        )
    return dataclasses.replace(entry, url=check_url(entry.url))


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
    if base is None and "name" not in body:
        raise InputError("缺少 name")
    changes: dict[str, Any] = {}
    if "kind" in body:
        if body["kind"] not in KINDS:
            raise InputError(f"kind 只能是 {'、'.join(KINDS)}")
        changes["kind"] = body["kind"]
    if "pubaccount_id" in body:
        pubaccount = body["pubaccount_id"]
        changes["pubaccount_id"] = (
            None
            if pubaccount is None
            else int_value(pubaccount, "pubaccount_id", 1, 2**53)
        )
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
    if "url" in body:  # checked for its kind below
        changes["url"] = (
            "" if body["url"] is None else bounded_str(body["url"], "url", 1024)
        )
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
        return check_kind(base.with_changes(updated_ts=now, **changes))
    agentid = changes.get("agentid")
    return check_kind(
        Entry(
            id=entry_id,
            name=changes["name"],
            category=changes.get("category", DEFAULT_CATEGORY),
            description=changes.get("description", ""),
            icon=changes.get("icon", ""),
            url=changes.get("url", ""),
            agentid=changes.get("agentid"),
            zone=changes.get("zone", "internal"),
            risk_prompt=changes.get("risk_prompt"),
            visible_range=changes.get("visible_range"),
            position=changes.get("position", 0),
            enabled=changes.get("enabled", True),
            created_ts=now,
            updated_ts=now,
            kind=changes.get("kind", "app" if agentid is not None else "link"),
            pubaccount_id=changes.get("pubaccount_id"),
        )
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
        "kind": entry.kind,
        "pubaccount_id": entry.pubaccount_id,
        "source": entry.source,
        "created_ts": entry.created_ts,
        "updated_ts": entry.updated_ts,
    }


def officer_json(entry: Entry) -> dict[str, Any]:
    """What an officer's client shows. An internal link carries its address (the client
    opens it at once, inside the click, and reports the use with the jump); every other
    entry gets its address only from the jump (an app's code, another zone's prompt, a
    public account's conversation)."""
    direct = entry.kind == "link" and entry.zone == "internal"
    out: dict[str, Any] = {
        "id": entry.id,
        "name": entry.name,
        "category": entry.category,
        "description": entry.description,
        "icon": entry.icon,
        "kind": entry.kind,
        "zone": entry.zone,
        "agentid": entry.agentid,
        "pubaccount_id": entry.pubaccount_id,
        "jump_required": not direct,
    }
    if direct:
        out["url"] = entry.url
    return out


# A bridge's entries (the app-push bridge's zone-II APPs): the bridge keeps these
# fields; the admins keep the rest (range, position, enabled, risk prompt).
BRIDGED_APP_FIELDS = frozenset(
    {"app_id", "name", "url", "category", "description", "icon"}
)
BRIDGE_FIELDS = BRIDGED_APP_FIELDS - {"app_id"} | {"kind", "agentid", "zone"}
BRIDGE_FIELDS |= {"pubaccount_id"}
_BRIDGED_APP_ID = re.compile(r"^[a-z0-9_-]{1,32}$")


def bridged_entries(
    raw: Any, registration_id: str, now: int, max_entries: int
) -> list[Entry]:
    """The entries a bridge's body {"apps": [{app_id, name, url, category?,
    description?, icon?}]} describes (id 0: given when stored), each checked as an
    admin's zone2_app entry; InputError naming the app otherwise."""
    if not isinstance(raw, dict) or set(raw) != {"apps"}:
        raise InputError('请求体应为 {"apps": [...]}')
    apps = raw["apps"]
    if not isinstance(apps, list) or len(apps) > max_entries:
        raise InputError(f"apps 应为至多 {max_entries} 项的列表")
    out: list[Entry] = []
    seen: set[str] = set()
    for index, app in enumerate(apps):
        if not isinstance(app, dict):
            raise InputError(f"apps[{index}] 应为对象")
        app_id = app.get("app_id")
        if not isinstance(app_id, str) or not _BRIDGED_APP_ID.match(app_id):
            raise InputError(f"apps[{index}].app_id 应为 [a-z0-9_-]{{1,32}}")
        if app_id in seen:
            raise InputError(f"apps[{index}].app_id 重复：{app_id}")
        seen.add(app_id)
        unknown = sorted(set(app) - BRIDGED_APP_FIELDS)
        if unknown:
            raise InputError(f"apps[{index}] 不支持的字段：{', '.join(unknown)}")
        body = {k: v for k, v in app.items() if k != "app_id"}
        try:
            entry = entry_from_body({**body, "kind": "zone2_app"}, 0, now)
        except InputError as e:
            raise InputError(f"apps[{index}]（{app_id}）：{e.msg}") from e
        out.append(entry.with_changes(source=f"{registration_id}:{app_id}"))
    return out
