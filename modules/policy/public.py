# SPDX-License-Identifier: AGPL-3.0-or-later
"""What other modules may call: the keyword filter over content they are about to send.

    from modules.policy.public import content_blocked
    if await content_blocked(api, "m.room.message", content):
        ...  # answer the caller with its own "blocked" error; send nothing

Events a module sends still pass the spam checker like any other; this lets a module
refuse before it records or fans out anything. Without modules.policy loaded, nothing
is blocked.
"""

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from synapse.module_api import ModuleApi

from modules.common import registry
from modules.policy.extract import Text, event_texts


class KeywordService(Protocol):
    """modules.policy's service in the registry: the keyword filter."""

    async def blocked(self, texts: Iterable[Text]) -> bool: ...


SERVICE: registry.Service[KeywordService] = registry.Service("policy")


async def content_blocked(
    api: ModuleApi, event_type: str, content: Mapping[str, Any]
) -> bool:
    try:
        keywords = registry.lookup(api, SERVICE)
    except registry.ServiceMissingError:
        return False
    return bool(await keywords.blocked(event_texts(event_type, None, content)))
