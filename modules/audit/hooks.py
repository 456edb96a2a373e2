# SPDX-License-Identifier: AGPL-3.0-or-later
"""Convenience for other modules: record to the audit archive when it is loaded.

    from modules.audit.hooks import record_admin_operation
    await record_admin_operation(api, admin, "policy.keywords.replace", "keywords",
                                 before, after)

Without modules.audit in homeserver.yaml these do nothing. With it, they return once
the record is durable (modules/audit/service.py documents every hook).
"""

from typing import Any

from synapse.module_api import ModuleApi

from modules.common import registry


def audit_service(api: ModuleApi) -> Any | None:
    try:
        return registry.lookup(api, "audit")
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
