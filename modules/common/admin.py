# SPDX-License-Identifier: AGPL-3.0-or-later
"""Who may use an admin endpoint, and on what (the decision API of docs/admin.md).

Every admin endpoint asks

    user_id = await require_admin(api, request, scope)                 # any target
    user_id = await require_admin(api, request, scope, target=department(12))
    user_id = await require_admin(api, request, scope, target=[member("zhangsan"),
                                                              department(7)])

`scope` names the right being used (e.g. "directory.edit_members"; docs/admin.md lists
them, older dotted names such as "policy.keywords.write" are mapped by admin_api). The
answer is the admin's user id, 401 for a missing/bad token, 403 M_FORBIDDEN when the
caller holds the right nowhere, and 403 CN_JWWX_ADMIN_SCOPE (nothing done) when it holds
it but a target lies outside its scope. Listings ask for the caller's AdminScope once:

    scope = await admin_scope(api, user_id, "directory.view")
    kept = await scope.filter([department(d) for d in ids])   # only what is in scope
    scope.hidden_fields                                        # e.g. {"mobile"}

A request authenticates once (Synapse refuses a second get_user_by_req): further
checks in the same request use `check_targets(api, user_id, scope, targets)`.

Every admin write is logged (管理端操作日志) with

    await record_operation(api, request, user_id, "directory.member.update",
                           "member:zhangsan", before, after)

which goes to the audit archive (the "audit" service, as modules.audit.public) with the
source IP; values must not hold secrets.

Rights reserved to a role (ROLE_ONLY_RIGHTS: reading message content in the audit
archive) are held only by accounts given that role at run time, never by a super admin
(三员分立): a super admin who asks for one gets 403 M_FORBIDDEN like anyone else.

Without admin_api loaded, Synapse server admins may do everything but the reserved
rights (server_admins_only); nobody holds those then.
admin_api installs its authority with `set_authority`; `set_authorizer` (a plain
yes/no per scope) still works for tests and small tools. Member quotas (二级单位授权人数)
are checked through `check_member_quota`, which admin_api installs too.
"""

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from synapse.module_api import ModuleApi

from modules.common import registry
from modules.common.errors import error, forbidden

ADMIN_SCOPE = "CN_JWWX_ADMIN_SCOPE"
QUOTA_EXCEEDED = "CN_JWWX_ADMIN_QUOTA_EXCEEDED"
NETWORK_REFUSED = "CN_JWWX_ADMIN_NETWORK"

# The audit role's rights: searching, exporting and verifying the audit archive (its
# decrypted message content). Only accounts holding the audit role have them; the
# super admin, who holds every other right, does not (docs/admin.md, "Roles").
ROLE_ONLY_RIGHTS = frozenset({"audit.search", "audit.export", "audit.verify"})

# (api, user_id, scope) -> allowed?
Authorizer = Callable[[Any, str, str], Awaitable[bool]]

_KIND_NAMES = {
    "department": "部门",
    "member": "成员",
    "app": "应用",
    "setting": "设置",
    "all": "全部数据",
}


@dataclass(frozen=True)
class Target:
    """What an admin operation touches: kind is department, member, app, setting or
    all (the whole directory, e.g. an export); id is the key as text."""

    kind: str
    id: str = ""

    def describe(self) -> str:
        name = _KIND_NAMES.get(self.kind, self.kind)
        return f"{name} {self.id}".strip()


def department(department_id: int | None) -> Target:
    """A department; None (a new top-level department) needs the whole directory."""
    return (
        Target("all")
        if department_id is None
        else Target("department", str(department_id))
    )


def member(userid: str) -> Target:
    return Target("member", userid)


def app(app_id: str | int) -> Target:
    return Target("app", str(app_id))


def setting(name: str) -> Target:
    return Target("setting", name)


WHOLE_DIRECTORY = Target("all")


def visible_range_targets(visible_range: Any) -> list[Target]:
    """What a visible range body ({department_ids, userids, tag_ids}) reaches, for the
    scope check: its departments and members; a tag may span anything, so it counts
    as the whole directory. Malformed parts are skipped here (the owner of the body
    refuses them with its own error)."""
    if not isinstance(visible_range, dict):
        return []
    targets: list[Target] = []
    for value in _json_list(visible_range.get("department_ids")):
        if isinstance(value, int) and not isinstance(value, bool):
            targets.append(department(value))
    for value in _json_list(visible_range.get("userids")):
        if isinstance(value, str):
            targets.append(member(value))
    if _json_list(visible_range.get("tag_ids")):
        targets.append(WHOLE_DIRECTORY)
    return targets


