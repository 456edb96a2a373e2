# SPDX-License-Identifier: AGPL-3.0-or-later
"""/connect/oauth2/authorize: WeCom's web-login entry (网页授权), see modules/openapi/oauth.py.

GET  ?appid=&redirect_uri=&response_type=code&scope=&state=&agentid=
     with a Matrix access token (Authorization: Bearer …): 302 to redirect_uri?code=&state=
     without: the login page (templates/oauth_login.html)
     refused (bad appid, untrusted domain, out of range): 400, an HTML page, no redirect
POST the same parameters as JSON, with a Matrix access token: {"redirect": url}, or
     400 CN_JWWX_OAUTH_REFUSED {error, wecom_errcode} (the login page uses it)
"""

import html
import logging
from importlib import resources
from typing import Any

import jinja2
from synapse.module_api import ModuleApi

from modules.common.http import HtmlPage, Redirect, Router
from modules.common.inputs import InputError, excerpt, query_param, read_json
from modules.common.runtime import ModuleRuntime
from modules.common.synapse.errors import SynapseError
from modules.openapi.oauth import OAuth, OAuthError

logger = logging.getLogger(__name__)

OAUTH_PREFIX = "/connect/oauth2"
REFUSED = "CN_JWWX_OAUTH_REFUSED"
PARAMS = ("appid", "redirect_uri", "response_type", "scope", "state", "agentid")

_env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
_LOGIN = _env.from_string(
    resources.files("modules.openapi")
    .joinpath("templates/oauth_login.html")
    .read_text(encoding="utf-8")
)


def _page(title: str, message: str) -> str:
    return (
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title></head><body>"
        f"<h1>{html.escape(title)}</h1><p>{html.escape(message)}</p></body></html>"
    )


class OAuthResource(Router):
    """GET answers pages (a browser's), POST answers JSON (the login page's script)."""

    prefix = OAUTH_PREFIX
    headers = (
        (b"Cache-Control", b"no-store"),
        # The login page takes a password: never inside another site's frame.
        (b"X-Frame-Options", b"DENY"),
        (b"Content-Security-Policy", b"frame-ancestors 'none'"),
        (b"X-Content-Type-Options", b"nosniff"),
        (b"Referrer-Policy", b"no-referrer"),
    )

    def __init__(self, api: ModuleApi, runtime: ModuleRuntime, oauth: OAuth) -> None:
        super().__init__(api)
        self._api = api
        self._runtime = runtime
        self._oauth = oauth
        self.route("GET", "authorize", self._get)
        self.route("POST", "authorize", self._post)

    def error_answer(self, request: Any, exc: Exception) -> tuple[int, Any]:
        status, body = super().error_answer(request, exc)
        if request.method == b"POST" and status != 404:
            return status, body
        if status == 404:
            return 404, HtmlPage(_page("未找到", "没有这个页面"))
        if status == 405:
            return 405, HtmlPage(_page("不支持", excerpt(request.method.decode())))
        if status >= 500:
            return status, HtmlPage(_page("服务器内部错误", "请稍后再试"))
        return status, HtmlPage(_page("无法授权", str(body.get("error", ""))))

    async def _user(self, request: Any) -> str | None:
        if not request.requestHeaders.hasHeader(b"Authorization"):
            return None
        try:
            requester = await self._api.get_user_by_req(request)
        except SynapseError:
            return None
        return str(requester.user.to_string())

    async def _get(self, request: Any) -> tuple[int, Any]:
        params = {k: query_param(request, k) or "" for k in PARAMS}
        try:
            agentid, target = self._oauth.check_request(params)
            await self._runtime.ready()
            user_id = await self._user(request)
            if user_id is None:
                name = await self._oauth.app_name(agentid, target)
                return 200, HtmlPage(_LOGIN.render(app_name=name, params=params))
            location = await self._oauth.grant(params, user_id)
        except OAuthError as e:
            return 400, HtmlPage(_page("无法授权", e.message))
        except InputError:
            raise
        except SynapseError as e:
            return e.code, HtmlPage(_page("请稍后再试", e.msg))
        return 302, Redirect(location, _page("正在跳转", location))

    async def _post(self, request: Any) -> tuple[int, Any]:
        user_id = await self._user(request)
        if user_id is None:
            return 401, {"errcode": "M_MISSING_TOKEN", "error": "请先登录"}
        body = read_json(request)
        if not isinstance(body, dict):
            return 400, {"errcode": "M_NOT_JSON", "error": "请求体不是 JSON"}
        params = {k: str(body.get(k) or "") for k in PARAMS}
        try:
            await self._runtime.ready()
            target = await self._oauth.grant(params, user_id)
        except OAuthError as e:
            return 400, {
                "errcode": REFUSED,
                "error": e.message,
                "wecom_errcode": e.errcode,
            }
        return 200, {"redirect": target}
