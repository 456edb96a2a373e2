# SPDX-License-Identifier: AGPL-3.0-or-later
"""Admin operations on apps (自建应用): validation, secrets, and each app's bot account."""

import dataclasses
import hashlib
import ipaddress
import logging
import re
import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from synapse.module_api import ModuleApi, UserID

from modules.common.errors import error
from modules.common.storage import Txn
from modules.common.synapse.accounts import (
    deactivate_user,
    is_user_deactivated,
    reactivate_user,
    set_avatar_url,
)
from modules.common.synapse.errors import Codes, SynapseError
from modules.openapi import storage
from modules.openapi.callbacks import CallbackError
from modules.openapi.config import OpenApiConfig
from modules.openapi.crypto import MODES, MsgCryptError, decode_encoding_aes_key
from modules.openapi.redirect import parse_trusted_domain
from modules.openapi.storage import App
from modules.openapi.storage import broadcast as broadcast_db
from modules.openapi.storage import statistics as stats_db
from modules.openapi.storage.statistics import DAY_MS

logger = logging.getLogger(__name__)

_MXC = re.compile(r"mxc://[A-Za-z0-9.:-]+/[A-Za-z0-9_-]+")
_CALLBACK_TOKEN = re.compile(r"^[A-Za-z0-9]{1,32}$")
APP_NOT_FOUND = "CN_JWWX_APP_NOT_FOUND"
APP_EXISTS = "CN_JWWX_APP_EXISTS"
CALLBACK_VERIFY_FAILED = "CN_JWWX_CALLBACK_VERIFY_FAILED"
MESSAGE_NOT_FOUND = "CN_JWWX_MESSAGE_NOT_FOUND"
# The bureau's days for statistics per day (China Standard Time, no daylight saving).
DAY_UTC_OFFSET_HOURS = 8
_KNOWN = {
    "agentid",
    "name",
    "description",
    "avatar",
    "visible_range",
    "redirect_domain",
    "ip_allowlist",
    "callback",
    "crypto_mode",
    "directory_write",
}


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def new_secret() -> str:
    """43 URL-safe characters, like a WeCom app secret."""
    return secrets.token_urlsafe(32)[:43]


def _invalid(message: str) -> SynapseError:
    return error(400, Codes.INVALID_PARAM, message)


def _ids(value: Any, key: str, kind: type) -> list[Any]:
    if not isinstance(value, list) or any(
        not isinstance(v, kind) or isinstance(v, bool) for v in value
    ):
        raise _invalid(f"{key} 必须是{'整数' if kind is int else '字符串'}数组")
    return sorted(set(value), key=str)


def parse_changes(body: dict[str, Any], creating: bool) -> dict[str, Any]:
    """Columns from an admin body (WeCom's console fields, see docs/openapi.md)."""
    unknown = set(body) - _KNOWN
    if unknown:
        raise _invalid(f"不认识的字段：{', '.join(sorted(unknown))}")
    changes: dict[str, Any] = {}
    if "name" in body or creating:
        name = body.get("name")
        if not isinstance(name, str) or not name.strip() or len(name.strip()) > 32:
            raise _invalid("应用名称不能为空，且不超过 32 个字符")
        changes["name"] = name.strip()
    if "description" in body:
        if not isinstance(body["description"], str) or len(body["description"]) > 120:
            raise _invalid("description 必须是不超过 120 个字符的字符串")
        changes["description"] = body["description"]
    if "avatar" in body:
        avatar = body["avatar"]
        if avatar in (None, ""):
            changes["avatar"] = None
        elif not isinstance(avatar, str) or not _MXC.fullmatch(avatar):
            raise _invalid("avatar 必须是 mxc:// 开头的媒体地址")
        else:
            changes["avatar"] = avatar
    if "visible_range" in body or creating:
        scope = body.get("visible_range", {})
        if not isinstance(scope, dict) or set(scope) - {
            "userids",
            "department_ids",
            "tag_ids",
        }:
            raise _invalid("visible_range 只能包含 userids、department_ids、tag_ids")
        changes["visible_users"] = _ids(scope.get("userids", []), "userids", str)
        changes["visible_departments"] = _ids(
            scope.get("department_ids", []), "department_ids", int
        )
        changes["visible_tags"] = _ids(scope.get("tag_ids", []), "tag_ids", int)
    if "redirect_domain" in body:
        domain = body["redirect_domain"]
        if domain in (None, ""):
            changes["redirect_domain"] = None
        elif not isinstance(domain, str) or parse_trusted_domain(domain) is None:
            raise _invalid(
                "redirect_domain 必须是域名（可带端口，可带 http:// 或 https://），"
                "不含路径；中文域名请写 punycode（xn--…）"
            )
        else:
            changes["redirect_domain"] = domain.lower()
    if "ip_allowlist" in body or creating:
        entries = body.get("ip_allowlist", [])
        if not isinstance(entries, list):
            raise _invalid("ip_allowlist 必须是数组")
        for entry in entries:
            try:
                ipaddress.ip_network(entry, strict=False)
            except (TypeError, ValueError) as e:
                raise _invalid(f"ip_allowlist 中的“{entry}”不是 IP 或网段") from e
        changes["ip_allowlist"] = [str(e) for e in entries]
    if "crypto_mode" in body:
        if body["crypto_mode"] not in MODES:
            raise _invalid("crypto_mode 只能是 aes 或 sm4")
        changes["crypto_mode"] = body["crypto_mode"]
    if "directory_write" in body:
        if not isinstance(body["directory_write"], bool):
            raise _invalid("directory_write 必须是 true 或 false")
        changes["directory_write"] = body["directory_write"]
    if "callback" in body:
        changes.update(_callback(body["callback"]))
    return changes


