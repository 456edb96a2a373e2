# SPDX-License-Identifier: AGPL-3.0-or-later
"""Which apps an officer may see: those whose visible range (可见范围, scope.py) holds
them (a listed userid, a member of a listed department's subtree or of a listed tag;
every officer for apps that sync the directory). Until the workbench exists this is
what modules.search's unified search lists under `apps`."""

from typing import Any

from synapse.module_api import ModuleApi, UserID

from modules.common.storage import Txn
from modules.directory import public as directory
from modules.openapi import storage
from modules.openapi.scope import scope_txn


def visible_apps_txn(txn: Txn, localpart: str) -> list[dict[str, Any]]:
    member = directory.get_member_txn(txn, localpart)
    departments = (
        directory.get_departments_txn(txn, sorted(member.department_ids))
        if member is not None
        else {}
    )
    shown = []
    for app in storage.list_apps_txn(txn):
        scope = scope_txn(txn, app)
        if (
            scope.everything
            or localpart in scope.userids
            or (member is not None and scope.has_member(member, departments))
        ):
            shown.append(
                {
                    "agentid": app.agentid,
                    "name": app.name,
                    "description": app.description,
                    "avatar": app.avatar,
                }
            )
    return shown


class VisibleApps:
    def __init__(self, api: ModuleApi) -> None:
        self._api = api

    async def visible_to(self, user_id: str) -> list[dict[str, Any]]:
        if not self._api.is_mine(user_id):
            return []
        return list(
            await self._api.run_db_interaction(
                "jwwx_openapi_visible_apps",
                visible_apps_txn,
                UserID.from_string(user_id).localpart,
            )
        )
