# SPDX-License-Identifier: AGPL-3.0-or-later
"""The workbench: which entries an officer sees, search, jumps, and the admins' writes.

Entries are few (hundreds at most): each process keeps them, with each entry's visible
range resolved against the directory and its search terms, for `cache_seconds`; an
admin write reloads the writing process at once."""

import time
from dataclasses import dataclass, field
from typing import Any

from synapse.module_api import ModuleApi

from modules.common import registry
from modules.common.errors import error
from modules.common.inputs import InputError
from modules.common.storage import Txn, fold
from modules.common.synapse.database import run_serialized_write
from modules.common.synapse.errors import Codes
from modules.directory import public as directory
from modules.openapi import public as openapi
from modules.public_accounts import public as public_accounts
from modules.workbench import storage
from modules.workbench.config import WorkbenchConfig
from modules.workbench.entries import (
    BRIDGE_FIELDS,
    ZONE_NAMES,
    bridged_entries,
    entry_from_body,
    officer_json,
)
from modules.workbench.storage import Entry

FULL = "CN_JWWX_WORKBENCH_FULL"
# The bureau's days for usage per day (China Standard Time, no daylight saving).
DAY_UTC_OFFSET_HOURS = 8
DAY_MS = 86_400_000
JUMP_REFUSED = "CN_JWWX_WORKBENCH_JUMP_REFUSED"
CODE_SECONDS = 300  # the open API's OAuth2 code lifetime


@dataclass
class Snapshot:
    entries: list[Entry]
    ranges: dict[int, directory.VisibleRange]
    terms: dict[int, list[str]] = field(default_factory=dict)
    loaded: float = 0.0


def _snapshot_txn(txn: Txn) -> Snapshot:
    entries = storage.list_txn(txn)
    ranges = {}
    for entry in entries:
        if entry.visible_range is None:
            ranges[entry.id] = directory.EVERYTHING
        else:
            r = entry.visible_range
            ranges[entry.id] = directory.visible_range_txn(
                txn, r["userids"], r["department_ids"], r["tag_ids"]
            )
    return Snapshot(entries, ranges)


def local_day(ms: int) -> int:
    """yyyymmdd of the bureau's day at this time."""
    moment = time.gmtime(ms / 1000 + DAY_UTC_OFFSET_HOURS * 3600)
    return moment.tm_year * 10000 + moment.tm_mon * 100 + moment.tm_mday


def _day_text(day: int) -> str:
    return f"{day // 10000:04d}-{day // 100 % 100:02d}-{day % 100:02d}"


def _officer_txn(
    txn: Txn, userid: str
) -> tuple[directory.Member | None, dict[int, directory.Department]]:
    member = directory.get_member_txn(txn, userid)
    if member is None:
        return None, {}
    return member, directory.get_departments_txn(txn, sorted(member.department_ids))


def _check_range_txn(txn: Txn, visible_range: dict[str, list[Any]] | None) -> None:
    """Every department, tag and member the range names exists."""
    if visible_range is None:
        return
    wanted = visible_range["department_ids"]
    found = directory.get_departments_txn(txn, wanted)
    missing = [str(d) for d in wanted if d not in found]
    missing += [
        f"标签 {t}"
        for t in visible_range["tag_ids"]
        if directory.get_tag_txn(txn, t) is None
    ]
    members = directory.get_members_txn(txn, visible_range["userids"])
    missing += [f"成员 {u}" for u in visible_range["userids"] if u not in members]
    if missing:
        raise InputError(f"visible_range 中不存在：{', '.join(missing[:10])}")


