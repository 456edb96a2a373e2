# SPDX-License-Identifier: AGPL-3.0-or-later
"""HTTP API of modules.groups (officer's access token; admin settings for admins).

Client, under /_jwwx/client/v1/groups:
  POST   ""                                   create {name, invite?, topic?, owner_only_manage?, department_id?}
  GET    settings                             {recall_window_seconds} the officer's clients obey
  GET    {room_id}                            group info
  PUT    {room_id}/settings                   {owner_only_manage}            (owner)
  POST   {room_id}/transfer                   {user_id}                      (owner)
  PUT    {room_id}/admins/{user_id}           {admin: bool}                  (owner)
  PUT    {room_id}/mute_all                   {mute_all: bool}               (owner, admins)
  PUT    {room_id}/muted                      {user_ids: [...], muted: bool} (owner, admins)
  GET    {room_id}/announcement · PUT {text}                                 (PUT: owner/admins)
  POST   {room_id}/dissolve                                                  (owner)
  PUT    {room_id}/saved · DELETE {room_id}/saved · GET saved?q=            保存到通讯录
  GET    {room_id}/receipts/{event_id}        who read a message            (sender, owner, admins)
  POST   {room_id}/join_links {ttl_seconds?} · GET {room_id}/join_links
  DELETE {room_id}/join_links/{token} · GET {room_id}/join_links/{token}/qr.png
  GET    join/{token}                         preview of a link
  POST   join/{token}                         join through a link
Client, /_jwwx/client/v1/messages/read_all (POST): mark every room read.
Admin, under /_jwwx/admin/v1/groups (right settings.group_caps; docs/admin.md):
  GET, PUT settings                           PUT with retention_days: settings.retention too
  GET    rooms/{room_id}                      group info and owner_gone
  POST   rooms/{room_id}/transfer {user_id}   owner gone: make a member the owner
  POST   rooms/{room_id}/dissolve             owner gone: dissolve the group
A group is in an admin's scope when its owner is (a directory member in the admin's
departments) or, once the owner has left the directory, when every local member still
in the directory is; a transfer needs the new owner in scope too. Otherwise 403
CN_JWWX_ADMIN_SCOPE, nothing done. Every admin write is one operation-log record.
"""

from typing import Any

from synapse.module_api import ModuleApi

from modules.common import admin as decide
from modules.common import registry
from modules.common.admin import Target
from modules.common.admin_router import AdminRouter
from modules.common.resource import RawBody, query_param, read_json_object
from modules.common.router import Router
from modules.common.runtime import ModuleRuntime
from modules.directory import public as directory_public
from modules.groups.override import OwnerOverride
from modules.groups.service import GroupService
from modules.groups.settings import SettingsCache, validate_update
from modules.groups.state import RoomView

SETTINGS_RIGHT = "settings.group_caps"
RETENTION_RIGHT = "settings.retention"
CLIENT_PREFIX = "/_jwwx/client/v1/groups"
MESSAGES_PREFIX = "/_jwwx/client/v1/messages"
ADMIN_PREFIX = "/_jwwx/admin/v1/groups"


