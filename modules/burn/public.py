# SPDX-License-Identifier: AGPL-3.0-or-later
"""What other modules may use of modules.burn (its declared surface): its service in the
registry, BurnService. modules.audit and modules.favorites, which modules.burn itself
depends on, declare the part they need on their side (audit.public.BurnPolicy,
favorites.public.BurnTracking) under the same name; mypy checks below that this service
fits both."""

from typing import TYPE_CHECKING, Any, Protocol

from synapse.module_api import ModuleApi

from modules.audit.public import BurnPolicy
from modules.common import registry
from modules.common.storage import Txn
from modules.favorites.public import BurnTracking

__all__ = ["SERVICE", "BurnService", "burns"]


class BurnService(Protocol):
    @property
    def keeps_audit_copy(self) -> bool: ...

    async def tracked_event_ids(self, event_ids: list[str]) -> set[str]:
        """Which of these events burn (burn-after-read messages and their relations)."""
        ...

    def tracked_ids_txn(self, txn: Txn, event_ids: list[str]) -> set[str] | None:
        """The same inside the caller's transaction; None until burn's tables exist."""
        ...

    def client_config(self) -> dict[str, Any]:
        """The "burn_after_read" section of GET /_jwwx/client/v1/client_config."""
        ...


SERVICE: registry.Service[BurnService] = registry.Service("burn")


async def burns(api: ModuleApi, event_id: str) -> bool:
    """Whether this message burns after reading (False where modules.burn is not
    loaded): such a message is never read by a service (OCR, speech-to-text)."""
    try:
        service = registry.lookup(api, SERVICE)
    except registry.ServiceMissingError:
        return False
    return event_id in await service.tracked_event_ids([event_id])


if TYPE_CHECKING:

    def _fits_audit(service: BurnService) -> BurnPolicy:
        return service

    def _fits_favorites(service: BurnService) -> BurnTracking:
        return service
