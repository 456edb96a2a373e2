# SPDX-License-Identifier: AGPL-3.0-or-later
"""Accounts (公众号): validation, the bot account, owners and editors, the subscriber
range, officers' own follow/unfollow, and the account's rooms.

Each account's rooms are the open API's broadcast rooms (modules.openapi.public): the
bot alone may post (events_default 100), every subscriber is a member of exactly one
room of `room_size`, joined in batches; history is "shared", and a new room gets the
cards of the account's latest pushes (`history_pushes`) before anyone joins it, so a
new subscriber reads what the account published before wherever it is placed. A change of range, a follow or an
unfollow brings the rooms up to date in the background (and the sweep catches directory
changes)."""

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Literal

from synapse.module_api import ModuleApi, UserID

from modules.common.errors import error
from modules.common.inputs import check_text
from modules.common.storage import Txn
from modules.common.synapse.accounts import (
    deactivate_user,
    is_user_deactivated,
    reactivate_user,
    set_avatar_url,
)
from modules.common.synapse.database import run_serialized_write
from modules.common.synapse.errors import Codes
from modules.directory import public as directory
from modules.openapi.public import Broadcasts, RoomStyle
from modules.public_accounts import storage
from modules.public_accounts.config import PublicAccountsConfig
from modules.public_accounts.errors import (
    ACCOUNT_NOT_FOUND,
    UNFOLLOW_NOT_ALLOWED,
    invalid,
    not_found,
)
from modules.public_accounts.page_cache import PageCache
from modules.public_accounts.storage import Account
from modules.public_accounts.storage import rooms as rooms_db

logger = logging.getLogger(__name__)

ROOMS = RoomStyle(
    "pubacct",
    "cn.jwwx.pubaccount",
    "公众号（只读）",
    "shared",
)
MAX_NAME = 64
MAX_DESCRIPTION = 500
MAX_LIST = 1000
KNOWN = {
    "name",
    "description",
    "avatar",
    "owners",
    "editors",
    "subscribers",
    "allow_unfollow",
}
# What an owner may change; the rest (the range above all) is an admin's.
OWNER_FIELDS = {"name", "description", "avatar", "editors"}


def account_json(account: Account, subscribers: int | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": account.id,
        "name": account.name,
        "description": account.description,
        "avatar": account.avatar,
        "bot_user_id": account.bot_user_id,
        "owners": list(account.owners),
        "editors": list(account.editors),
        "subscribers": {
            "userids": list(account.range_users),
            "department_ids": list(account.range_departments),
            "tag_ids": list(account.range_tags),
            "everyone": account.range_everyone,
        },
        "allow_unfollow": account.allow_unfollow,
        "created_by": account.created_by,
        "created_ts": account.created_ts,
        "updated_ts": account.updated_ts,
    }
    if subscribers is not None:
        body["subscriber_count"] = subscribers
    return body


def _strings(value: Any, name: str) -> tuple[str, ...]:
    if not isinstance(value, list) or len(value) > MAX_LIST:
        raise invalid(f"{name} 必须是不超过 {MAX_LIST} 项的字符串列表")
    for item in value:
        if not isinstance(item, str) or not item.strip() or len(item) > 64:
            raise invalid(f"{name} 含无效的 userid：{item!r}")
    return tuple(dict.fromkeys(value))


def _ints(value: Any, name: str) -> tuple[int, ...]:
    if not isinstance(value, list) or len(value) > MAX_LIST:
        raise invalid(f"{name} 必须是不超过 {MAX_LIST} 项的整数列表")
    for item in value:
        if isinstance(item, bool) or not isinstance(item, int) or item < 0:
            raise invalid(f"{name} 含无效的编号：{item!r}")
    return tuple(dict.fromkeys(value))


