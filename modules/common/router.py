# SPDX-License-Identifier: AGPL-3.0-or-later
"""A JSON resource that routes (method, path pattern) to handler methods.

    class ThingsResource(Router):
        prefix = "/_jwwx/client/v1/things"
        def __init__(self, api):
            super().__init__(api)
            self.route("GET", "items/{item_id}", self.get_item)
        async def get_item(self, request, item_id: str) -> tuple[int, Any]: ...

`{name}` captures one URL-decoded path segment. Unknown paths answer 404 M_UNRECOGNIZED,
known paths with another method 405. Subclasses turn their own domain exceptions into
SynapseErrors by overriding `translate_error`.
"""

import re
from collections.abc import Awaitable, Callable
from typing import Any

from modules.common.errors import error
from modules.common.resource import JsonResource, path_parts, query_param
from modules.common.synapse_compat import Codes, SynapseError

Handler = Callable[..., Awaitable[tuple[int, Any]]]


class Router(JsonResource):
    prefix = ""

    def __init__(self, api: Any) -> None:
        super().__init__(api)
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []

    def route(self, method: str, pattern: str, handler: Handler) -> None:
        regex = "^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern) + "$"
        self._routes.append((method, re.compile(regex), handler))

    def translate_error(self, exc: Exception) -> SynapseError | None:
        """Map a domain exception to a Matrix error; None lets it through (500)."""
        return None

    async def _dispatch(self, request: Any) -> tuple[int, Any]:
        method = request.method.decode("ascii")
        method = "GET" if method == "HEAD" else method
        path = "/".join(path_parts(request, self.prefix))
        allowed = False
        for route_method, regex, handler in self._routes:
            match = regex.match(path)
            if match is None:
                continue
            allowed = True
            if route_method == method:
                try:
                    return await handler(request, **match.groupdict())
                except SynapseError:
                    raise
                except Exception as e:
                    translated = self.translate_error(e)
                    if translated is None:
                        raise
                    raise translated from e
        if allowed:
            raise error(405, Codes.UNRECOGNIZED, f"{method} is not allowed here")
        raise error(404, Codes.UNRECOGNIZED, "Unrecognized request")

    on_GET = on_POST = on_PUT = on_DELETE = _dispatch

    @staticmethod
    def integer_arg(request: Any, name: str, default: int, low: int, high: int) -> int:
        """?name= as an integer in [low, high]; 400 M_INVALID_PARAM otherwise."""
        text = query_param(request, name)
        if text is None or text == "":
            return default
        if not re.fullmatch(r"[0-9]+", text) or not low <= int(text) <= high:
            raise error(
                400, Codes.INVALID_PARAM, f"参数 {name} 应为 {low} 到 {high} 之间的整数"
            )
        return int(text)
