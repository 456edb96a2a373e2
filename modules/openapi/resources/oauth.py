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
import json
import logging
from importlib import resources
from typing import Any

from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET

import jinja2

from modules.common.resource import query_param, read_body
from modules.common.runtime import ModuleRuntime
from modules.common.synapse_compat import SynapseError, fire_in_request_context
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


def _page(title: str, message: str) -> bytes:
    return (
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title></head><body>"
        f"<h1>{html.escape(title)}</h1><p>{html.escape(message)}</p></body></html>"
    ).encode()


class OAuthResource(Resource):
    isLeaf = True

    def __init__(self, api: Any, runtime: ModuleRuntime, oauth: OAuth) -> None:
        super().__init__()
        self._api = api
        self._runtime = runtime
        self._oauth = oauth

    def render(self, request: Any) -> Any:
        fire_in_request_context(self._process, request)
        return NOT_DONE_YET

    async def _process(self, request: Any) -> None:
        path = request.path.decode("ascii", "replace")
        method = request.method.decode("ascii")
        try:
            if path.rstrip("/") != OAUTH_PREFIX + "/authorize":
                _finish(request, 404, "text/html", _page("未找到", "没有这个页面"))
            elif method in ("GET", "HEAD"):
                await self._get(request)
            elif method == "POST":
                await self._post(request)
            else:
                _finish(request, 405, "text/html", _page("不支持", method))
        except Exception:
            logger.exception("OAuth2 request failed")
            _finish(request, 500, "text/html", _page("服务器内部错误", "请稍后再试"))

    async def _user(self, request: Any) -> str | None:
        if not request.requestHeaders.hasHeader(b"Authorization"):
            return None
        try:
            requester = await self._api.get_user_by_req(request)
        except SynapseError:
            return None
        return str(requester.user.to_string())

    async def _get(self, request: Any) -> None:
        params = {k: query_param(request, k) or "" for k in PARAMS}
        try:
            agentid, target = self._oauth.check_request(params)
            await self._runtime.ready()
            user_id = await self._user(request)
            if user_id is None:
                name = await self._oauth.app_name(agentid, target)
                page = _LOGIN.render(app_name=name, params=params)
                _finish(request, 200, "text/html", page.encode("utf-8"))
                return
            location = await self._oauth.grant(params, user_id)
        except OAuthError as e:
            _finish(request, 400, "text/html", _page("无法授权", e.message))
            return
        except SynapseError as e:
            _finish(request, e.code, "text/html", _page("请稍后再试", e.msg))
            return
        request.setResponseCode(302)
        request.setHeader(b"Location", location.encode("utf-8"))
        _finish(request, 302, "text/html", _page("正在跳转", location))

    async def _post(self, request: Any) -> None:
        user_id = await self._user(request)
        if user_id is None:
            _json(request, 401, {"errcode": "M_MISSING_TOKEN", "error": "请先登录"})
            return
        try:
            body = json.loads(read_body(request).decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            body = None
        if not isinstance(body, dict):
            _json(request, 400, {"errcode": "M_NOT_JSON", "error": "请求体不是 JSON"})
            return
        params = {k: str(body.get(k) or "") for k in PARAMS}
        try:
            await self._runtime.ready()
            target = await self._oauth.grant(params, user_id)
        except OAuthError as e:
            _json(
                request,
                400,
                {"errcode": REFUSED, "error": e.message, "wecom_errcode": e.errcode},
            )
            return
        _json(request, 200, {"redirect": target})


def _json(request: Any, status: int, body: dict[str, Any]) -> None:
    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    _finish(request, status, "application/json", data)


def _finish(request: Any, status: int, content_type: str, payload: bytes) -> None:
    if getattr(request, "_disconnected", False):
        return
    request.setResponseCode(status)
    request.setHeader(b"Content-Type", f"{content_type}; charset=utf-8".encode())
    request.setHeader(b"Cache-Control", b"no-store")
    # The login page takes a password: never inside another site's frame.
    request.setHeader(b"X-Frame-Options", b"DENY")
    request.setHeader(b"Content-Security-Policy", b"frame-ancestors 'none'")
    request.setHeader(b"X-Content-Type-Options", b"nosniff")
    request.setHeader(b"Referrer-Policy", b"no-referrer")
    request.setHeader(b"Content-Length", str(len(payload)).encode("ascii"))
    request.write(payload)
    request.finish()