def parse_changes(body: dict[str, Any], creating: bool) -> dict[str, Any]:
    """The fields a create/update body sets, checked (nothing is stored on error)."""
    unknown = sorted(set(body) - KNOWN)
    if unknown:
        raise invalid(f"未知字段：{', '.join(unknown)}")
    changes: dict[str, Any] = {}
    if creating and "name" not in body:
        raise error(400, Codes.MISSING_PARAM, "缺少 name")
    if "name" in body:
        name = body["name"]
        if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME:
            raise invalid(f"name 必须是 1–{MAX_NAME} 个字符")
        changes["name"] = check_text(name.strip(), "name")
    if "description" in body:
        text = body["description"]
        if not isinstance(text, str) or len(text) > MAX_DESCRIPTION:
            raise invalid(f"description 最多 {MAX_DESCRIPTION} 个字符")
        changes["description"] = check_text(text, "description")
    if "avatar" in body:
        avatar = body["avatar"]
        if avatar is not None and (
            not isinstance(avatar, str) or not avatar.startswith("mxc://")
        ):
            raise invalid("avatar 必须是 mxc:// 地址或 null")
        changes["avatar"] = avatar
    for name in ("owners", "editors"):
        if name in body:
            changes[name] = _strings(body[name], name)
    if "allow_unfollow" in body:
        if not isinstance(body["allow_unfollow"], bool):
            raise invalid("allow_unfollow 必须是 true 或 false")
        changes["allow_unfollow"] = body["allow_unfollow"]
    if "subscribers" in body:
        scope = body["subscribers"]
        if not isinstance(scope, dict):
            raise invalid("subscribers 必须是对象")
        extra = sorted(
            set(scope) - {"userids", "department_ids", "tag_ids", "everyone"}
        )
        if extra:
            raise invalid(f"subscribers 的未知字段：{', '.join(extra)}")
        changes["range_users"] = _strings(scope.get("userids", []), "userids")
        changes["range_departments"] = _ints(
            scope.get("department_ids", []), "department_ids"
        )
        changes["range_tags"] = _ints(scope.get("tag_ids", []), "tag_ids")
        everyone = scope.get("everyone", False)
        if not isinstance(everyone, bool):
            raise invalid("subscribers.everyone 必须是 true 或 false")
        changes["range_everyone"] = everyone
    return changes


def check_references_txn(txn: Txn, changes: dict[str, Any]) -> None:
    """Every userid, department and tag named exists (400 naming the unknown ones)."""
    userids = sorted(
        {
            *changes.get("owners", ()),
            *changes.get("editors", ()),
            *changes.get("range_users", ()),
        }
    )
    missing: list[str] = []
    if userids:
        found = directory.get_members_txn(txn, userids)
        missing += [f"成员 {u}" for u in userids if u not in found]
    departments = list(changes.get("range_departments", ()))
    if departments:
        found_departments = directory.get_departments_txn(txn, departments)
        missing += [f"部门 {d}" for d in departments if d not in found_departments]
    for tag_id in changes.get("range_tags", ()):
        if directory.get_tag_txn(txn, tag_id) is None:
            missing.append(f"标签 {tag_id}")
    if missing:
        raise invalid("不存在：" + "、".join(missing[:10]), unknown=missing)


