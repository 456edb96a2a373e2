# SPDX-License-Identifier: AGPL-3.0-or-later
"""What other modules ask of favourites about media (retention's sweep, burn-after-read):
which local files a favourite still re-references, so they are not deleted."""

from collections.abc import Sequence

from synapse.module_api import ModuleApi

from modules.common import registry


async def favourited_local_media(api: ModuleApi, media_ids: Sequence[str]) -> set[str]:
    """The local media ids among `media_ids` that some favourite references; none when
    modules.favorites is not loaded in this process."""
    if not media_ids:
        return set()
    try:
        favorites = registry.lookup(api, "favorites")
    except registry.ServiceMissingError:
        return set()
    await favorites.runtime.ready()
    return set(await favorites.service.favourited_local_media(media_ids))
