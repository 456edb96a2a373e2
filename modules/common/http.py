# SPDX-License-Identifier: AGPL-3.0-or-later
"""The one HTTP layer of our modules: routing, answers, errors, and the response writer.

    class ThingsResource(Router):
        prefix = "/_jwwx/client/v1/things"
        def __init__(self, api):
            super().__init__(api)
            self.route("GET", "items/{item_id}", self.get_item)
        async def get_item(self, request, item_id: str) -> tuple[int, Any]: ...

    register_resource(api, ThingsResource.prefix, ThingsResource(api))

A handler returns (status, answer). The answer is JSON (a dict/list), RawBody (a file),
HtmlPage, Redirect, or STREAMED (the handler has written the response itself). Errors are
answered in the router's dialect:
- MATRIX: {"errcode", "error"} with the exception's HTTP status (SynapseError; any other
  exception: 500 M_UNKNOWN, logged, never a traceback);
- WECOM: HTTP 200 {"errcode", "errmsg"} with WeCom's numbers (WeComDialectError; InputError by
  its WeCom number; anything else -1 "system busy"); success bodies get errcode 0.
`{name}` captures one URL-decoded path segment. Unknown paths and wrong methods get the
dialect's answer (Matrix: 404 / 405 M_UNRECOGNIZED). `translate_error` maps a module's
own exceptions into the dialect.

Every request is answered: error text is cut to a short printable excerpt, a string that
cannot be encoded is replaced rather than raising, and if writing still fails a plain 500
is sent. Every resource is registered through register_resource(), which keeps the route
inventory (GET /_jwwx/admin/v1/http/routes, server admins) the bad-input tests walk.
"""

import contextlib
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import quote

from twisted.internet.defer import ensureDeferred
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET

from synapse.module_api import ModuleApi

from modules.common.inputs import (
    InputError,
    parse_int,
    path_parts,
    query_param,
    sanitise_message,
)
from modules.common.metrics import observe_request
from modules.common.synapse.errors import Codes, SynapseError
from modules.common.synapse.http import client_disconnected
from modules.common.synapse.runtime import fire_in_request_context

logger = logging.getLogger(__name__)

Handler = Callable[..., Awaitable[tuple[int, Any]]]
ROUTES_PATH = "/_jwwx/admin/v1/http/routes"
# The request attribute naming the route pattern that matched (for the metrics).
ROUTE_ATTRIBUTE = "jwwx_route"


# Answers other than JSON.


@dataclass(frozen=True)
class RawBody:
    """A file: `inline` displays it, otherwise it is a download named `filename`."""

    content_type: str
    data: bytes
    filename: str | None = None
    inline: bool = False
    headers: tuple[tuple[bytes, bytes], ...] = ()


@dataclass(frozen=True)
class HtmlPage:
    html: str
    headers: tuple[tuple[bytes, bytes], ...] = ()


@dataclass(frozen=True)
class Redirect:
    location: str
    html: str = ""


class _Streamed:
    """The handler wrote (or is writing) the response itself."""


STREAMED = _Streamed()


# Dialects.


class WeComDialectError(Exception):
    """An error answered in the WeCom dialect: {"errcode": errcode, "errmsg": errmsg}."""

    errcode: int = -1

    @property
    def errmsg(self) -> str:
        return str(self)


@dataclass(frozen=True)
class Dialect:
    name: str
    answers_options: bool

    def success(self, status: int, body: Any) -> tuple[int, Any]:
        return status, body

    def error(self, exc: Exception) -> tuple[int, Any]:
        raise NotImplementedError

    def unknown_route(self, method: str, path: str, known_path: bool) -> Exception:
        raise NotImplementedError


class _Matrix(Dialect):
    def error(self, exc: Exception) -> tuple[int, Any]:
        if isinstance(exc, SynapseError):
            body = exc.error_dict(None)
            body["error"] = sanitise_message(str(body.get("error", "")))
            return exc.code, body
        return 500, {"errcode": Codes.UNKNOWN, "error": "服务器内部错误"}

    def unknown_route(self, method: str, path: str, known_path: bool) -> Exception:
        if known_path:
            return SynapseError(
                405, f"{method} is not allowed here", Codes.UNRECOGNIZED
            )
        return SynapseError(404, "Unrecognized request", Codes.UNRECOGNIZED)


