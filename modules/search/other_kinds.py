# SPDX-License-Identifier: AGPL-3.0-or-later
"""The unified search's kinds that are not messages, each through the module that owns
it and as that module shows it, paged by offset:

- contacts, departments: the directory's own search (name, full pinyin, initials;
  departments by name) with the directory's visibility: hidden stays hidden, restricted
  departments limit what an officer finds (modules.directory.public DirectorySearching);
- favorites: the officer's own favourites whose text or file name contains q
  (modules.favorites.public FavoritesReads);
- apps: what the officer's workbench shows for q, through the workbench's own search
  and visibility (modules.workbench.public), then the open-API apps whose visible range
  holds the officer (modules.openapi.public) and the public accounts the officer's
  client lists (modules.public_accounts.public) that no entry already shows, by name,
  its pinyin/initials, or description.

A module that is not loaded answers its kind with no results."""

from typing import Any

from synapse.module_api import ModuleApi

from modules.common import registry
from modules.directory import public as directory
from modules.favorites import public as favorites
from modules.openapi import public as openapi
from modules.public_accounts import public as public_accounts
from modules.search.text import name_text, normalise
from modules.workbench import public as workbench

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
        """What the officer's workbench shows for `term` (its entries: self-built apps,
        links to public accounts and external apps), then the open-API apps and the
        public accounts the officer may see that no workbench entry already shows.
        Each item carries `source`: workbench, openapi or pubaccount."""
        needle = " ".join(normalise(term).split())
        if not needle:
            return {"results": []}
        found = await self._workbench_entries(user_id, term)
        shown_apps = {e["agentid"] for e in found if e.get("agentid") is not None}
        found += [
            {**app, "source": "openapi"}
            for app in await self._openapi_apps(user_id, needle)
            if app["agentid"] not in shown_apps
        ]
        found += await self._public_accounts(user_id, needle)
        page = found[offset : offset + limit]
        more = offset + limit < len(found)
        answer = _page(page, offset + limit if more else None)
        answer["count"] = len(found)
        return answer

    async def _workbench_entries(self, user_id: str, term: str) -> list[dict[str, Any]]:
        try:
            service = registry.lookup(self._api, workbench.SERVICE)
        except registry.ServiceMissingError:
            return []
        await service.runtime.ready()
        if len(term) > MAX_NAME_QUERY:
            return []  # the workbench's own limit: nothing is named like that
        view = await service.workbench.officer_view(user_id, term, None)
        return [
            {**entry, "source": "workbench"}
            for category in view["categories"]
            for entry in category["entries"]
        ]

    async def _openapi_apps(self, user_id: str, needle: str) -> list[dict[str, Any]]:
        try:
            service = registry.lookup(self._api, openapi.SERVICE)
        except registry.ServiceMissingError:
            return []
        await service.runtime.ready()
        return [
            app
            for app in await service.visible_apps.visible_to(user_id)
            if _named(needle, str(app["name"]), app.get("description"))
        ]

    async def _public_accounts(self, user_id: str, needle: str) -> list[dict[str, Any]]:
        try:
            service = registry.lookup(self._api, public_accounts.SERVICE)
        except registry.ServiceMissingError:
            return []
        await service.runtime.ready()
        userid = user_id[1:].split(":", 1)[0]
        return [
            {**account, "source": "pubaccount"}
            for account in await service.accounts.officer_list(userid)
            if _named(needle, str(account["name"]), account.get("description"))
        ]


def _named(needle: str, name: str, description: Any) -> bool:
    """By name (also its pinyin and initials) or description, as a substring."""
    return needle in name_text(name) or needle in normalise(str(description or ""))