class GroupsResource(Router):
    prefix = CLIENT_PREFIX

    def __init__(
        self, api: ModuleApi, runtime: ModuleRuntime, service: GroupService
    ) -> None:
        super().__init__(api)
        self._runtime = runtime
        self._service = service
        self.route("POST", "", self.create)
        self.route("GET", "saved", self.saved)
        self.route("GET", "settings", self.client_settings)
        self.route("GET", "join/{token}", self.preview_link)
        self.route("POST", "join/{token}", self.join_link)
        self.route("GET", "{room_id}", self.info)
        self.route("PUT", "{room_id}/settings", self.settings)
        self.route("POST", "{room_id}/transfer", self.transfer)
        self.route("PUT", "{room_id}/admins/{user_id}", self.set_admin)
        self.route("PUT", "{room_id}/mute_all", self.mute_all)
        self.route("PUT", "{room_id}/muted", self.muted)
        self.route("GET", "{room_id}/announcement", self.get_announcement)
        self.route("PUT", "{room_id}/announcement", self.put_announcement)
        self.route("POST", "{room_id}/dissolve", self.dissolve)
        self.route("PUT", "{room_id}/saved", self.save)
        self.route("DELETE", "{room_id}/saved", self.unsave)
        self.route("GET", "{room_id}/receipts/{event_id}", self.receipts)
        self.route("POST", "{room_id}/join_links", self.create_link)
        self.route("GET", "{room_id}/join_links", self.list_links)
        self.route("DELETE", "{room_id}/join_links/{token}", self.revoke_link)
        self.route("GET", "{room_id}/join_links/{token}/qr.png", self.link_png)

    async def caller(self, request: Any) -> str:
        user_id = await self.requester_id(request)
        await self._runtime.ready()
        return user_id

    async def create(self, request: Any) -> tuple[int, Any]:
        user_id = await self.caller(request)
        return 200, await self._service.create(user_id, read_json_object(request))

    async def client_settings(self, request: Any) -> tuple[int, Any]:
        await self.caller(request)
        return 200, self._service.client_settings()

    async def info(self, request: Any, room_id: str) -> tuple[int, Any]:
        user_id = await self.caller(request)
        view = await self._service.group_view(user_id, room_id)
        return 200, self._service.info(view, room_id)

    async def settings(self, request: Any, room_id: str) -> tuple[int, Any]:
        user_id = await self.caller(request)
        body = read_json_object(request)
        return 200, await self._service.set_owner_only(
            user_id, room_id, body.get("owner_only_manage")
        )

    async def transfer(self, request: Any, room_id: str) -> tuple[int, Any]:
        user_id = await self.caller(request)
        body = read_json_object(request)
        return 200, await self._service.transfer(user_id, room_id, body.get("user_id"))

    async def set_admin(
        self, request: Any, room_id: str, user_id: str
    ) -> tuple[int, Any]:
        caller = await self.caller(request)
        body = read_json_object(request)
        return 200, await self._service.set_admin(
            caller, room_id, user_id, body.get("admin")
        )

    async def mute_all(self, request: Any, room_id: str) -> tuple[int, Any]:
        user_id = await self.caller(request)
        body = read_json_object(request)
        return 200, await self._service.mute_all(user_id, room_id, body.get("mute_all"))

    async def muted(self, request: Any, room_id: str) -> tuple[int, Any]:
        user_id = await self.caller(request)
        body = read_json_object(request)
        return 200, await self._service.mute_members(
            user_id, room_id, body.get("user_ids"), body.get("muted")
        )

    async def get_announcement(self, request: Any, room_id: str) -> tuple[int, Any]:
        user_id = await self.caller(request)
        return 200, await self._service.announcement(user_id, room_id)

    async def put_announcement(self, request: Any, room_id: str) -> tuple[int, Any]:
        user_id = await self.caller(request)
        body = read_json_object(request)
        return 200, await self._service.announce(user_id, room_id, body.get("text"))

    async def saved(self, request: Any) -> tuple[int, Any]:
        user_id = await self.caller(request)
        return 200, await self._service.saved(user_id, query_param(request, "q"))

    async def save(self, request: Any, room_id: str) -> tuple[int, Any]:
        user_id = await self.caller(request)
        return 200, await self._service.save(user_id, room_id)

    async def unsave(self, request: Any, room_id: str) -> tuple[int, Any]:
        user_id = await self.caller(request)
        return 200, await self._service.unsave(user_id, room_id)

    async def dissolve(self, request: Any, room_id: str) -> tuple[int, Any]:
        user_id = await self.caller(request)
        return 200, await self._service.dissolve(user_id, room_id)

    async def receipts(
        self, request: Any, room_id: str, event_id: str
    ) -> tuple[int, Any]:
        user_id = await self.caller(request)
        return 200, await self._service.receipts(user_id, room_id, event_id)

    async def create_link(self, request: Any, room_id: str) -> tuple[int, Any]:
        user_id = await self.caller(request)
        body = read_json_object(request)
        return 200, await self._service.create_link(
            user_id, room_id, body.get("ttl_seconds")
        )

    async def list_links(self, request: Any, room_id: str) -> tuple[int, Any]:
        user_id = await self.caller(request)
        return 200, await self._service.list_links(user_id, room_id)

    async def revoke_link(
        self, request: Any, room_id: str, token: str
    ) -> tuple[int, Any]:
        user_id = await self.caller(request)
        return 200, await self._service.revoke_link(user_id, room_id, token)

    async def link_png(self, request: Any, room_id: str, token: str) -> tuple[int, Any]:
        user_id = await self.caller(request)
        png = await self._service.link_png(user_id, room_id, token)
        return 200, RawBody("image/png", png)

    async def preview_link(self, request: Any, token: str) -> tuple[int, Any]:
        user_id = await self.caller(request)
        return 200, await self._service.preview_link(user_id, token)

    async def join_link(self, request: Any, token: str) -> tuple[int, Any]:
        user_id = await self.caller(request)
        return 200, await self._service.join_by_link(user_id, token)


class MessagesResource(Router):
    prefix = MESSAGES_PREFIX

    def __init__(
        self, api: ModuleApi, runtime: ModuleRuntime, service: GroupService
    ) -> None:
        super().__init__(api)
        self._runtime = runtime
        self._service = service
        self.route("POST", "read_all", self.read_all)
        self.route("GET", "unread", self.unread)

    async def read_all(self, request: Any) -> tuple[int, Any]:
        user_id = await self.requester_id(request)
        await self._runtime.ready()
        return 200, await self._service.mark_all_read(user_id)

    async def unread(self, request: Any) -> tuple[int, Any]:
        user_id = await self.requester_id(request)
        await self._runtime.ready()
        return 200, await self._service.unread(user_id)