WECOM_SYSTEM_BUSY = -1
WECOM_API_NOT_FOUND = 48001
_WECOM_MESSAGES = {
    40006: "invalid file size",
    40058: "invalid parameter",
    47001: "data format error",
}


class _WeCom(Dialect):
    def success(self, status: int, body: Any) -> tuple[int, Any]:
        if not isinstance(body, dict):
            return status, body
        return 200, {"errcode": 0, "errmsg": body.pop("errmsg", "ok"), **body}

    def error(self, exc: Exception) -> tuple[int, Any]:
        if isinstance(exc, WeComDialectError):
            code, message = exc.errcode, exc.errmsg
        elif isinstance(exc, InputError):
            base = _WECOM_MESSAGES.get(exc.wecom, "invalid parameter")
            code, message = exc.wecom, f"{base}, hint: [{exc.msg}]"
        else:
            code, message = WECOM_SYSTEM_BUSY, "system busy"
        return 200, {"errcode": code, "errmsg": sanitise_message(message)}

    def unknown_route(self, method: str, path: str, known_path: bool) -> Exception:
        failure = WeComDialectError(
            f"api unauthorized or not found, hint: [{method} /cgi-bin/{path}]"
        )
        failure.errcode = WECOM_API_NOT_FOUND
        return failure


MATRIX: Dialect = _Matrix("matrix", answers_options=True)
WECOM: Dialect = _WeCom("wecom", answers_options=False)

JSON_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"Cache-Control", b"no-cache, no-store, must-revalidate"),
    (b"Access-Control-Allow-Origin", b"*"),
    (b"Access-Control-Allow-Methods", b"GET, POST, PUT, DELETE, OPTIONS"),
    (b"Access-Control-Allow-Headers", b"Authorization, Content-Type"),
)


# The router.


@dataclass
class _Route:
    method: str
    pattern: str
    regex: re.Pattern[str]
    handler: Handler = field(repr=False)


