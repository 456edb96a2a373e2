"""Routing and argument helpers shared by the directory's two resources."""

import re
from collections.abc import Awaitable, Callable
from typing import Any

from modules.common.errors import error
from modules.common.resource import JsonResource, path_parts, query_param
from modules.common.synapse_compat import Codes, SynapseError
from modules.directory.config import DirectoryConfig
from modules.directory.errors import IMPORT_REJECTED, DirectoryError
from modules.directory.records import ImportRejectedError

Handler = Callable[..., Awaitable[tuple[int, Any]]]


class Router(JsonResource):
    """Dispatches (method, path pattern) to handlers; `{x}` captures one segment."""

    prefix = ""

    def __init__(self, api: Any, config: DirectoryConfig) -> None:
        super().__init__(api)
        self.config = config
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []

    def route(self, method: str, pattern: str, handler: Handler) -> None:
        regex = "^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern) + "$"
        self._routes.append((method, re.compile(regex), handler))

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
                except DirectoryError as e:
                    raise e.to_synapse() from e
                except ImportRejectedError as e:
                    raise error(
                        IMPORT_REJECTED.status,
                        IMPORT_REJECTED.errcode,
                        f"导入文件有 {len(e.errors)} 处错误，未做任何修改",
                        errors=[problem.as_json() for problem in e.errors],
                    ) from e
        if allowed:
            raise error(405, Codes.UNRECOGNIZED, f"{method} is not allowed here")
        raise error(404, Codes.UNRECOGNIZED, "Unrecognized request")

    on_GET = on_POST = on_PUT = on_DELETE = _dispatch

    # Arguments.

    def page(self, request: Any) -> tuple[int, int]:
        """(limit, offset) from ?limit= and ?from= (an opaque token: an offset)."""
        limit = self.integer_arg(
            request,
            "limit",
            self.config.default_page_size,
            1,
            self.config.max_page_size,
        )
        offset = self.integer_arg(request, "from", 0, 0, 10**9)
        return limit, offset

    @staticmethod
    def integer_arg(request: Any, name: str, default: int, low: int, high: int) -> int:
        text = query_param(request, name)
        if text is None or text == "":
            return default
        if not re.fullmatch(r"[0-9]+", text) or not low <= int(text) <= high:
            raise error(
                400, Codes.INVALID_PARAM, f"参数 {name} 应为 {low} 到 {high} 之间的整数"
            )
        return int(text)

    @staticmethod
    def department_id(text: str) -> int:
        if not re.fullmatch(r"[0-9]{1,12}", text):
            raise error(400, Codes.INVALID_PARAM, f"部门ID“{text}”不合法")
        return int(text)


__all__ = ["Router", "SynapseError"]
