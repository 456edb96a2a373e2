# SPDX-License-Identifier: AGPL-3.0-or-later
"""Officers' favourites API under /_jwwx/client/v1/favorites (access token required).

POST   ""                 {room_id, event_id}  favourite a message (idempotent)
GET    ""?q=&from=&limit=  newest first; q searches text and file names
GET    {id}               one favourite
DELETE {id}               remove
POST   {id}/send          {room_id}  send it into a chat as a new message
"""

from typing import Any

from synapse.module_api import ModuleApi

from modules.common.resource import query_param, read_json_object
from modules.common.router import Router
from modules.common.runtime import ModuleRuntime
from modules.favorites.config import FavoritesConfig
from modules.favorites.service import FavoritesService

CLIENT_PREFIX = "/_jwwx/client/v1/favorites"


class FavoritesResource(Router):
    prefix = CLIENT_PREFIX

    def __init__(
        self,
        api: ModuleApi,
        config: FavoritesConfig,
        runtime: ModuleRuntime,
        service: FavoritesService,
    ) -> None:
        super().__init__(api)
        self._config = config
        self._runtime = runtime
        self._service = service
        self.route("POST", "", self.add)
        self.route("GET", "", self.list)
        self.route("GET", "{favorite_id}", self.get)
        self.route("DELETE", "{favorite_id}", self.remove)
        self.route("POST", "{favorite_id}/send", self.send)

    async def caller(self, request: Any) -> str:
        user_id = await self.requester_id(request)
        await self._runtime.ready()
        return user_id

    async def add(self, request: Any) -> tuple[int, Any]:
        user_id = await self.caller(request)
        return 200, await self._service.add(user_id, read_json_object(request))

    async def list(self, request: Any) -> tuple[int, Any]:
        user_id = await self.caller(request)
        limit = self.integer_arg(
            request,
            "limit",
            self._config.default_page_size,
            1,
            self._config.max_page_size,
        )
        offset = self.integer_arg(request, "from", 0, 0, 10**9)
        query = query_param(request, "q")
        return 200, await self._service.list(user_id, query, limit, offset)

    async def get(self, request: Any, favorite_id: str) -> tuple[int, Any]:
        user_id = await self.caller(request)
        return 200, (await self._service.get(user_id, favorite_id)).as_json()

    async def remove(self, request: Any, favorite_id: str) -> tuple[int, Any]:
        user_id = await self.caller(request)
        await self._service.remove(user_id, favorite_id)
        return 200, {}

    async def send(self, request: Any, favorite_id: str) -> tuple[int, Any]:
        user_id = await self.caller(request)
        body = read_json_object(request)
        return 200, await self._service.send(user_id, favorite_id, body)