class Router(Resource):
    isLeaf = True
    prefix = ""
    dialect: ClassVar[Dialect] = MATRIX
    # Headers of every answer (JSON, files, pages); subclasses may replace them.
    headers: ClassVar[tuple[tuple[bytes, bytes], ...]] = JSON_HEADERS

    def __init__(self, api: ModuleApi) -> None:
        super().__init__()
        self.api = api
        self._routes: list[_Route] = []

    def route(self, method: str, pattern: str, handler: Handler) -> None:
        regex = "^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern) + "$"
        self._routes.append(_Route(method, pattern, re.compile(regex), handler))

    def routes(self) -> list[tuple[str, str]]:
        """(method, full path pattern) of every route, for the inventory."""
        base = self.prefix.rstrip("/")
        return [
            (r.method, f"{base}/{r.pattern}" if r.pattern else base)
            for r in self._routes
        ]

    def translate_error(self, exc: Exception) -> Exception | None:
        """Map a module's own exception into the dialect; None lets it through."""
        return None

    def error_answer(self, request: Any, exc: Exception) -> tuple[int, Any]:
        if not isinstance(exc, (SynapseError, WeComDialectError)):
            translated = self.translate_error(exc)
            if translated is not None:
                exc = translated
            elif not isinstance(exc, InputError):
                logger.exception("unhandled error in %s", type(self).__name__)
        return self.dialect.error(exc)

    # Twisted entry point.

    def render(self, request: Any) -> Any:
        fire_in_request_context(self._process, request)
        return NOT_DONE_YET

    async def _process(self, request: Any) -> None:
        await self.respond(request, self._dispatch, request)

    async def respond(
        self,
        request: Any,
        produce: Callable[..., Awaitable[tuple[int, Any]]],
        *args: Any,
    ) -> None:
        """Answer `request` with what `produce(*args)` returns (or raises), in this
        router's dialect and headers: also for requests routed here by other code.
        Counted in modules/common/metrics.py under the route that matched."""
        started = time.perf_counter()
        status, answer = 500, None
        try:
            try:
                status, answer = await produce(*args)
                status, answer = self.dialect.success(status, answer)
            except Exception as e:
                status, answer = self.error_answer(request, e)
            if answer is not STREAMED:
                write_answer(request, status, answer, self.headers)
        except Exception:
            logger.exception("could not answer in %s", type(self).__name__)
            write_failure(request)
        route = getattr(request, ROUTE_ATTRIBUTE, None) or (
            self.prefix.rstrip("/") + "/*"
        )
        method = bytes(request.method).decode("ascii", "replace")
        observe_request(route, method, status, answer, time.perf_counter() - started)

    async def _dispatch(self, request: Any) -> tuple[int, Any]:
        method = bytes(request.method).decode("ascii", "replace")
        if method == "OPTIONS" and self.dialect.answers_options:
            return 200, {}
        wanted = "GET" if method == "HEAD" else method
        path = "/".join(path_parts(request, self.prefix))
        known_path = False
        for route in self._routes:
            match = route.regex.match(path)
            if match is None:
                continue
            known_path = True
            if route.method == wanted:
                base = self.prefix.rstrip("/")
                label = f"{base}/{route.pattern}" if route.pattern else base
                setattr(request, ROUTE_ATTRIBUTE, label)
                return await route.handler(request, **match.groupdict())
        raise self.dialect.unknown_route(method, path, known_path)

    # Helpers for subclasses.

    async def requester_id(self, request: Any) -> str:
        """The user id behind the access token; M_MISSING_TOKEN / M_UNKNOWN_TOKEN otherwise."""
        requester = await self.api.get_user_by_req(request)
        return str(requester.user.to_string())

    @staticmethod
    def integer_arg(request: Any, name: str, default: int, low: int, high: int) -> int:
        """?name= as an integer in [low, high]; 400 M_INVALID_PARAM otherwise."""
        return parse_int(query_param(request, name), name, low, high, default)

    def apply_headers(self, request: Any) -> None:
        for name, value in self.headers:
            request.setHeader(name, value)


class JsonResource(Router):
    """A Router with one path: its on_GET / on_POST / on_PUT / on_DELETE methods."""

    def __init__(self, api: ModuleApi) -> None:
        super().__init__(api)
        for method in ("GET", "POST", "PUT", "DELETE"):
            handler = getattr(self, "on_" + method, None)
            if handler is not None:
                self.route(method, "", handler)


class StandaloneResource(Resource):
    """The layer for a process of ours outside Synapse (a bridge's own listener): every
    request to any path goes to `handle(request) -> (status, JSON answer)`; an exception
    is logged and answered with a plain 500, never a hang."""

    isLeaf = True

    def __init__(self, handle: Callable[[Any], Awaitable[tuple[int, Any]]]) -> None:
        super().__init__()
        self._handle = handle

    def render(self, request: Any) -> Any:
        async def answer() -> None:
            try:
                status, body = await self._handle(request)
            except Exception:
                logger.exception("request failed")
                write_failure(request)
                return
            write_answer(request, status, body)

        ensureDeferred(answer())
        return NOT_DONE_YET


# The writer: the only code that puts an answer on the wire.


def _json_bytes(body: Any) -> bytes:
    # A lone surrogate (stored earlier, or echoed) becomes "?" instead of raising.
    return json.dumps(body, ensure_ascii=False).encode("utf-8", "replace")


def _disposition(answer: RawBody) -> bytes:
    kind = "inline" if answer.inline else "attachment"
    if not answer.filename:
        return kind.encode("ascii")
    quoted = quote(answer.filename, safe="")
    return f"{kind}; filename=\"{quoted}\"; filename*=UTF-8''{quoted}".encode("ascii")


