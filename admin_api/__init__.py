# SPDX-License-Identifier: AGPL-3.0-or-later
"""admin_api: the admin HTTP API under /_jwwx/admin/v1/ (and, later, the console).

For now it carries the bootstrap-token endpoint used by `python -m homeserver
create-admin`; roles, scopes, settings and statistics arrive with the admin issue.
Config keys: admin_api/config.py.
"""

from typing import Any

from admin_api.bootstrap import BOOTSTRAP_PATH, BootstrapTokenResource
from admin_api.config import AdminApiConfig
from modules.common.runtime import ModuleRuntime


class AdminApiModule:
    def __init__(self, config: AdminApiConfig, api: Any) -> None:
        self._config = config
        self._api = api
        self.runtime = ModuleRuntime(api, "admin_api", None)
        api.register_web_resource(BOOTSTRAP_PATH, BootstrapTokenResource(api, config))

    @staticmethod
    def parse_config(config: Any) -> AdminApiConfig:
        return AdminApiConfig.parse(config)