def _json_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


class AdminScope(Protocol):
    """What one admin may touch with one right."""

    @property
    def unrestricted(self) -> bool: ...

    @property
    def hidden_fields(self) -> frozenset[str]: ...

    async def filter(self, targets: Sequence[Target]) -> list[Target]:
        """The targets in scope, in the order given."""


class Authority(Protocol):
    async def admin_scope(self, user_id: str, scope: str) -> AdminScope | None:
        """None when the user holds `scope` nowhere."""

    async def check_member_quota(
        self, department_ids: Sequence[int], adding: int
    ) -> None:
        """Raise 403 QUOTA_EXCEEDED when `adding` more enabled members with this main
        department (the first id) would exceed its unit's or the total quota."""

    async def member_quotas(self) -> dict[int, int]:
        """{second-level unit id: quota}, the total under 0 (for imports)."""

    async def check_request(self, request: Any, user_id: str) -> None:
        """Raise 403 NETWORK_REFUSED when the admin API may not be used from where this
        request comes (address, Host)."""

    async def app_created(self, user_id: str, app_id: str) -> list[int]:
        """An app this admin just created: add it to the `apps` of the admin's groups
        that may create and manage apps, where their parents allow it; the ids of the
        groups changed."""


@dataclass(frozen=True)
class Unrestricted:
    """Everything, every field: the scope of a super admin (and of server admins when
    admin_api is not loaded)."""

    unrestricted: bool = True
    hidden_fields: frozenset[str] = frozenset()

    async def filter(self, targets: Sequence[Target]) -> list[Target]:
        return list(targets)


class _AuthorizerAuthority:
    """A plain yes/no authorizer seen as an authority: allowed means everywhere."""

    def __init__(self, api: ModuleApi, authorizer: Authorizer) -> None:
        self._api = api
        self._authorizer = authorizer

    async def admin_scope(self, user_id: str, scope: str) -> AdminScope | None:
        if await self._authorizer(self._api, user_id, scope):
            return Unrestricted()
        return None

    async def check_member_quota(
        self, department_ids: Sequence[int], adding: int
    ) -> None:
        return None

    async def member_quotas(self) -> dict[int, int]:
        return {}

    async def check_request(self, request: Any, user_id: str) -> None:
        return None

    async def app_created(self, user_id: str, app_id: str) -> list[int]:
        return []


async def server_admins_only(api: ModuleApi, user_id: str, scope: str) -> bool:
    """Without admin_api: server admins hold every right but the reserved ones."""
    if scope in ROLE_ONLY_RIGHTS:
        return False
    return bool(await api.is_user_admin(user_id))


_authorizer: Authorizer = server_admins_only
# Per ModuleApi (tests run one server per process, but be exact).
_authorities: dict[int, Authority] = {}


def set_authorizer(authorizer: Authorizer) -> None:
    """Install a plain yes/no check per scope for every admin endpoint (no targets)."""
    global _authorizer
    _authorizer = authorizer


def set_authority(api: ModuleApi, authority: Authority) -> None:
    """Install admin_api's roles/groups/scopes authority for this server (it takes
    precedence over the authorizer)."""
    _authorities[id(api)] = authority


def _authority(api: ModuleApi) -> Authority:
    found = _authorities.get(id(api))
    return found if found is not None else _AuthorizerAuthority(api, _authorizer)


def _as_list(target: Target | Iterable[Target] | None) -> list[Target]:
    if target is None:
        return []
    if isinstance(target, Target):
        return [target]
    return list(target)


def out_of_scope(targets: Sequence[Target]) -> Exception:
    names = "、".join(t.describe() for t in targets[:5])
    more = f" 等 {len(targets)} 项" if len(targets) > 5 else ""
    return error(
        403,
        ADMIN_SCOPE,
        f"超出管理范围：{names}{more} 不在您的管理范围内，未做任何修改",
        targets=[{"kind": t.kind, "id": t.id} for t in targets],
    )


async def admin_scope(api: ModuleApi, user_id: str, scope: str) -> AdminScope:
    """The caller's scope for one right; 403 M_FORBIDDEN when it has none."""
    found = await _authority(api).admin_scope(user_id, scope)
    if found is None:
        raise forbidden("需要管理员权限")
    return found


