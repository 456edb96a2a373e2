# SPDX-License-Identifier: AGPL-3.0-or-later
"""What other modules may use of modules.workbench (its declared surface): the entries
an officer's workbench shows, searched as its own search box searches them
(modules.search's unified search, kind `apps`)."""

from typing import Any, Protocol

from modules.common import registry
from modules.common.runtime import ModuleRuntime


class WorkbenchView(Protocol):
    async def officer_view(
        self, user_id: str, query: str | None, category: str | None
    ) -> dict[str, Any]:
        """What GET /_jwwx/client/v1/workbench?q=&category= answers this officer:
        {"categories": [{"name", "entries": [...]}], "count"} — only enabled entries in
        the officer's range; `query` (≤ 64 characters, else InputError) by name,
        category, description, and the name's pinyin and initials."""
        ...


class WorkbenchService(Protocol):
    """modules.workbench's service in the registry."""

    @property
    def runtime(self) -> ModuleRuntime: ...

    @property
    def workbench(self) -> WorkbenchView: ...


SERVICE: registry.Service[WorkbenchService] = registry.Service("workbench")
