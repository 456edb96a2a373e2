# SPDX-License-Identifier: AGPL-3.0-or-later
"""Routing and argument helpers shared by the directory's two resources."""

from typing import Any

from synapse.module_api import ModuleApi

from modules.common.errors import error
from modules.common.inputs import parse_int
from modules.common.router import Router as CommonRouter
from modules.common.synapse.errors import SynapseError
from modules.directory.config import DirectoryConfig
from modules.directory.errors import IMPORT_REJECTED, DirectoryError
from modules.directory.records import ImportRejectedError


class DirectoryRouting:
    """What the directory's routers share: directory errors become Matrix errors with
    the WeCom number; a rejected import lists every problem; paging arguments. Mixed
    into a router that sets `config`."""

    config: DirectoryConfig

    def translate_error(self, exc: Exception) -> SynapseError | None:
        if isinstance(exc, DirectoryError):
            return exc.to_synapse()
        if isinstance(exc, ImportRejectedError):
            return error(
                IMPORT_REJECTED.status,
                IMPORT_REJECTED.errcode,
                f"导入文件有 {len(exc.errors)} 处错误，未做任何修改",
                errors=[problem.as_json() for problem in exc.errors],
            )
        return None

    # Arguments.

    def page(self, request: Any) -> tuple[int, int]:
        """(limit, offset) from ?limit= and ?from= (an opaque token: an offset)."""
        limit = CommonRouter.integer_arg(
            request,
            "limit",
            self.config.default_page_size,
            1,
            self.config.max_page_size,
        )
        offset = CommonRouter.integer_arg(request, "from", 0, 0, 10**9)
        return limit, offset

    @staticmethod
    def department_id(text: str) -> int:
        return parse_int(text, "部门ID", 0, 10**12 - 1)

    @staticmethod
    def tag_id(text: str) -> int:
        return parse_int(text, "标签ID", 1, 10**12 - 1)


class Router(DirectoryRouting, CommonRouter):
    """The directory's officer-facing routes."""

    def __init__(self, api: ModuleApi, config: DirectoryConfig) -> None:
        super().__init__(api)
        self.config = config