class GroupsAdminResource(AdminRouter):
    prefix = ADMIN_PREFIX

    def __init__(
        self,
        api: ModuleApi,
        runtime: ModuleRuntime,
        settings: SettingsCache,
        override: OwnerOverride,
    ) -> None:
        super().__init__(api, runtime)
        self._settings = settings
        self._override = override
        self.route("GET", "settings", self.get_settings)
        self.route("PUT", "settings", self.put_settings)
        self.route("GET", "rooms/{room_id}", self.room_info)
        self.route("POST", "rooms/{room_id}/transfer", self.transfer)
        self.route("POST", "rooms/{room_id}/dissolve", self.dissolve)

    async def _room_targets(self, view: RoomView) -> list[Target]:
        """The directory members a group's scope is judged by (module docstring)."""
        owner = view.owner
        local = [u for u in view.members("join") if self.api.is_mine(u)]
        candidates = [owner] if owner is not None and self.api.is_mine(owner) else []
        found: dict[str, Any] = {}
        if _directory_loaded(self.api):
            found = await self.api.run_db_interaction(
                "jwwx_groups_scope_members",
                directory_public.get_members_txn,
                sorted({_localpart(u) for u in {*candidates, *local}}),
            )
        if candidates and _localpart(candidates[0]) in found:
            return [decide.member(_localpart(candidates[0]))]
        members = sorted({_localpart(u) for u in local} & set(found))
        return [decide.member(u) for u in members] or [decide.WHOLE_DIRECTORY]

    async def get_settings(self, request: Any) -> tuple[int, Any]:
        await self.admin(request, SETTINGS_RIGHT, decide.setting("group_caps"))
        await self._settings.load()
        return 200, self._settings.current.as_json()

    async def put_settings(self, request: Any) -> tuple[int, Any]:
        admin = await self.admin(request, SETTINGS_RIGHT, decide.setting("group_caps"))
        values = validate_update(read_json_object(request))
        if "retention_days" in values:
            await decide.check_targets(
                self.api, admin, RETENTION_RIGHT, decide.setting("retention")
            )
        await self._settings.load()
        before = self._settings.current.as_json()
        settings = await self._settings.update(values, admin)
        after = settings.as_json()
        await self.log(
            request, admin, "groups.settings.update", "setting:groups", before, after
        )
        return 200, after

    async def room_info(self, request: Any, room_id: str) -> tuple[int, Any]:
        admin = await self.admin(request, SETTINGS_RIGHT)
        view = await self._override.group(room_id)
        await decide.check_targets(
            self.api, admin, SETTINGS_RIGHT, await self._room_targets(view)
        )
        return 200, await self._override.info(room_id)

    async def transfer(self, request: Any, room_id: str) -> tuple[int, Any]:
        admin = await self.admin(request, SETTINGS_RIGHT)
        body = read_json_object(request)
        new_owner = body.get("user_id")
        view = await self._override.group(room_id)
        targets = await self._room_targets(view)
        if isinstance(new_owner, str) and new_owner.startswith("@"):
            targets.append(
                decide.member(_localpart(new_owner))
                if self.api.is_mine(new_owner)
                else decide.WHOLE_DIRECTORY
            )
        await decide.check_targets(self.api, admin, SETTINGS_RIGHT, targets)
        before = {"owner": view.owner}
        result = await self._override.transfer(admin, room_id, new_owner)
        await self.log(
            request,
            admin,
            "groups.room.transfer",
            f"room:{room_id}",
            before,
            {"owner": new_owner},
        )
        return 200, result

    async def dissolve(self, request: Any, room_id: str) -> tuple[int, Any]:
        admin = await self.admin(request, SETTINGS_RIGHT)
        view = await self._override.group(room_id)
        await decide.check_targets(
            self.api, admin, SETTINGS_RIGHT, await self._room_targets(view)
        )
        before = {"owner": view.owner, "members": len(view.members("join"))}
        result = await self._override.dissolve(admin, room_id)
        await self.log(
            request,
            admin,
            "groups.room.dissolve",
            f"room:{room_id}",
            before,
            {"dissolved": True},
        )
        return 200, result


def _directory_loaded(api: ModuleApi) -> bool:
    try:
        registry.lookup(api, directory_public.SERVICE)
    except registry.ServiceMissingError:
        return False
    return True


def _localpart(user_id: str) -> str:
    return user_id[1:].split(":", 1)[0]
