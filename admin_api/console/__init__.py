# SPDX-License-Identifier: AGPL-3.0-or-later
"""The web admin console (管理后台) at /_jwwx/console/ (docs/console.md).

A static single-page application in plain JavaScript modules, served by the homeserver
itself. It is a client of the admin API and nothing more: every page calls the same
endpoints an integrator would (/_matrix/client/v3/login, /_jwwx/admin/v1/…), with the
admin's access token (held in an HttpOnly cookie, usable only with its CSRF token), so
it can do exactly what the admin API allows that admin and adds no endpoint of its own
besides its files and the cookie's hand-over. For that reason this package imports no
other part of admin_api and no capability module (import-linter contract
`console-is-a-client` in .importlinter).

Loaded as its own Synapse module so that a deployment may leave it out:

    modules:
      - module: admin_api.console.ConsoleModule
        config:
          idle_logout_minutes: 15

Config keys: admin_api/console/config.py.
"""

from typing import Any

from synapse.module_api import ModuleApi

from admin_api.console.config import ConsoleConfig
from admin_api.console.resources import CONSOLE_SESSION, ConsoleResource
from modules.common.static import serve_page
from modules.common.synapse.patches import accept_session_cookie


class ConsoleModule:
    def __init__(self, config: ConsoleConfig, api: ModuleApi) -> None:
        self._config = config
        # Every process (workers too) reads the session cookie with its CSRF token.
        accept_session_cookie(CONSOLE_SESSION)
        serve_page(api, "console", ConsoleResource(api, config))

    @staticmethod
    def parse_config(config: Any) -> ConsoleConfig:
        return ConsoleConfig.parse(config)
