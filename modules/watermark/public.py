# SPDX-License-Identifier: AGPL-3.0-or-later
"""What other modules may use of modules.watermark (its declared surface): the sharing
policy admins set, for modules that share content themselves (favourites, a mail
bridge) and must ask it first; and `CLIENT_SECTIONS`, where a module publishes more
sections of the client-config endpoint (admin_api: unit, splash, profile); and the CJK
font lookup (the launcher's inspection report draws Chinese with it).

    watermark = registry.lookup(api, SERVICE)     # ServiceMissingError without it
    if not watermark.sharing_policy().allow_email: ...
"""

from typing import Any, Protocol

from modules.common import registry
from modules.watermark.fonts import FontError, find_cjk_font
from modules.watermark.settings import SharingSettings

__all__ = [
    "CLIENT_SECTIONS",
    "SERVICE",
    "ClientSections",
    "FontError",
    "SharingSettings",
    "WatermarkService",
    "find_cjk_font",
]


class WatermarkService(Protocol):
    """modules.watermark's service in the registry."""

    def sharing_policy(self) -> SharingSettings: ...

    async def page_watermark(self, user_id: str) -> tuple[str, float] | None:
        """The viewer's watermark (text, opacity) for a page the server renders (a
        public account's article), None when the policy draws none on conversations."""
        ...


SERVICE: registry.Service[WatermarkService] = registry.Service("watermark")


class ClientSections(Protocol):
    """More sections of GET /_jwwx/client/v1/client_config, from a module this one does
    not depend on (declared here, on the side that asks: admin_api's unit information,
    splash image and editable profile fields publish themselves under this key)."""

    async def client_sections(self, user_id: str) -> dict[str, Any]: ...


CLIENT_SECTIONS: registry.Service[ClientSections] = registry.Service(
    "client_config_sections"
)