def _callback(value: Any) -> dict[str, Any]:
    if value is None:
        return {"callback_url": None, "callback_token": None, "encoding_aes_key": None}
    if not isinstance(value, dict) or set(value) != {
        "url",
        "token",
        "encoding_aes_key",
    }:
        raise _invalid("callback 必须是 {url, token, encoding_aes_key}")
    url = value["url"]
    if not isinstance(url, str) or not re.match(r"^https?://[^\s/]+", url):
        raise _invalid("callback.url 必须是 http(s) 地址")
    token = value["token"]
    if not isinstance(token, str) or not _CALLBACK_TOKEN.match(token):
        raise _invalid("callback.token 必须是 1 到 32 位英文或数字")
    try:
        decode_encoding_aes_key(value["encoding_aes_key"])
    except MsgCryptError as e:
        raise _invalid("callback.encoding_aes_key 必须是 43 位 Base64 字符") from e
    return {
        "callback_url": url,
        "callback_token": token,
        "encoding_aes_key": value["encoding_aes_key"],
    }


def app_json(app: App, with_secrets: bool = False) -> dict[str, Any]:
    """An app for the admin API. The callback's token and EncodingAESKey are shown
    only in the answer to the request that set them (like the secret): afterwards
    `callback` has only its url."""
    callback: dict[str, Any] | None = None
    if app.callback_url is not None:
        callback = {"url": app.callback_url}
        if with_secrets:
            callback["token"] = app.callback_token
            callback["encoding_aes_key"] = app.encoding_aes_key
    return {
        "agentid": app.agentid,
        "name": app.name,
        "description": app.description,
        "avatar": app.avatar or "",
        "bot_user_id": app.bot_user_id,
        "visible_range": {
            "userids": list(app.visible_users),
            "department_ids": list(app.visible_departments),
            "tag_ids": list(app.visible_tags),
        },
        "redirect_domain": app.redirect_domain or "",
        "ip_allowlist": list(app.ip_allowlist),
        "callback": callback,
        "crypto_mode": app.crypto_mode,
        "directory_write": app.directory_write,
        "created_by": app.created_by,
        "created_ts": app.created_ts,
        "updated_ts": app.updated_ts,
    }


