# SPDX-License-Identifier: AGPL-3.0-or-later
"""What other modules may use of modules.openapi (its declared surface): the apps an
officer may see (their visible ranges; modules.search's unified search), an app's name,
and jumps into an app with the officer's identity, as WeCom's workbench does. The code
in the jump URL is the OAuth2 code of /connect/oauth2/authorize (single use, five
minutes, bound to the app); the app turns it into the officer's userid with
/cgi-bin/auth/getuserinfo, so no password or Matrix token ever reaches it.

Also the broadcast rooms (read-only rooms a bot posts in, every member of a range in one
of them, joined in batches), for another owner kind with its own tables
(modules.public_accounts): Broadcasts with its Channel, RoomStore and RoomStyle."""

from typing import Any, Protocol

from synapse.module_api import ModuleApi

from modules.common import registry
from modules.common.router import Router
from modules.common.runtime import ModuleRuntime
from modules.openapi.broadcast import Broadcasts, Channel, RoomStore, RoomStyle
from modules.openapi.rights import CAPABILITIES, AppRights, AppRightsAdminResource

__all__ = [
    "CAPABILITIES",
    "SERVICE",
    "AppJumps",
    "AppsForOfficers",
    "Broadcasts",
    "Channel",
    "JumpRefusedError",
    "OpenApiService",
    "RoomStore",
    "RoomStyle",
    "app_allowed",
    "app_name",
    "grant_right",
    "rights_admin_resource",
    "check_jump_target",
    "jump_url",
    "visitor_jump_url",
]


class JumpRefusedError(Exception):
    """The app does not exist, `url` is outside its trusted domain, or the officer is
    outside its visible range; errcode is WeCom's, message is for people."""

    def __init__(self, errcode: int, message: str) -> None:
        super().__init__(message)
        self.errcode = errcode
        self.message = message


class AppJumps(Protocol):
    async def app_name(self, agentid: int) -> str | None:
        """The app's name; None when there is no such app."""

    async def check_target(self, agentid: int, url: str) -> str:
        """The app's name if `url` lies in its trusted domain (redirect_domain)."""

    async def code_url(self, agentid: int, url: str, user_id: str, state: str) -> str:
        """`url` with code= and state= for this officer."""

    async def visitor_url(self, agentid: int, url: str, user_id: str) -> str:
        """`url` with code= for an officer of another police domain (his full Matrix
        id); getuserinfo answers the code with {"openid": user_id}."""

    async def page_user(self, code: str, url: str) -> str | None:
        """The officer (userid) of an OAuth2 code issued for a redirect into the
        trusted domain of `url`, consumed; None when invalid, used, expired or for
        another domain."""


class AppsForOfficers(Protocol):
    async def visible_to(self, user_id: str) -> list[dict[str, Any]]:
        """The apps whose visible range holds this user, by agentid:
        [{"agentid", "name", "description", "avatar"}]."""
        ...


class OpenApiService(Protocol):
    """modules.openapi's service in the registry."""

    @property
    def runtime(self) -> ModuleRuntime: ...

    @property
    def jumps(self) -> AppJumps: ...

    @property
    def visible_apps(self) -> AppsForOfficers: ...

    @property
    def rights(self) -> AppRights: ...


SERVICE: registry.Service[OpenApiService] = registry.Service("openapi")


def _service(api: ModuleApi) -> OpenApiService:
    try:
        return registry.lookup(api, SERVICE)
    except registry.ServiceMissingError:
        raise JumpRefusedError(40013, "开放接口模块未加载，无法跳转到应用") from None


async def check_jump_target(api: ModuleApi, agentid: int, url: str) -> str:
    """The app's name; JumpRefusedError when the app is missing or `url` untrusted."""
    service = _service(api)
    await service.runtime.ready()
    return await service.jumps.check_target(agentid, url)


async def app_name(api: ModuleApi, agentid: int) -> str | None:
    """The name of open-API app `agentid`; None when it does not exist (or the open
    API is not loaded)."""
    try:
        service = registry.lookup(api, SERVICE)
    except registry.ServiceMissingError:
        return None
    await service.runtime.ready()
    return await service.jumps.app_name(agentid)


async def page_user(api: ModuleApi, code: str, url: str) -> str | None:
    """For a page the homeserver serves (e.g. a public account's article) opened
    through /connect/oauth2/authorize: the officer (userid) of the code that redirect
    carried, if it was issued for `url`'s trusted domain; the code is consumed. None
    when the code is not good (or the open API is not loaded)."""
    try:
        service = registry.lookup(api, SERVICE)
    except registry.ServiceMissingError:
        return None
    await service.runtime.ready()
    return await service.jumps.page_user(code, url)


async def jump_url(api: ModuleApi, agentid: int, url: str, user_id: str) -> str:
    """`url` carrying a fresh OAuth2 code of app `agentid` for `user_id`."""
    service = _service(api)
    await service.runtime.ready()
    return await service.jumps.code_url(agentid, url, user_id, "workbench")


async def visitor_jump_url(api: ModuleApi, agentid: int, url: str, user_id: str) -> str:
    """`url` carrying a fresh OAuth2 code of app `agentid` for `user_id`, an officer of
    another police domain whose server vouched for him (modules.crossdomain): the app
    redeems it as an openid. JumpRefusedError when the app is missing or `url`
    untrusted."""
    service = _service(api)
    await service.runtime.ready()
    return await service.jumps.visitor_url(agentid, url, user_id)


# The apps' rights (modules/openapi/rights.py): one grant table for every capability an
# app may be allowed (CAPABILITIES), asked by the module serving it.


async def _rights(api: ModuleApi) -> AppRights | None:
    try:
        service = registry.lookup(api, SERVICE)
    except registry.ServiceMissingError:
        return None
    await service.runtime.ready()
    return service.rights


async def app_allowed(api: ModuleApi, agentid: int, capability: str) -> bool:
    """Whether an admin granted app `agentid` the capability ("ocr", "asr")."""
    rights = await _rights(api)
    return rights is not None and await rights.allows(agentid, capability)


async def grant_right(
    api: ModuleApi, agentid: int, capability: str, admin: str, when: int
) -> bool:
    """Record a grant made elsewhere (a module moving its own grants here); False when
    it was there already. LookupError when the open API is not loaded."""
    rights = await _rights(api)
    if rights is None:
        raise LookupError("modules.openapi is not loaded")
    return await rights.grant(agentid, capability, admin, when)


def rights_admin_resource(
    api: ModuleApi, runtime: ModuleRuntime, capability: str
) -> Router:
    """The admins' grant page of a capability, /_jwwx/admin/v1/{capability}/apps, for
    the capability's module to mount (`runtime` is that module's)."""
    return AppRightsAdminResource(api, runtime, lambda: _rights(api), capability)
