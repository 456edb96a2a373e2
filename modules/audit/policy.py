# SPDX-License-Identifier: AGPL-3.0-or-later
"""What the archive asks of a burn-after-read module (modules.burn publishes itself under
BURN_POLICY): whether burned messages' content may be kept, and which events burn
(including relations whose own content carries no marker). Declared here, on the side
that needs it, so that modules.burn depends on modules.audit and not the reverse."""

from typing import Protocol

from modules.common import registry
from modules.common.storage import Txn


class BurnPolicy(Protocol):
    @property
    def keeps_audit_copy(self) -> bool: ...

    async def tracked_event_ids(self, event_ids: list[str]) -> set[str]: ...

    def tracked_ids_txn(self, txn: Txn, event_ids: list[str]) -> set[str] | None: ...


BURN_POLICY: registry.Service[BurnPolicy] = registry.Service("burn")
