# SPDX-License-Identifier: AGPL-3.0-or-later
"""Officers' side under /_jwwx/client/v1/pubaccounts (their Matrix access token).

GET  ""                              every account, with `subscribed`
POST {account_id}/follow             follow (the account's room appears shortly)
POST {account_id}/unfollow           unfollow (403 CN_JWWX_PUBACCOUNT_UNFOLLOW_NOT_ALLOWED
                                     for an account that does not allow it to its range)
GET  articles/{article_id}           the article page (HTML; pages.py); without a
                                     token: ?code= (the open API's OAuth2) → 302 to
                                     ?v= (the viewer's signed link), which shows it
GET  articles/{article_id}/media/{media_id}?v=   media of the article (signed link)
POST articles/{article_id}/read_time?v=  {ms}     reading time (signed link; the page
                                     sends it with navigator.sendBeacon)
"""

import html
from typing import Any
from urllib.parse import quote

from synapse.module_api import ModuleApi

from modules.common.http import STREAMED, HtmlPage, Redirect
from modules.common.inputs import parse_int, query_param, read_json
from modules.common.router import Router
from modules.common.runtime import ModuleRuntime
from modules.common.synapse.errors import SynapseError
from modules.public_accounts import access
from modules.public_accounts.accounts import Accounts
from modules.public_accounts.pages import PAGE_PATH, Pages

CLIENT_PREFIX = "/_jwwx/client/v1/pubaccounts"


def _has_token(request: Any) -> bool:
    """Whether the request carries a Matrix access token (header or query)."""
    return bool(request.getHeader("Authorization")) or b"access_token" in request.args


def _error_page(status: int, message: str) -> HtmlPage:
    text = html.escape(message)
    return HtmlPage(
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{text}</title></head><body><p>{text}</p></body></html>",
        headers=((b"Cache-Control", b"no-store"),),
    )


class PublicAccountsClientResource(Router):
    prefix = CLIENT_PREFIX

    def __init__(
        self, api: ModuleApi, runtime: ModuleRuntime, accounts: Accounts, pages: Pages
    ) -> None:
        super().__init__(api)
        self._runtime = runtime
        self._accounts = accounts
        self._pages = pages
        self.route("GET", "", self.list_accounts)
        self.route("POST", "{account_id}/follow", self.follow)
        self.route("POST", "{account_id}/unfollow", self.unfollow)
        self.route("GET", "articles/{article_id}", self.page)
        self.route("GET", "articles/{article_id}/media/{media_id}", self.media)
        self.route("POST", "articles/{article_id}/read_time", self.read_time)

    async def _caller(self, request: Any) -> str:
        user_id = await self.requester_id(request)
        await self._runtime.ready()
        return user_id

    async def list_accounts(self, request: Any) -> tuple[int, Any]:
        user_id = await self._caller(request)
        listed = await self._accounts.officer_list(access.localpart(user_id))
        return 200, {"accounts": listed}

    async def _follow(self, request: Any, account_id: str, on: bool) -> tuple[int, Any]:
        user_id = await self._caller(request)
        number = parse_int(account_id, "account_id", 1, 10**12)
        account = await self._accounts.require(number)
        await self._accounts.follow(account, access.localpart(user_id), on)
        return 200, {"following": on}

    async def follow(self, request: Any, account_id: str) -> tuple[int, Any]:
        return await self._follow(request, account_id, True)

    async def unfollow(self, request: Any, account_id: str) -> tuple[int, Any]:
        return await self._follow(request, account_id, False)

    @staticmethod
    def _article_id(text: str) -> int:
        return parse_int(text, "article_id", 1, 10**12)

    async def page(self, request: Any, article_id: str) -> tuple[int, Any]:
        """HTML, errors included (a browser shows the page, not JSON). Without a
        Matrix token: ?code= (OAuth2) redirects to the page with the viewer's signed
        link, ?v= (that link) shows it."""
        try:
            number = self._article_id(article_id)
            if not _has_token(request):
                code = query_param(request, "code")
                view = query_param(request, "v")
                if code:
                    await self._runtime.ready()
                    userid = await self._pages.user_of_code(number, code)
                    token = await self._pages.view_token(number, userid)
                    return 302, Redirect(f"{PAGE_PATH}/{number}?v={quote(token)}")
                if view:
                    await self._runtime.ready()
                    userid = await self._pages.check_token(number, view)
                    user_id = f"@{userid}:{self.api.server_name}"
                    return 200, await self._pages.render(user_id, number)
            user_id = await self._caller(request)
            return 200, await self._pages.render(user_id, number)
        except SynapseError as e:
            return e.code, _error_page(e.code, e.msg)

    async def media(
        self, request: Any, article_id: str, media_id: str
    ) -> tuple[int, Any]:
        await self._runtime.ready()
        await self._pages.media(
            request, self._article_id(article_id), media_id, query_param(request, "v")
        )
        return 200, STREAMED

    async def read_time(self, request: Any, article_id: str) -> tuple[int, Any]:
        await self._runtime.ready()
        await self._pages.read_time(
            self._article_id(article_id), query_param(request, "v"), read_json(request)
        )
        return 200, {}
