# SPDX-License-Identifier: AGPL-3.0-or-later
"""The shared ground of every change to the administration model (groups.py,
roles.py, quotas.py).

Every change is validated and written in one serialized transaction that reads the
model afresh (two admins editing groups at once cannot build a cycle between them),
then the cached model is reloaded and one operation-log record goes to the audit
archive (modules.audit.public, the path keyword-list edits take): operator, source IP,
operation, target, before and after. Bad input changes nothing.
"""

import re
from collections.abc import Callable
from typing import Any, TypeVar

from synapse.module_api import ModuleApi

from admin_api import errors, storage
from admin_api.authority import AdminAuthority
from admin_api.config import AdminApiConfig
from admin_api.errors import invalid
from admin_api.model import AUDIT, SECURITY, Snapshot
from modules.audit.public import record_admin_operation
from modules.common.admin import ADMIN_SCOPE
from modules.common.errors import error
from modules.common.storage import Txn
from modules.common.synapse.database import run_serialized_write

T = TypeVar("T")

MAX_LIST = 10000
LOCK = "jwwx_admin_model_write"
SEPARATED = frozenset({AUDIT, SECURITY})
USER_ID = re.compile(r"^@[^:\s]+:\S+$")


def strings(body: dict[str, Any], key: str) -> frozenset[str] | None:
    value = body.get(key)
    if value is None:
        return None
    if (
        not isinstance(value, list)
        or len(value) > MAX_LIST
        or not all(isinstance(v, str) and v.strip() for v in value)
    ):
        raise invalid(f"{key} 必须是非空字符串数组")
    return frozenset(v.strip() for v in value)


def outside(message: str) -> Exception:
    return error(403, ADMIN_SCOPE, f"超出管理范围：{message}，未做任何修改")


class ModelChanges:
    """Shared by the services: the serialized write, the operation log, user checks."""

    def __init__(
        self, api: ModuleApi, config: AdminApiConfig, authority: AdminAuthority
    ) -> None:
        self._api = api
        self._config = config
        self._authority = authority

    def _now(self) -> int:
        return int(self._api.get_current_time_msec())

    def _model_txn(self, txn: Txn) -> Snapshot:
        """The model as this serialized write sees it: the cached snapshot when its
        generation is the database's (no other change since), else read afresh (at
        1,000 groups and 5,000 admins a read is most of a change's cost)."""
        cached = self._authority.cached_snapshot
        if cached is not None and cached.generation == storage.generation_txn(txn):
            return cached
        return Snapshot.build(*storage.load_model_txn(txn))

    async def _write(self, desc: str, fn: Callable[..., T], *args: Any) -> T:
        result = await run_serialized_write(
            self._api, f"jwwx_admin_{desc}", LOCK, fn, *args
        )
        await self._authority.reload()
        return result

    async def _log(
        self,
        actor: str,
        ip: str,
        action: str,
        target: str,
        before: Any,
        after: Any,
        **detail: Any,
    ) -> None:
        await record_admin_operation(
            self._api, actor, action, target, before, after, ip=ip, **detail
        )

    async def _check_users(self, user_ids: frozenset[str] | None) -> None:
        missing = []
        for user_id in sorted(user_ids or ()):
            # By exact id: check_user_exists compares lower(name), a scan of the users
            # table on PostgreSQL (~12 ms per id at 55,000 accounts).
            if await self._api.get_userinfo_by_id(user_id) is None:
                missing.append(user_id)
        if missing:
            raise error(
                400,
                errors.USER_UNKNOWN,
                f"账号不存在：{', '.join(missing)}",
                unknown=missing,
            )
