# SPDX-License-Identifier: AGPL-3.0-or-later
"""What other modules may use of modules.favorites (its declared surface): which local
files a favourite still re-references, so retention's sweep and burn-after-read do not
delete them; and an officer's own favourites by text (modules.search)."""

from collections.abc import Sequence
from typing import Any, Protocol

from synapse.module_api import ModuleApi

from modules.common import registry
from modules.common.runtime import ModuleRuntime


class FavouritedMedia(Protocol):
    async def favourited_local_media(self, media_ids: Sequence[str]) -> set[str]: ...


class FavoritesReads(FavouritedMedia, Protocol):
    async def list(
        self, user_id: str, query: str | None, limit: int, offset: int
    ) -> dict[str, Any]:
        """The user's own favourites, newest first, whose text or file name contains
        `query`: {"favorites": [...], "next_from": "<offset>" or None} (the client
        API's GET /_jwwx/client/v1/favorites)."""
        ...


class FavoritesService(Protocol):
    """modules.favorites' service in the registry."""

    @property
    def runtime(self) -> ModuleRuntime: ...

    @property
    def service(self) -> FavoritesReads: ...


SERVICE: registry.Service[FavoritesService] = registry.Service("favorites")


class BurnTracking(Protocol):
    """What favourites ask of modules.burn (declared here: burn depends on favourites,
    not the reverse; modules/burn/public.py checks its service fits)."""

    async def tracked_event_ids(self, event_ids: list[str]) -> set[str]: ...


BURN: registry.Service[BurnTracking] = registry.Service("burn")


async def favourited_local_media(api: ModuleApi, media_ids: Sequence[str]) -> set[str]:
    """The local media ids among `media_ids` that some favourite references; none when
    modules.favorites is not loaded in this process."""
    if not media_ids:
        return set()
    try:
        favorites = registry.lookup(api, SERVICE)
    except registry.ServiceMissingError:
        return set()
    await favorites.runtime.ready()
    return set(await favorites.service.favourited_local_media(media_ids))