class Workbench:
    def __init__(self, api: ModuleApi, config: WorkbenchConfig) -> None:
        self._api = api
        self._config = config
        self._snapshot: Snapshot | None = None
        self.bridges = config.bridges

    def _now(self) -> int:
        return int(self._api.get_current_time_msec())

    async def _entries(self) -> Snapshot:
        snap = self._snapshot
        if snap is None or time.monotonic() - snap.loaded > self._config.cache_seconds:
            snap = await self._api.run_db_interaction(
                "jwwx_workbench_snapshot", _snapshot_txn
            )
            snap.loaded = time.monotonic()
            self._snapshot = snap
        return snap

    def _terms(self, snap: Snapshot, entry: Entry) -> list[str]:
        if entry.id not in snap.terms:
            terms = [fold(entry.name), fold(entry.category), fold(entry.description)]
            terms += [t for t, _rank in directory.name_search_terms(entry.name)]
            snap.terms[entry.id] = terms
        return snap.terms[entry.id]

    def _matches(self, snap: Snapshot, entry: Entry, query: str) -> bool:
        plain = fold(query.strip())
        key = directory.normalise_query(query)
        terms = self._terms(snap, entry)
        # Name, category and description by substring; pinyin and initials by prefix.
        return any(plain in t for t in terms[:3]) or any(
            t.startswith(key) for t in terms[3:] if key
        )

    async def _visible(self, user_id: str) -> tuple[Snapshot, list[Entry]]:
        snap = await self._entries()
        userid = user_id[1:].split(":", 1)[0]
        member, departments = await self._api.run_db_interaction(
            "jwwx_workbench_officer", _officer_txn, userid
        )
        shown = []
        for entry in snap.entries:
            if not entry.enabled:
                continue
            scope = snap.ranges[entry.id]
            # Accounts outside the directory see only entries for everyone.
            if scope.everything or (
                member is not None and scope.has_member(member, departments)
            ):
                shown.append(entry)
        return snap, shown

    async def officer_view(
        self, user_id: str, query: str | None, category: str | None
    ) -> dict[str, Any]:
        snap, entries = await self._visible(user_id)
        if query is not None:
            if len(query) > 64:
                raise InputError("q 最多 64 个字符")
            if query.strip():
                entries = [e for e in entries if self._matches(snap, e, query)]
        if category:
            entries = [e for e in entries if e.category == category]
        groups: dict[str, list[dict[str, Any]]] = {}
        for entry in entries:
            groups.setdefault(entry.category, []).append(officer_json(entry))
        return {
            "categories": [{"name": n, "entries": e} for n, e in groups.items()],
            "count": len(entries),
        }

    async def jump(self, user_id: str, entry_id: int) -> dict[str, Any]:
        _snap, entries = await self._visible(user_id)
        entry = next((e for e in entries if e.id == entry_id), None)
        if entry is None:
            raise error(404, Codes.NOT_FOUND, "应用不存在或不在您的可见范围内")
        answer = await self._jump(user_id, entry)
        await self._record_use(entry.id, user_id)
        return answer

    async def _record_use(self, entry_id: int, user_id: str) -> None:
        day = local_day(self._now())
        await run_serialized_write(
            self._api,
            "jwwx_workbench_use",
            "jwwx_workbench_usage",
            storage.record_use_txn,
            entry_id,
            day,
            user_id[1:].split(":", 1)[0],
        )

    async def _jump(self, user_id: str, entry: Entry) -> dict[str, Any]:
        if entry.kind == "pubaccount":
            assert entry.pubaccount_id is not None
            found = await self._pubaccount(entry.pubaccount_id, user_id)
            if found is None:
                raise error(404, Codes.NOT_FOUND, "公众号不存在")
            return {
                "kind": entry.kind,
                "url": None,
                "zone": entry.zone,
                "zone_name": ZONE_NAMES[entry.zone],
                "confirm_required": False,
                "prompt": None,
                "expires_in": None,
                "pubaccount": found,
            }
        url = entry.url
        if entry.agentid is not None:
            try:
                url = await openapi.jump_url(self._api, entry.agentid, url, user_id)
            except openapi.JumpRefusedError as e:
                raise error(
                    403, JUMP_REFUSED, e.message, wecom_errcode=e.errcode
                ) from e
        external = entry.zone == "external"
        return {
            "kind": entry.kind,
            "url": url,
            "zone": entry.zone,
            "zone_name": ZONE_NAMES[entry.zone],
            "confirm_required": external,
            "prompt": (entry.risk_prompt or self._config.risk_prompt)
            if external
            else None,
            "expires_in": CODE_SECONDS if entry.agentid is not None else None,
        }

    # Admins.

    async def admin_list(self) -> list[Entry]:
        self._snapshot = None
        return (await self._entries()).entries

    async def require(self, entry_id: int) -> Entry:
        entry = await self._api.run_db_interaction(
            "jwwx_workbench_get", storage.get_txn, entry_id
        )
        if entry is None:
            raise error(404, Codes.NOT_FOUND, f"工作台应用 {entry_id} 不存在")
        return entry

    async def _pubaccount(self, account_id: int, user_id: str) -> dict[str, Any] | None:
        """The account's conversation for this officer (None: no such account, or no
        public accounts module)."""
        try:
            service = registry.lookup(self._api, public_accounts.SERVICE)
        except registry.ServiceMissingError:
            return None
        await service.runtime.ready()
        userid = user_id[1:].split(":", 1)[0] if user_id else ""
        return await service.accounts.conversation(account_id, userid)

    async def _check_app(self, entry: Entry) -> None:
        if (
            entry.pubaccount_id is not None
            and await self._pubaccount(entry.pubaccount_id, "") is None
        ):
            raise InputError(f"pubaccount_id {entry.pubaccount_id}：公众号不存在")
        if entry.agentid is None:
            return
        try:
            await openapi.check_jump_target(self._api, entry.agentid, entry.url)
        except openapi.JumpRefusedError as e:
            raise InputError(f"agentid {entry.agentid}：{e.message}") from e

    async def create(self, body: dict[str, Any]) -> Entry:
        probe = entry_from_body(body, 0, self._now())
        await self._check_app(probe)

        def create_txn(txn: Txn) -> Entry:
            if storage.count_txn(txn) >= self._config.max_entries:
                raise error(400, FULL, f"工作台最多 {self._config.max_entries} 个应用")
            _check_range_txn(txn, probe.visible_range)
            entry = probe.with_changes(id=storage.next_id_txn(txn))
            storage.insert_txn(txn, entry)
            return entry

        entry = await run_serialized_write(
            self._api, "jwwx_workbench_create", "jwwx_workbench", create_txn
        )
        self._snapshot = None
        return entry

    async def update(self, before: Entry, body: dict[str, Any]) -> Entry:
        if before.source is not None:
            kept = sorted(set(body) & BRIDGE_FIELDS)
            if kept:
                raise InputError(
                    f"{', '.join(kept)} 由桥接应用的配置维护（{before.source}），"
                    "请在其配置中修改；这里只能改可见范围、排序、启用和风险提示"
                )
        entry = entry_from_body(body, before.id, self._now(), base=before)
        await self._check_app(entry)

        def update_txn(txn: Txn) -> None:
            _check_range_txn(txn, entry.visible_range)
            storage.update_txn(txn, entry)

        await run_serialized_write(
            self._api, "jwwx_workbench_update", "jwwx_workbench", update_txn
        )
        self._snapshot = None
        return entry

    # Usage.

    async def usage(self, entries: list[Entry], days: int) -> dict[str, Any]:
        """Opens (jumps) and distinct officers of these entries over the last `days`
        local days, today included: per entry, with its days."""
        today = self._now()
        first = local_day(today - (days - 1) * DAY_MS)
        ids = [e.id for e in entries]

        def read_txn(
            txn: Txn,
        ) -> tuple[list[tuple[int, int, int, int]], dict[int, int]]:
            rows = storage.usage_txn(txn, first, ids[0] if len(ids) == 1 else None)
            return rows, storage.officers_txn(txn, first, ids)

        rows, officers = await self._api.run_db_interaction(
            "jwwx_workbench_usage", read_txn
        )
        per_entry: dict[int, list[dict[str, Any]]] = {}
        for entry_id, day, opens, count in rows:
            per_entry.setdefault(entry_id, []).append(
                {"day": _day_text(day), "opens": opens, "officers": count}
            )
        return {
            "from": _day_text(first),
            "to": _day_text(local_day(today)),
            "utc_offset_hours": DAY_UTC_OFFSET_HOURS,
            "entries": [
                {
                    "id": e.id,
                    "name": e.name,
                    "kind": e.kind,
                    "opens": sum(d["opens"] for d in per_entry.get(e.id, [])),
                    "officers": officers.get(e.id, 0),
                    "days": per_entry.get(e.id, []),
                }
                for e in entries
            ],
        }

    async def sync_bridged(self, registration_id: str, body: Any) -> dict[str, Any]:
        """Make the entries of this bridge (source "<registration_id>:…") the apps the
        body lists: new apps added, listed ones updated in the fields the bridge keeps
        (the admins' range, order, enabled and prompt stay), the others removed with
        their usage. All or nothing: a bad app refuses the whole body."""
        now = self._now()
        wanted = bridged_entries(body, registration_id, now, self._config.max_entries)
        prefix = registration_id + ":"

        def sync_txn(txn: Txn) -> dict[str, Any]:
            mine = {
                e.source: e
                for e in storage.list_txn(txn)
                if e.source is not None and e.source.startswith(prefix)
            }
            added, updated, kept = [], [], []
            for entry in wanted:
                assert entry.source is not None
                old = mine.pop(entry.source, None)
                if old is None:
                    if storage.count_txn(txn) >= self._config.max_entries:
                        raise error(
                            400, FULL, f"工作台最多 {self._config.max_entries} 个应用"
                        )
                    entry = entry.with_changes(id=storage.next_id_txn(txn))
                    storage.insert_txn(txn, entry)
                    added.append(entry.id)
                    continue
                new = old.with_changes(
                    name=entry.name,
                    category=entry.category,
                    description=entry.description,
                    icon=entry.icon,
                    url=entry.url,
                )
                if new == old:
                    kept.append(old.id)
                else:
                    storage.update_txn(txn, new.with_changes(updated_ts=now))
                    updated.append(old.id)
            removed = [old.id for old in mine.values()]
            for entry_id in removed:
                storage.delete_txn(txn, entry_id)
            return {
                "added": added,
                "updated": updated,
                "unchanged": kept,
                "removed": removed,
            }

        answer = await run_serialized_write(
            self._api, "jwwx_workbench_bridged", "jwwx_workbench", sync_txn
        )
        self._snapshot = None
        return answer

    async def delete(self, entry_id: int) -> None:
        await self._api.run_db_interaction(
            "jwwx_workbench_delete", storage.delete_txn, entry_id
        )
        self._snapshot = None
