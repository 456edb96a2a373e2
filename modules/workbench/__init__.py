# SPDX-License-Identifier: AGPL-3.0-or-later
"""modules.workbench: the officers' workbench (工作台): app entries with icon, name,
category and jump address, each visible to a range of the directory, searchable; jumps
into an open-API app carry an OAuth2 code of that app, and jumps into another network
zone come with the data-security prompt the client must have confirmed.

    modules:
      - module: modules.workbench.WorkbenchModule
        config: {}

HTTP: modules/workbench/resources.py. Config keys: modules/workbench/config.py.
docs/workbench.md.
"""

from typing import Any

from synapse.module_api import ModuleApi

from modules.common import registry
from modules.common.http import register_resource
from modules.common.runtime import ModuleRuntime
from modules.workbench import public
from modules.workbench.config import WorkbenchConfig
from modules.workbench.resources import (
    ADMIN_PREFIX,
    CLIENT_PREFIX,
    WorkbenchAdminResource,
    WorkbenchClientResource,
)
from modules.workbench.service import Workbench


class WorkbenchModule:
    def __init__(self, config: WorkbenchConfig, api: ModuleApi) -> None:
        self.runtime = ModuleRuntime(api, "workbench", __name__)
        self.workbench = Workbench(api, config)
        registry.publish(api, public.SERVICE, self)
        register_resource(
            api,
            CLIENT_PREFIX,
            WorkbenchClientResource(api, self.runtime, self.workbench),
        )
        register_resource(
            api, ADMIN_PREFIX, WorkbenchAdminResource(api, self.runtime, self.workbench)
        )

    @staticmethod
    def parse_config(config: Any) -> WorkbenchConfig:
        return WorkbenchConfig.parse(config)