async def check_targets(
    api: ModuleApi, user_id: str, scope: str, target: Target | Iterable[Target] | None
) -> AdminScope:
    """admin_scope, then 403 CN_JWWX_ADMIN_SCOPE unless every target is in it."""
    found = await admin_scope(api, user_id, scope)
    targets = _as_list(target)
    if targets and not found.unrestricted:
        kept = set(await found.filter(targets))
        missing = [t for t in targets if t not in kept]
        if missing:
            raise out_of_scope(missing)
    return found


async def require_admin(
    api: ModuleApi,
    request: Any,
    scope: str,
    target: Target | Iterable[Target] | None = None,
) -> str:
    """The admin's user id, or 401 (token), 403 M_FORBIDDEN (no such right) or 403
    CN_JWWX_ADMIN_SCOPE (a target outside the admin's scope)."""
    requester = await api.get_user_by_req(request)
    user_id = str(requester.user.to_string())
    await _authority(api).check_request(request, user_id)
    await check_targets(api, user_id, scope, target)
    return user_id


async def require_admin_scope(
    api: ModuleApi,
    request: Any,
    scope: str,
    target: Target | Iterable[Target] | None = None,
) -> tuple[str, AdminScope]:
    """require_admin, also returning the scope (to filter listings, hide fields)."""
    requester = await api.get_user_by_req(request)
    user_id = str(requester.user.to_string())
    await _authority(api).check_request(request, user_id)
    return user_id, await check_targets(api, user_id, scope, target)


async def check_admin_request(api: ModuleApi, request: Any, user_id: str) -> None:
    """The network/host check of require_admin, for admin endpoints that decide
    otherwise who may call them (403 CN_JWWX_ADMIN_NETWORK)."""
    await _authority(api).check_request(request, user_id)


async def has_admin_scope(api: ModuleApi, user_id: str, scope: str) -> bool:
    """Whether the user holds the right anywhere (endpoints that show admins more)."""
    return await _authority(api).admin_scope(user_id, scope) is not None


async def filter_in_scope(
    api: ModuleApi, user_id: str, scope: str, targets: Sequence[Target]
) -> list[Target]:
    """The targets this admin may see/touch with `scope` (none without the right)."""
    found = await _authority(api).admin_scope(user_id, scope)
    if found is None:
        return []
    return await found.filter(targets)


async def check_member_quota(
    api: ModuleApi, department_ids: Sequence[int], adding: int = 1
) -> None:
    """403 CN_JWWX_ADMIN_QUOTA_EXCEEDED when `adding` enabled members whose main
    department is department_ids[0] would exceed a quota (a no-op without admin_api)."""
    if department_ids and adding > 0:
        await _authority(api).check_member_quota(department_ids, adding)


async def grant_created_app(
    api: ModuleApi, user_id: str, app_id: str | int
) -> list[int]:
    """After an admin created an app: its admin groups that may create and manage apps
    get it in their `apps` (within their parents'), so it can manage what it created;
    the ids of the groups changed (none for unrestricted admins, or without admin_api).
    """
    return await _authority(api).app_created(user_id, str(app_id))


async def member_quotas(api: ModuleApi) -> dict[int, int]:
    """The unit quotas ({unit id: quota}, total under 0) for checks of many members at
    once, e.g. an import: empty without admin_api or without quotas."""
    return await _authority(api).member_quotas()


def client_ip(request: Any) -> str:
    """The caller's address as Synapse sees it (the forwarded one behind nginx when the
    listener has x_forwarded)."""
    try:
        return str(request.getClientAddress().host)
    except AttributeError:
        return ""


class OperationLog(Protocol):
    """What the operation log needs of modules.audit's service (declared here, on the
    side that needs it: common does not import the modules; modules/audit/public.py
    checks that its AuditService fits)."""

    async def record_admin_operation(
        self,
        actor: str,
        action: str,
        target: str | None,
        before: Any = None,
        after: Any = None,
        **detail: Any,
    ) -> None: ...


OPERATION_LOG: registry.Service[OperationLog] = registry.Service("audit")


async def record_operation(
    api: ModuleApi,
    request: Any,
    actor: str,
    action: str,
    target: str | None,
    before: Any = None,
    after: Any = None,
    **detail: Any,
) -> None:
    """One operation-log record in the audit archive (a no-op without modules.audit);
    returns once it is durable."""
    try:
        service = registry.lookup(api, OPERATION_LOG)
    except registry.ServiceMissingError:
        return
    await service.record_admin_operation(
        actor, action, target, before, after, ip=client_ip(request), **detail
    )
