# SPDX-License-Identifier: AGPL-3.0-or-later
"""A JSON HTTP resource base for module endpoints, with Matrix-style errors.

Subclasses define `async def on_GET(self, request) -> (status, json)` (and POST, PUT,
DELETE). A SynapseError becomes {"errcode", "error", ...extra}; anything else is logged
and answered with a 500 M_UNKNOWN, never with a traceback.
"""

import json
import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET

from modules.common.errors import bad_json, error
from modules.common.synapse_compat import Codes, SynapseError, fire_in_request_context

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class RawBody:
    """A non-JSON answer (a file download)."""

    content_type: str
    data: bytes
    filename: str | None = None


class JsonResource(Resource):
    isLeaf = True

    def __init__(self, api: Any) -> None:
        super().__init__()
        self.api = api

    def render(self, request: Any) -> Any:
        fire_in_request_context(self._process, request)
        return NOT_DONE_YET

    async def _process(self, request: Any) -> None:
        method = request.method.decode("ascii")
        if method == "OPTIONS":
            _send(request, 200, {})
            return
        handler = getattr(self, "on_" + ("GET" if method == "HEAD" else method), None)
        try:
            if handler is None:
                raise error(405, Codes.UNRECOGNIZED, f"{method} is not allowed here")
            status, body = await handler(request)
        except SynapseError as e:
            status, body = e.code, e.error_dict(None)
        except Exception:
            logger.exception("unhandled error in %s", type(self).__name__)
            status, body = 500, {"errcode": Codes.UNKNOWN, "error": "服务器内部错误"}
        _send(request, status, body)

    # Helpers for subclasses.

    async def requester_id(self, request: Any) -> str:
        """The user id behind the access token; M_MISSING_TOKEN / M_UNKNOWN_TOKEN otherwise."""
        requester = await self.api.get_user_by_req(request)
        return str(requester.user.to_string())


def path_parts(request: Any, prefix: str) -> list[str]:
    """The URL-decoded path segments after `prefix`."""
    path = request.path.decode("ascii")
    rest = path[len(prefix) :] if path.startswith(prefix) else ""
    return [unquote(p) for p in rest.split("/") if p]


def query_param(request: Any, name: str) -> str | None:
    values = request.args.get(name.encode("ascii"))
    return values[0].decode("utf-8", "replace") if values else None


def read_body(request: Any, limit: int = MAX_BODY_BYTES) -> bytes:
    raw = bytes(request.content.read(limit + 1))
    if len(raw) > limit:
        raise error(413, Codes.TOO_LARGE, "请求体过大")
    return raw


def read_json_object(request: Any) -> dict[str, Any]:
    """The request body as a JSON object, or M_BAD_JSON / M_NOT_JSON."""
    raw = read_body(request)
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise error(400, Codes.NOT_JSON, "请求体不是合法的 JSON") from e
    if not isinstance(body, dict):
        raise bad_json("请求体必须是 JSON 对象")
    return body


def _send(request: Any, status: int, body: Any) -> None:
    if getattr(request, "_disconnected", False):
        return
    request.setResponseCode(status)
    if isinstance(body, RawBody):
        payload = body.data
        request.setHeader(b"Content-Type", body.content_type.encode("ascii"))
        if body.filename:
            disposition = f'attachment; filename="{body.filename}"'
            request.setHeader(b"Content-Disposition", disposition.encode("ascii"))
    else:
        payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
        request.setHeader(b"Content-Type", b"application/json; charset=utf-8")
    request.setHeader(b"Cache-Control", b"no-cache, no-store, must-revalidate")
    request.setHeader(b"Access-Control-Allow-Origin", b"*")
    request.setHeader(
        b"Access-Control-Allow-Methods", b"GET, POST, PUT, DELETE, OPTIONS"
    )
    request.setHeader(b"Access-Control-Allow-Headers", b"Authorization, Content-Type")
    request.setHeader(b"Content-Length", str(len(payload)).encode("ascii"))
    request.write(payload)
    request.finish()
