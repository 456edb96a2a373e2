# SPDX-License-Identifier: AGPL-3.0-or-later
"""What other modules may use of modules.audit (its declared surface).

    from modules.audit.public import record_admin_operation
    await record_admin_operation(api, admin, "policy.keywords.replace", "keywords",
                                 before, after)

Without modules.audit in homeserver.yaml these do nothing. With it, they return once
the record is durable (modules/audit/service.py documents every hook). A module that
needs more takes the AuditService from the registry: `registry.lookup(api, SERVICE)`.
The offline chain verifier (`python -m homeserver audit-verify`) uses verify_chain.
"""

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from synapse.module_api import ModuleApi

from modules.audit.offline import verify_chain
from modules.audit.policy import BURN_POLICY, BurnPolicy
from modules.common import registry
from modules.common.admin import OperationLog

__all__ = [
    "BURN_POLICY",
    "SERVICE",
    "BurnPolicy",
    "AuditService",
    "record_admin_operation",
    "record_app_message",
    "record_app_read",
    "record_document",
    "verify_chain",
]


class AuditService(Protocol):
    """modules.audit's service in the registry; each call returns once the record is
    durable (modules/audit/service.py)."""

    async def record_admin_operation(
        self,
        actor: str,
        action: str,
        target: str | None,
        before: Any = None,
        after: Any = None,
        **detail: Any,
    ) -> None: ...

    async def record_usage(
        self,
        user_id: str,
        action: str,
        *,
        platform: str | None = None,
        client_version: str | None = None,
        device_id: str | None = None,
        ip: str | None = None,
        user_agent: str | None = None,
        result: str = "ok",
    ) -> None: ...

    async def record_document(
        self, user_id: str, action: str, doc_id: str, **detail: Any
    ) -> None: ...

    async def record_app_message(
        self,
        app_id: str,
        sender: str | None,
        targets: Mapping[str, Any],
        content: Any,
        msgid: str | None = None,
    ) -> None: ...

    async def record_app_read(self, app_id: str, msgid: str, user_id: str) -> None: ...

    async def record_app_reads(
        self, reads: Sequence[tuple[str, str, str]], opens: Sequence[int] = ()
    ) -> None:
        """Many read records (app_id, msgid, user_id) in one transaction; `opens`,
        when given, how many opens each record stands for (one per read if absent)."""
        ...

    async def archive_burned_message(self, event_json: str) -> None:
        """modules.burn's audit copy of a burn-after-read message (audit_copy: true)."""
        ...


SERVICE: registry.Service[AuditService] = registry.Service("audit")

if TYPE_CHECKING:
    # modules.common.admin's operation log looks this service up under the same name
    # with its own Protocol (OPERATION_LOG): mypy checks that this one fits it.
    def _fits_operation_log(service: AuditService) -> OperationLog:
        return service


def audit_service(api: ModuleApi) -> AuditService | None:
    try:
        return registry.lookup(api, SERVICE)
    except registry.ServiceMissingError:
        return None


async def record_admin_operation(
    api: ModuleApi,
    actor: str,
    action: str,
    target: str | None,
    before: Any = None,
    after: Any = None,
    **detail: Any,
) -> None:
    service = audit_service(api)
    if service is not None:
        await service.record_admin_operation(
            actor, action, target, before, after, **detail
        )


async def record_app_message(
    api: ModuleApi,
    app_id: str,
    sender: str | None,
    targets: dict[str, Any],
    content: Any,
    msgid: str | None = None,
) -> None:
    service = audit_service(api)
    if service is not None:
        await service.record_app_message(app_id, sender, targets, content, msgid)


async def record_app_read(
    api: ModuleApi, app_id: str, msgid: str, user_id: str
) -> None:
    """Someone opened an app/push message (e.g. a public account's article page)."""
    service = audit_service(api)
    if service is not None:
        await service.record_app_read(app_id, msgid, user_id)


async def record_app_reads(
    api: ModuleApi, reads: Sequence[tuple[str, str, str]], opens: Sequence[int] = ()
) -> None:
    """Many opens at once, (app_id, msgid, user_id) each: one transaction (a caller
    that batches its opens, e.g. the article pages). `opens[i]` > 1: one record for
    that many opens of the same message by the same user in the batch (`opens` in the
    record's body); the records of one call share their time anyway."""
    service = audit_service(api)
    if service is not None and reads:
        await service.record_app_reads(reads, opens)


async def record_document(
    api: ModuleApi, user_id: str, action: str, doc_id: str, **detail: Any
) -> None:
    """modules.docs: an officer opened, edited, shared, exported, restored or deleted a
    document (kind "document")."""
    service = audit_service(api)
    if service is not None:
        await service.record_document(user_id, action, doc_id, **detail)
