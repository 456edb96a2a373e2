# SPDX-License-Identifier: AGPL-3.0-or-later
"""The open API's AppJumps (modules/openapi/public.py): app names, jumps over its
OAuth2 codes, and codes redeemed by pages the homeserver serves itself."""

from synapse.module_api import ModuleApi

from modules.openapi import storage
from modules.openapi.oauth import OAuth, OAuthError
from modules.openapi.public import JumpRefusedError


class Jumps:
    def __init__(self, api: ModuleApi, oauth: OAuth) -> None:
        self._api = api
        self._oauth = oauth

    async def app_name(self, agentid: int) -> str | None:
        app = await self._api.run_db_interaction(
            "jwwx_openapi_app_name", storage.get_app_txn, agentid
        )
        return None if app is None else str(app.name)

    async def check_target(self, agentid: int, url: str) -> str:
        try:
            return await self._oauth.check_target(agentid, url)
        except OAuthError as e:
            raise JumpRefusedError(e.errcode, e.message) from e

    async def page_user(self, code: str, url: str) -> str | None:
        return await self._oauth.page_user(code, url)

    async def visitor_url(self, agentid: int, url: str, user_id: str) -> str:
        try:
            return await self._oauth.visitor_code_url(agentid, url, user_id)
        except OAuthError as e:
            raise JumpRefusedError(e.errcode, e.message) from e

    async def code_url(self, agentid: int, url: str, user_id: str, state: str) -> str:
        try:
            return await self._oauth.code_url(agentid, url, user_id, state)
        except OAuthError as e:
            raise JumpRefusedError(e.errcode, e.message) from e
