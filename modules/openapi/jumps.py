# SPDX-License-Identifier: AGPL-3.0-or-later
"""The open API's AppJumps (modules/openapi/public.py) over its OAuth2 codes."""

from modules.openapi.oauth import OAuth, OAuthError
from modules.openapi.public import JumpRefusedError


class Jumps:
    def __init__(self, oauth: OAuth) -> None:
        self._oauth = oauth

    async def check_target(self, agentid: int, url: str) -> str:
        try:
            return await self._oauth.check_target(agentid, url)
        except OAuthError as e:
            raise JumpRefusedError(e.errcode, e.message) from e

    async def code_url(self, agentid: int, url: str, user_id: str, state: str) -> str:
        try:
            return await self._oauth.code_url(agentid, url, user_id, state)
        except OAuthError as e:
            raise JumpRefusedError(e.errcode, e.message) from e
