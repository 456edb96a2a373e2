# SPDX-License-Identifier: AGPL-3.0-or-later
"""Who may use an admin endpoint.

Every admin endpoint asks `require_admin(api, request, scope)`. Until the admin-roles
issue lands, the answer is "Synapse server admins may do everything"; the scope names
what is being done (e.g. "policy.keywords.write") so a role/scope check can replace the
default authorizer without touching the endpoints.
"""

from collections.abc import Awaitable, Callable
from typing import Any

from modules.common.errors import forbidden

# (api, user_id, scope) -> allowed?
Authorizer = Callable[[Any, str, str], Awaitable[bool]]


async def server_admins_only(api: Any, user_id: str, scope: str) -> bool:
    return bool(await api.is_user_admin(user_id))


_authorizer: Authorizer = server_admins_only


def set_authorizer(authorizer: Authorizer) -> None:
    """Install a richer check (admin roles and scopes) for every admin endpoint."""
    global _authorizer
    _authorizer = authorizer


async def require_admin(api: Any, request: Any, scope: str) -> str:
    """The admin's user id, or 403 M_FORBIDDEN (and 401 for a missing/bad token)."""
    requester = await api.get_user_by_req(request)
    user_id = str(requester.user.to_string())
    if not await _authorizer(api, user_id, scope):
        raise forbidden("需要管理员权限")
    return user_id


async def has_admin_scope(api: Any, user_id: str, scope: str) -> bool:
    """The same decision as require_admin, for endpoints that only show admins more."""
    return bool(await _authorizer(api, user_id, scope))
