# SPDX-License-Identifier: AGPL-3.0-or-later
"""The unified search's kinds that are not messages, each through the module that owns
it and as that module shows it, paged by offset:

- contacts, departments: the directory's own search (name, full pinyin, initials;
  departments by name) with the directory's visibility: hidden stays hidden, restricted
  departments limit what an officer finds (modules.directory.public DirectorySearching);
- favorites: the officer's own favourites whose text or file name contains q
  (modules.favorites.public FavoritesReads);
- apps: the open-API apps whose visible range holds the officer, by name, description,
  or the name's pinyin/initials (modules.openapi.public; no workbench yet).

A module that is not loaded answers its kind with no results."""

from typing import Any

from synapse.module_api import ModuleApi

from modules.common import registry
from modules.directory import public as directory
from modules.favorites import public as favorites
from modules.openapi import public as openapi
from modules.search.text import name_text, normalise

MAX_NAME_QUERY = 64  # the directory's own limit for search terms


def _page(results: list[Any], next_from: Any) -> dict[str, Any]:
    answer: dict[str, Any] = {"results": results}
    if next_from is not None:
        answer["next_batch"] = str(next_from)
    return answer


class OtherKinds:
    def __init__(self, api: ModuleApi) -> None:
        self._api = api

    async def contacts(
        self, user_id: str, term: str, limit: int, offset: int
    ) -> dict[str, Any]:
        return await self._directory("members", user_id, term, limit, offset)

    async def departments(
        self, user_id: str, term: str, limit: int, offset: int
    ) -> dict[str, Any]:
        return await self._directory("departments", user_id, term, limit, offset)

    async def _directory(
        self, what: str, user_id: str, term: str, limit: int, offset: int
    ) -> dict[str, Any]:
        term = term.strip()
        if not term or len(term) > MAX_NAME_QUERY:
            return {"results": []}  # nothing is named like that
        try:
            service = registry.lookup(self._api, directory.SERVICE)
        except registry.ServiceMissingError:
            return {"results": []}
        search = service.search
        read = search.members if what == "members" else search.departments
        try:
            found = await read(user_id, term, limit, offset)
        except directory.DirectoryError:  # nothing searchable left in the term
            return {"results": []}
        return _page(list(found["results"]), found.get("next_from"))

    async def favorites(
        self, user_id: str, term: str, limit: int, offset: int
    ) -> dict[str, Any]:
        try:
            service = registry.lookup(self._api, favorites.SERVICE)
        except registry.ServiceMissingError:
            return {"results": []}
        await service.runtime.ready()
        found = await service.service.list(user_id, term.strip() or None, limit, offset)
        return _page(list(found["favorites"]), found.get("next_from"))

    async def apps(
        self, user_id: str, term: str, limit: int, offset: int
    ) -> dict[str, Any]:
        try:
            service = registry.lookup(self._api, openapi.SERVICE)
        except registry.ServiceMissingError:
            return {"results": []}
        await service.runtime.ready()
        needle = " ".join(normalise(term).split())
        if not needle:
            return {"results": []}
        matched = [
            app
            for app in await service.visible_apps.visible_to(user_id)
            if needle in name_text(str(app["name"]))
            or needle in normalise(str(app.get("description") or ""))
        ]
        page = matched[offset : offset + limit]
        more = offset + limit < len(matched)
        answer = _page(page, offset + limit if more else None)
        answer["count"] = len(matched)
        return answer
