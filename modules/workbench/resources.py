# SPDX-License-Identifier: AGPL-3.0-or-later
"""The workbench's HTTP endpoints.

Officers (Matrix access token), /_jwwx/client/v1/workbench:
GET  ""?q=&category=        the entries the officer may see, grouped by category (in
                            the admins' order); q finds names, categories and
                            descriptions by substring and names by pinyin/initials
POST entries/{id}/jump      → {url, zone, zone_name, confirm_required, prompt,
                            expires_in}: for an app's entry url carries a fresh OAuth2
                            code (the app asks /cgi-bin/auth/getuserinfo who it is);
                            for another network zone the client shows `prompt` and
                            opens url only when the officer confirms. 404 M_NOT_FOUND
                            when the entry is not there for this officer, 403
                            CN_JWWX_WORKBENCH_JUMP_REFUSED when the app refuses him.

Bridges (the application-service token of a registration in config `bridges`):
PUT  bridged {"apps": [{app_id, name, url, category?, description?, icon?}]}
                            the bridge's zone2_app entries become these apps (added,
                            updated, the others removed) → {added, updated, unchanged,
                            removed} (entry ids); 403 M_FORBIDDEN for anyone else.

Admins, /_jwwx/admin/v1/workbench (right apps.workbench; an app's entry also needs
that app in the admin group's apps; the visible range must lie in the admin's
departments, everyone (null) is the whole directory). Each write is one
operation-log record (workbench.entry.create|update|delete, target workbench:{id}):
GET    entries · GET entries/{id}
POST   entries        {name, url, kind?, category?, description?, icon?, agentid?,
                       pubaccount_id?, zone?, risk_prompt?, visible_range?,
                       position?, enabled?}
PUT    entries/{id}   the fields to change
DELETE entries/{id}   (not a bridge's entry: 400; remove it from the bridge's config)
GET    statistics?days=30   usage of the entries the admin manages: per entry opens
                       (jumps) and distinct officers, per day (UTC+8)
GET    entries/{id}/statistics?days=30   the same for one entry
"""

from typing import Any

from synapse.module_api import ModuleApi

from modules.common import admin as decide
from modules.common.admin import Target
from modules.common.admin_router import AdminRouter
from modules.common.errors import error
from modules.common.inputs import InputError, parse_int, query_param
from modules.common.resource import read_json_object
from modules.common.router import Router
from modules.common.runtime import ModuleRuntime
from modules.common.synapse.errors import Codes
from modules.workbench.entries import admin_json
from modules.workbench.service import Workbench
from modules.workbench.storage import Entry

CLIENT_PREFIX = "/_jwwx/client/v1/workbench"
ADMIN_PREFIX = "/_jwwx/admin/v1/workbench"
RIGHT = "apps.workbench"
MAX_DAYS = 366


def _entry_id(text: str) -> int:
    return parse_int(text, "id", 1, 2**53)


def targets_of(entry: Entry | dict[str, Any]) -> list[Target]:
    """What an entry (or an entry body) reaches, for the admin's scope."""
    if isinstance(entry, Entry):
        visible_range: Any = entry.visible_range
        agentid: Any = entry.agentid
        pubaccount: Any = entry.pubaccount_id
        everyone = visible_range is None
    else:
        visible_range = entry.get("visible_range")
        agentid = entry.get("agentid")
        pubaccount = entry.get("pubaccount_id")
        everyone = "visible_range" in entry and visible_range is None
    targets = decide.visible_range_targets(visible_range)
    if everyone:
        targets.append(decide.WHOLE_DIRECTORY)
    if isinstance(agentid, int) and not isinstance(agentid, bool):
        targets.append(decide.app(agentid))
    if isinstance(pubaccount, int) and not isinstance(pubaccount, bool):
        targets.append(decide.app(f"pubaccount:{pubaccount}"))  # as public accounts do
    return targets