class Accounts:
    def __init__(self, api: ModuleApi, config: PublicAccountsConfig) -> None:
        self._api = api
        self._config = config
        self.rooms = Broadcasts(
            api,
            1,
            config.room_size,
            config.join_concurrency,
            store=rooms_db,
            style=ROOMS,
            range_of=storage.subscribers_txn,
            load=storage.get_account_txn,
            on_room_created=self._room_created,
        )
        # What article pages read, kept for a moment; emptied by every write here and
        # in the publisher (page_cache.py).
        self.page_cache = PageCache(config.page_cache_seconds)
        # Set by the module: fills a new room with the account's history.
        self.on_room_created: Callable[[Account, str], Awaitable[None]] | None = None

    async def _room_created(self, account: Account, room_id: str) -> None:
        if self.on_room_created is not None:
            await self.on_room_created(account, room_id)

    async def _db(self, desc: str, fn: Any, *args: Any) -> Any:
        return await self._api.run_db_interaction(f"jwwx_pubacct_{desc}", fn, *args)

    def _now(self) -> int:
        return int(self._api.get_current_time_msec())

    async def get(self, account_id: int) -> Account | None:
        return await self._db("get_account", storage.get_account_txn, account_id)

    async def require(self, account_id: int) -> Account:
        account = await self.get(account_id)
        if account is None:
            raise not_found(ACCOUNT_NOT_FOUND, f"公众号 {account_id} 不存在")
        return account

    async def list(self) -> list[Account]:
        return await self._db("list_accounts", storage.list_accounts_txn)

    async def subscriber_count(self, account_id: int) -> int:
        return int(await self.rooms.joined_count(account_id))

    async def create(self, body: dict[str, Any], admin: str) -> Account:
        changes = parse_changes(body, creating=True)
        now = self._now()

        def insert_txn(txn: Txn) -> int:
            check_references_txn(txn, changes)
            account_id = storage.next_id_txn(txn, "accounts")
            prefix = self._config.bot_localpart_prefix
            fields = {
                "description": "",
                "avatar": None,
                "owners": (),
                "editors": (),
                "range_users": (),
                "range_departments": (),
                "range_tags": (),
                "range_everyone": False,
                "allow_unfollow": True,
                "bot_user_id": self._api.get_qualified_user_id(f"{prefix}{account_id}"),
                "created_by": admin,
                "created_ts": now,
                "updated_ts": now,
                **changes,
            }
            return storage.insert_account_txn(txn, fields)

        account_id = await run_serialized_write(
            self._api, "jwwx_pubacct_create", "jwwx_pubacct_ids", insert_txn
        )
        account = await self.require(account_id)
        try:
            await self._ensure_bot(account)
        except Exception:
            await self._db("delete_account", storage.delete_account_txn, account_id)
            raise
        self.prepare(account)
        return account

    async def update(self, account: Account, changes: dict[str, Any]) -> Account:
        def update_txn(txn: Txn) -> None:
            check_references_txn(txn, changes)
            storage.update_account_txn(
                txn, account.id, {**changes, "updated_ts": self._now()}
            )

        await self._db("update_account", update_txn)
        self.page_cache.clear()
        after = await self.require(account.id)
        if after.name != account.name or after.avatar != account.avatar:
            await self._ensure_bot(after)
        if any(k.startswith("range_") for k in changes):
            self.prepare(after)
        return after

    async def delete(self, account: Account) -> None:
        """The account, its rooms' records and follows go; the bot is deactivated (it
        leaves the rooms: they stay in officers' lists as history)."""
        await self._db("delete_account", storage.delete_account_txn, account.id)
        self.page_cache.clear()
        try:
            await deactivate_user(self._api, account.bot_user_id)
        except Exception as e:
            logger.warning("cannot deactivate %s: %s", account.bot_user_id, e)

    async def _ensure_bot(self, account: Account) -> None:
        localpart = UserID.from_string(account.bot_user_id).localpart
        if await self._api.check_user_exists(account.bot_user_id) is None:
            await self._api.register_user(localpart, account.name)
        else:
            if await is_user_deactivated(self._api, account.bot_user_id):
                await reactivate_user(self._api, account.bot_user_id)
            await self._api.set_displayname(
                UserID.from_string(account.bot_user_id), account.name
            )
        if account.avatar:
            await set_avatar_url(self._api, account.bot_user_id, account.avatar)

    # Subscribers.

    def prepare(self, account: Account) -> None:
        """Bring the account's rooms up to date in the background."""
        self.rooms.prepare_in_background(account)

    async def sync(self, account: Account) -> dict[str, str]:
        """The rooms now (joins the missing, removes who left): userid → room."""
        return await self.rooms.sync(account)

    async def follow(self, account: Account, userid: str, following: bool) -> None:
        if not following and not account.allow_unfollow:
            in_range = await self._db("in_range", storage.in_range_txn, account)
            if userid in in_range:
                raise error(
                    403, UNFOLLOW_NOT_ALLOWED, f"公众号「{account.name}」不可取消关注"
                )
        await self._db(
            "follow", storage.set_follow_txn, account.id, userid, following, self._now()
        )
        self.page_cache.clear()
        self.prepare(account)

    async def is_subscriber(self, account_id: int, userid: str) -> bool:
        return bool(
            await self._db("is_member", rooms_db.is_member_txn, account_id, userid)
        )

    async def subscribed(self, userid: str) -> set[int]:
        return set(
            await self._db("subscribed", rooms_db.accounts_of_member_txn, userid)
        )

    async def officer_list(self, userid: str) -> Sequence[dict[str, Any]]:
        """What an officer's client lists (GET /_jwwx/client/v1/pubaccounts): every
        account, with whether this officer is subscribed."""
        mine = await self.subscribed(userid)
        return [
            {
                "id": a.id,
                "name": a.name,
                "description": a.description,
                "avatar": a.avatar,
                "subscribed": a.id in mine,
                "allow_unfollow": a.allow_unfollow,
            }
            for a in await self.list()
        ]

    async def conversation(self, account_id: int, userid: str) -> dict[str, Any] | None:
        """What the workbench's entry of an account opens for this officer (None: no
        such account): the account, whether he is subscribed, and his room in it
        (`room_id` null until he has been placed and joined)."""
        account = await self.get(account_id)
        if account is None:
            return None
        subscribed = account.id in await self.subscribed(userid)
        found = await self._db("room_of", rooms_db.room_of_txn, account.id, userid)
        return {
            "pubaccount_id": account.id,
            "name": account.name,
            "avatar": account.avatar,
            "subscribed": subscribed,
            "room_id": found[0] if subscribed and found and found[1] else None,
        }

    async def user_may_join_room(
        self, user_id: str, room_id: str, is_invited: bool
    ) -> Literal["NOT_SPAM"] | Codes:
        """Only the subscribers this module placed in an account's room may join it."""
        return await self.rooms.user_may_join_room(user_id, room_id, is_invited)

    async def sweep(self) -> None:
        for account in await self.list():
            self.prepare(account)
