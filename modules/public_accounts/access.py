# SPDX-License-Identifier: AGPL-3.0-or-later
"""Who may do what with an account (docs/pubaccounts.md, "Rights").

The administration model decides for admins: creating an account needs "apps.create"
(with the subscriber range as targets, like an app's visible range); everything on an
existing account needs "apps.manage" for the target app("pubaccount:<id>") — an admin
group lists it in its `apps` (or "*"). An account's own owners and editors (officers
named on it) need no admin right: owners may change its name, description, avatar and
editors, write, publish, edit and withdraw; editors may write, publish, edit and
withdraw. Every request goes through the admin API's network check."""

from typing import Any

from synapse.module_api import ModuleApi

from modules.common import admin as decide
from modules.common.admin import Target
from modules.common.errors import forbidden
from modules.public_accounts.storage import Account

MANAGE = "apps.manage"
CREATE = "apps.create"
ADMIN, OWNER, EDITOR = "admin", "owner", "editor"
_RANK = {ADMIN: 3, OWNER: 2, EDITOR: 1}


def target(account_id: int) -> Target:
    return decide.app(f"pubaccount:{account_id}")


def range_targets(body: dict[str, Any]) -> list[Target]:
    """What a body's subscriber range reaches (malformed parts are refused later)."""
    scope = body.get("subscribers")
    if not isinstance(scope, dict):
        return []
    targets: list[Target] = []
    for value in scope.get("department_ids") or []:
        if isinstance(value, int) and not isinstance(value, bool):
            targets.append(decide.department(value))
    for value in scope.get("userids") or []:
        if isinstance(value, str):
            targets.append(decide.member(value))
    if scope.get("tag_ids") or scope.get("everyone") is True:
        targets.append(decide.WHOLE_DIRECTORY)
    return targets


def localpart(user_id: str) -> str:
    return user_id[1:].split(":", 1)[0]


async def role_of(api: ModuleApi, account: Account, user_id: str) -> str | None:
    """admin (apps.manage on the account), owner, editor, or None."""
    if await decide.filter_in_scope(api, user_id, MANAGE, [target(account.id)]):
        return ADMIN
    userid = localpart(user_id)
    if api.is_mine(user_id) and userid in account.owners:
        return OWNER
    if api.is_mine(user_id) and userid in account.editors:
        return EDITOR
    return None


async def require_role(
    api: ModuleApi, request: Any, account: Account, user_id: str, needed: str
) -> str:
    """The caller's role when it is at least `needed`; 403 otherwise."""
    await decide.check_admin_request(api, request, user_id)
    role = await role_of(api, account, user_id)
    if role is None or _RANK[role] < _RANK[needed]:
        raise forbidden(
            {
                ADMIN: "需要该公众号的管理权限（apps.manage）",
                OWNER: "只有公众号的负责人或管理员可以这样做",
                EDITOR: "只有公众号的编辑、负责人或管理员可以这样做",
            }[needed]
        )
    return role