def write_answer(
    request: Any,
    status: int,
    answer: Any,
    headers: tuple[tuple[bytes, bytes], ...] = JSON_HEADERS,
) -> None:
    """Send one answer and finish the request (nothing if the client has gone)."""
    if client_disconnected(request):
        return
    extra: tuple[tuple[bytes, bytes], ...] = ()
    if isinstance(answer, RawBody):
        payload = answer.data
        content_type = answer.content_type.encode("latin-1", "replace")
        extra = ((b"Content-Disposition", _disposition(answer)), *answer.headers)
    elif isinstance(answer, HtmlPage):
        payload = answer.html.encode("utf-8", "replace")
        content_type = b"text/html; charset=utf-8"
        extra = answer.headers
    elif isinstance(answer, Redirect):
        payload = answer.html.encode("utf-8", "replace")
        content_type = b"text/html; charset=utf-8"
        extra = ((b"Location", answer.location.encode("utf-8", "replace")),)
    else:
        payload = _json_bytes(answer)
        content_type = b"application/json; charset=utf-8"
    request.setResponseCode(status)
    for name, value in headers:
        request.setHeader(name, value)
    request.setHeader(b"Content-Type", content_type)
    for name, value in extra:
        request.setHeader(name, value)
    request.setHeader(b"Content-Length", str(len(payload)).encode("ascii"))
    request.write(payload)
    request.finish()


def write_failure(request: Any) -> None:
    """Last resort when an answer could not be written: a plain 500, never a hang."""
    if client_disconnected(request) or getattr(request, "finished", False):
        return
    try:
        payload = b'{"errcode":"M_UNKNOWN","error":"internal error"}'
        request.setResponseCode(500)
        request.setHeader(b"Content-Type", b"application/json")
        request.setHeader(b"Content-Length", str(len(payload)).encode("ascii"))
        request.write(payload)
        request.finish()
    except Exception:
        logger.exception("could not send the fallback answer")
        with contextlib.suppress(Exception):
            request.loseConnection()


# Registration and the route inventory.

_registered: list[Router] = []


class RoutesResource(Router):
    """GET /_jwwx/admin/v1/http/routes: every route our modules registered in this
    process, {"routes": [{"method", "path", "dialect"}]} (scope http.routes.read)."""

    prefix = ROUTES_PATH

    def __init__(self, api: ModuleApi) -> None:
        super().__init__(api)
        self.route("GET", "", self.list_routes)

    async def list_routes(self, request: Any) -> tuple[int, Any]:
        from modules.common.admin import require_admin

        await require_admin(self.api, request, "http.routes.read")
        routes = [
            {"method": method, "path": path, "dialect": router.dialect.name}
            for router in _registered
            for method, path in router.routes()
        ]
        return 200, {"routes": routes}


def register_resource(api: ModuleApi, path: str, resource: Router) -> None:
    """Mount a router at `path` (its prefix) and add it to the route inventory."""
    if not isinstance(resource, Router):
        raise TypeError(f"{type(resource).__name__} is not a modules.common Router")
    if resource.prefix and resource.prefix != path:
        raise ValueError(f"{type(resource).__name__} has prefix {resource.prefix}")
    resource.prefix = path
    if not _registered:
        routes = RoutesResource(api)
        _registered.append(routes)
        api.register_web_resource(ROUTES_PATH, routes)
    _registered.append(resource)
    api.register_web_resource(path, resource)


def register_websocket(api: ModuleApi, path: str, factory: Any) -> None:
    """Mount an autobahn WebSocketServerFactory at `path` on Synapse's own HTTP
    listener: autobahn's WebSocketResource takes the connection over from the request
    (no second port; nginx must pass the Upgrade header for this path). The
    handshake's answers (401/403/404) are the factory's; nothing is in the route
    inventory (its requests are not JSON). Pinned by tests/modules/docs (editing
    through Synapse's listener)."""
    from autobahn.twisted.resource import WebSocketResource

    resource: Any = WebSocketResource(factory)  # a twisted.web resource, untyped
    api.register_web_resource(path, resource)