class WorkbenchClientResource(Router):
    prefix = CLIENT_PREFIX

    def __init__(
        self, api: ModuleApi, runtime: ModuleRuntime, bench: Workbench
    ) -> None:
        super().__init__(api)
        self._runtime = runtime
        self._bench = bench
        self.route("GET", "", self.view)
        self.route("POST", "entries/{entry_id}/jump", self.jump)
        self.route("PUT", "bridged", self.bridged)

    async def _caller(self, request: Any) -> str:
        user_id = await self.requester_id(request)
        await self._runtime.ready()
        return user_id

    async def view(self, request: Any) -> tuple[int, Any]:
        user_id = await self._caller(request)
        return 200, await self._bench.officer_view(
            user_id, query_param(request, "q"), query_param(request, "category")
        )

    async def jump(self, request: Any, entry_id: str) -> tuple[int, Any]:
        user_id = await self._caller(request)
        return 200, await self._bench.jump(user_id, _entry_id(entry_id))

    async def bridged(self, request: Any) -> tuple[int, Any]:
        requester = await self.api.get_user_by_req(request)
        service_id = requester.app_service_id  # the registration's id, None: a user
        if service_id is None or service_id not in self._bench.bridges:
            raise error(403, Codes.FORBIDDEN, "只有配置的桥接应用服务可以维护其应用")
        body = read_json_object(request)
        await self._runtime.ready()
        return 200, await self._bench.sync_bridged(service_id, body)


class WorkbenchAdminResource(AdminRouter):
    prefix = ADMIN_PREFIX

    def __init__(
        self, api: ModuleApi, runtime: ModuleRuntime, bench: Workbench
    ) -> None:
        super().__init__(api, runtime)
        self._bench = bench
        r = self.route
        r("GET", "entries", self.list_entries)
        r("POST", "entries", self.create)
        r("GET", "entries/{entry_id}", self.get)
        r("PUT", "entries/{entry_id}", self.update)
        r("DELETE", "entries/{entry_id}", self.delete)
        r("GET", "entries/{entry_id}/statistics", self.entry_statistics)
        r("GET", "statistics", self.statistics)

    async def _managed(self, request: Any) -> list[Entry]:
        """The entries this admin may manage."""
        _admin, scope = await self.admin_scope(request, RIGHT)
        entries = await self._bench.admin_list()
        if not scope.unrestricted:
            kept = []
            for entry in entries:
                targets = targets_of(entry)
                if len(await scope.filter(targets)) == len(targets):
                    kept.append(entry)
            entries = kept
        return entries

    async def list_entries(self, request: Any) -> tuple[int, Any]:
        entries = await self._managed(request)
        return 200, {"entries": [admin_json(e) for e in entries]}

    async def statistics(self, request: Any) -> tuple[int, Any]:
        days = self.integer_arg(request, "days", 30, 1, MAX_DAYS)
        entries = await self._managed(request)
        return 200, await self._bench.usage(entries, days)

    async def entry_statistics(self, request: Any, entry_id: str) -> tuple[int, Any]:
        days = self.integer_arg(request, "days", 30, 1, MAX_DAYS)
        entry = await self._bench.require(_entry_id(entry_id))
        await self.admin(request, RIGHT, targets_of(entry))
        usage = await self._bench.usage([entry], days)
        [row] = usage.pop("entries")
        return 200, {**usage, **row}

    async def get(self, request: Any, entry_id: str) -> tuple[int, Any]:
        entry = await self._bench.require(_entry_id(entry_id))
        await self.admin(request, RIGHT, targets_of(entry))
        return 200, admin_json(entry)

    async def create(self, request: Any) -> tuple[int, Any]:
        body = read_json_object(request)
        admin = await self.admin(
            request, RIGHT, targets_of(body) or [decide.WHOLE_DIRECTORY]
        )
        entry = await self._bench.create(body)
        await self.log(
            request,
            admin,
            "workbench.entry.create",
            f"workbench:{entry.id}",
            None,
            admin_json(entry),
        )
        return 200, admin_json(entry)

    async def update(self, request: Any, entry_id: str) -> tuple[int, Any]:
        body = read_json_object(request)
        before = await self._bench.require(_entry_id(entry_id))
        admin = await self.admin(request, RIGHT, targets_of(before) + targets_of(body))
        after = await self._bench.update(before, body)
        await self.log(
            request,
            admin,
            "workbench.entry.update",
            f"workbench:{before.id}",
            admin_json(before),
            admin_json(after),
        )
        return 200, admin_json(after)

    async def delete(self, request: Any, entry_id: str) -> tuple[int, Any]:
        before = await self._bench.require(_entry_id(entry_id))
        admin = await self.admin(request, RIGHT, targets_of(before))
        if before.source is not None:
            raise InputError(
                f"该应用由桥接应用的配置维护（{before.source}）：请从其配置中删除，"
                "或将其停用（enabled: false）"
            )
        await self._bench.delete(before.id)
        await self.log(
            request,
            admin,
            "workbench.entry.delete",
            f"workbench:{before.id}",
            admin_json(before),
            None,
        )
        return 200, {}
