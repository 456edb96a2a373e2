# SPDX-License-Identifier: AGPL-3.0-or-later
"""What other packages may use of modules.search: the SearchService Protocol (published
under SERVICE), e.g. for a module that must know whether a message is findable yet."""

from typing import Protocol

from modules.common import registry


class SearchService(Protocol):
    @property
    def index_position(self) -> int | None:
        """The event-stream position the index has reached (None before the first
        batch on this process, or on a process that does not index)."""

    async def forget(self, event_ids: list[str]) -> None:
        """Drop these events from the index at once (e.g. a module that deletes
        content Synapse keeps)."""


SERVICE: registry.Service[SearchService] = registry.Service("search")