class AppAdmin:
    def __init__(
        self,
        api: ModuleApi,
        config: OpenApiConfig,
        on_change: Any,
        verify_url: Any,
        on_range_set: Callable[[App], None] | None = None,
    ) -> None:
        self._api = api
        self._config = config
        self._on_change = on_change  # called with an agentid whose tokens changed
        self._verify_url = verify_url  # async (App) -> None, raises CallbackError
        # Called with an app whose visible range was just set (broadcast rooms and
        # conversations to prepare, __init__.py).
        self._on_range_set = on_range_set

    def _range_set(self, app: App) -> None:
        if self._on_range_set is not None:
            self._on_range_set(app)

    async def _verify(self, app: App) -> None:
        if app.callback_url is None:
            return
        try:
            await self._verify_url(app)
        except CallbackError as e:
            raise error(400, CALLBACK_VERIFY_FAILED, str(e)) from e

    async def _db(self, desc: str, fn: Any, *args: Any) -> Any:
        return await self._api.run_db_interaction(f"jwwx_openapi_{desc}", fn, *args)

    async def require(self, agentid: int) -> App:
        app = await self._db("get_app", storage.get_app_txn, agentid)
        if app is None:
            raise error(404, APP_NOT_FOUND, f"应用 {agentid} 不存在")
        return app

    async def list(self) -> dict[str, Any]:
        apps = await self._db("list_apps", storage.list_apps_txn)
        return {"apps": [app_json(a) for a in apps]}

    async def create(self, body: dict[str, Any], admin: str) -> dict[str, Any]:
        changes = parse_changes(body, creating=True)
        wanted = body.get("agentid")
        if wanted is not None and (
            isinstance(wanted, bool) or not isinstance(wanted, int) or wanted < 1
        ):
            raise _invalid("agentid 必须是正整数")
        secret = new_secret()
        now = int(self._api.get_current_time_msec())
        prefix = self._config.bot_localpart_prefix

        candidate = wanted
        if candidate is None:
            # Never reuse the agentid (and bot account) of a deleted app.
            candidate = await self._db(
                "next_agentid", storage.next_agentid_txn, self._config.first_agentid
            )
            while (
                await self._api.check_user_exists(
                    self._api.get_qualified_user_id(f"{prefix}{candidate}")
                )
                is not None
            ):
                candidate += 1

        def insert_txn(txn: Txn) -> int:
            agentid = candidate
            if storage.get_app_txn(txn, agentid) is not None:
                raise error(409, APP_EXISTS, f"应用 {agentid} 已存在")
            fields = {
                "agentid": agentid,
                "description": "",
                "avatar": None,
                "bot_user_id": self._api.get_qualified_user_id(f"{prefix}{agentid}"),
                "secret_hash": secret_hash(secret),
                "redirect_domain": None,
                "crypto_mode": "aes",
                "directory_write": False,
                "created_by": admin,
                "created_ts": now,
                "updated_ts": now,
                **changes,
            }
            storage.insert_app_txn(txn, fields)
            return agentid

        agentid = await self._db("create_app", insert_txn)
        app = await self.require(agentid)
        try:
            await self._verify(app)
            await self._ensure_bot(app)
        except Exception:
            await self._db("delete_app", storage.delete_app_txn, agentid)
            raise
        self._range_set(app)
        return {**app_json(app, with_secrets=True), "secret": secret}

    async def _ensure_bot(self, app: App) -> None:
        """The app's Matrix account, named like the app (and with its avatar)."""
        localpart = UserID.from_string(app.bot_user_id).localpart
        if await self._api.check_user_exists(app.bot_user_id) is None:
            await self._api.register_user(localpart, app.name)
        else:
            if await is_user_deactivated(self._api, app.bot_user_id):
                await reactivate_user(self._api, app.bot_user_id)
            await self._api.set_displayname(
                UserID.from_string(app.bot_user_id), app.name
            )
        if app.avatar:
            await set_avatar_url(self._api, app.bot_user_id, app.avatar)

    async def update(self, agentid: int, body: dict[str, Any]) -> dict[str, Any]:
        if "agentid" in body and body["agentid"] != agentid:
            raise _invalid("不能修改 agentid")
        body = {k: v for k, v in body.items() if k != "agentid"}
        before = await self.require(agentid)
        changes = parse_changes(body, creating=False)
        if "callback_url" in changes or "crypto_mode" in changes:
            await self._verify(dataclasses.replace(before, **changes))
        now = int(self._api.get_current_time_msec())
        await self._db("update_app", storage.update_app_txn, agentid, changes, now)
        after = await self.require(agentid)
        try:
            if before.name != after.name:
                await self._api.set_displayname(
                    UserID.from_string(after.bot_user_id), after.name
                )
            if before.avatar != after.avatar:
                await set_avatar_url(self._api, after.bot_user_id, after.avatar or "")
        except SynapseError as e:
            logger.warning("cannot update bot %s: %s", after.bot_user_id, e)
        self._on_change(agentid)
        if "visible_users" in changes:
            self._range_set(after)
        return app_json(after, with_secrets="callback_url" in changes)

    async def reset_secret(self, agentid: int) -> dict[str, Any]:
        await self.require(agentid)
        secret = new_secret()
        now = int(self._api.get_current_time_msec())
        await self._db(
            "reset_secret", storage.set_secret_txn, agentid, secret_hash(secret), now
        )
        self._on_change(agentid)
        return {"agentid": agentid, "secret": secret}

    async def delete(self, agentid: int) -> None:
        app = await self.require(agentid)
        await self._db("delete_app", storage.delete_app_txn, agentid)
        self._on_change(agentid)
        try:
            await deactivate_user(self._api, app.bot_user_id)
        except SynapseError as e:
            logger.warning("cannot deactivate bot %s: %s", app.bot_user_id, e)

    async def statistics(self, agentid: int) -> dict[str, Any]:
        """Totals of the app (messages, recipients, delivered, failed, read, prepared
        conversations, officers joined to its broadcast rooms) and its 20 latest messages with their own counts."""
        await self.require(agentid)
        stats = await self._db("stats", storage.app_statistics_txn, agentid)
        stats["read"] = await self._db(
            "app_read", storage.app_read_count_txn, agentid, self._api.server_name
        )
        stats["conversations"] = await self._db(
            "conversation_count", storage.conversation_count_txn, agentid
        )
        stats["broadcast_members"] = await self._db(
            "broadcast_count", broadcast_db.joined_count_txn, agentid
        )
        recent = await self._db("recent", storage.recent_messages_txn, agentid, 20)
        return {
            "agentid": agentid,
            **stats,
            "recent": [await self.message(agentid, m) for m in recent],
        }

    async def cross_statistics(
        self, agentids: tuple[int, ...], days: int, now_ms: int
    ) -> dict[str, Any]:
        """Pushed, recipients, delivered and read of these apps over the last `days`
        local days (today included): per app, per day and app, per unit and app."""
        apps = [await self.require(a) for a in agentids]
        offset = DAY_UTC_OFFSET_HOURS * 3_600_000
        today = (now_ms + offset) // DAY_MS * DAY_MS - offset
        since = today - (days - 1) * DAY_MS
        raw = await self._db(
            "cross_stats",
            stats_db.cross_app_statistics_txn,
            agentids,
            since,
            days,
            offset,
            self._api.server_name,
        )
        keys = ("pushed", "recipients", "delivered", "read")

        def day_name(index: int) -> str:
            start = (since + index * DAY_MS + offset) / 1000
            return time.strftime("%Y-%m-%d", time.gmtime(start))

        def total(
            cells: Iterable[Mapping[str, Any]], names: tuple[str, ...]
        ) -> dict[str, int]:
            rows = list(cells)
            return {k: sum(c.get(k, 0) for c in rows) for k in names}

        zero = dict.fromkeys(keys, 0)
        day_rows = [
            {
                "day": day_name(d),
                **total(list(raw["days"][d].values()), keys),
                "apps": [
                    {"agentid": a, **raw["days"][d].get(a, zero)} for a in agentids
                ],
            }
            for d in range(days)
        ]
        app_rows = [
            {
                "agentid": app.agentid,
                "name": app.name,
                **total(
                    [
                        r
                        for d in raw["days"].values()
                        for a, r in d.items()
                        if a == app.agentid
                    ],
                    keys,
                ),
            }
            for app in apps
        ]
        unit_rows = [
            {
                "unit_id": unit_id or None,
                "unit_name": name,
                **total(list(cells.values()), ("delivered", "read")),
                "apps": [
                    {"agentid": a, **cells.get(a, {"delivered": 0, "read": 0})}
                    for a in agentids
                ],
            }
            for unit_id, (name, cells) in raw["units"].items()
        ]
        return {
            "agentids": agentids,
            "from": day_name(0),
            "to": day_name(days - 1),
            "utc_offset_hours": DAY_UTC_OFFSET_HOURS,
            "totals": total(app_rows, keys),
            "apps": app_rows,
            "days": day_rows,
            "units": unit_rows,
        }

    async def message(self, agentid: int, msgid: str) -> dict[str, Any]:
        """One message: recipients, delivered (sent), failed and read (receipts)."""
        message = await self._db("message", storage.get_message_txn, msgid)
        if message is None or int(message["agentid"]) != agentid:
            raise error(404, MESSAGE_NOT_FOUND, f"消息 {msgid} 不存在")
        read = await self._db(
            "read_count", storage.read_count_txn, msgid, self._api.server_name
        )
        return {
            "msgid": msgid,
            "msgtype": message["msgtype"],
            "state": message["state"],
            "recipients": int(message["recipients"]),
            "delivered": int(message["sent"]),
            "failed": int(message["failed"]),
            "read": read,
            "created_ts": int(message["created_ts"]),
        }
