# SPDX-License-Identifier: AGPL-3.0-or-later
"""The base of every module's admin endpoints: who may call, and the operation log.

Each admin write checks the caller's right on its targets (modules.common.admin) once the
module has finished starting, and leaves exactly one operation-log record. Subclasses call
`admin`/`admin_scope` at the top of a handler and `log` after a successful write.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from synapse.module_api import ModuleApi

from modules.common import admin as decide
from modules.common.admin import AdminScope, Target
from modules.common.http import Router
from modules.common.runtime import ModuleRuntime


class AdminRouter(Router):
    def __init__(self, api: ModuleApi, runtime: ModuleRuntime) -> None:
        super().__init__(api)
        self._runtime = runtime

    async def admin(
        self,
        request: Any,
        right: str,
        target: Target | Iterable[Target] | None = None,
    ) -> str:
        """The calling admin's user id once `right` is held over `target`."""
        user_id = await decide.require_admin(self.api, request, right, target)
        await self._runtime.ready()
        return user_id

    async def admin_scope(
        self,
        request: Any,
        right: str,
        target: Target | Iterable[Target] | None = None,
    ) -> tuple[str, AdminScope]:
        """`admin`, also returning the scope (to filter listings, hide fields)."""
        found = await decide.require_admin_scope(self.api, request, right, target)
        await self._runtime.ready()
        return found

    async def log(
        self,
        request: Any,
        actor: str,
        action: str,
        target: str,
        before: Any = None,
        after: Any = None,
        **detail: Any,
    ) -> None:
        """The operation log (管理端操作日志): one record per admin write; never a
        password or a key in before/after."""
        await decide.record_operation(
            self.api, request, actor, action, target, before, after, **detail
        )
