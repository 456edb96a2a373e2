# SPDX-License-Identifier: AGPL-3.0-or-later
"""What other modules may use of modules.watermark (its declared surface): the sharing
policy admins set, for modules that share content themselves (favourites, a mail
bridge) and must ask it first.

    watermark = registry.lookup(api, SERVICE)     # ServiceMissingError without it
    if not watermark.sharing_policy().allow_email: ...
"""

from typing import Protocol

from modules.common import registry
from modules.watermark.settings import SharingSettings

__all__ = ["SERVICE", "SharingSettings", "WatermarkService"]


class WatermarkService(Protocol):
    """modules.watermark's service in the registry."""

    def sharing_policy(self) -> SharingSettings: ...


SERVICE: registry.Service[WatermarkService] = registry.Service("watermark")
