# SPDX-License-Identifier: AGPL-3.0-or-later
"""modules.web_client: serves the officer's web client (警务微信 PC端) at /_jwwx/web/.

The client itself lives in clients/web/ (matrix-js-sdk, Preact, built by Vite); this
package only serves its built bundle, clients/web/dist/, with the page's security
headers. The client talks to the homeserver like any Matrix client (/login, /sync,
/send) plus our client APIs (/_jwwx/client/v1/directory, …), with the officer's token,
so this package adds no endpoint besides the files and imports no capability module —
except one forward: the mail bridge's officer API (/_jwwx/mail/, the 邮件 page) on
this origin, to the bridge's registered URL (forward.py).

    modules:
      - module: modules.web_client.WebClientModule
        config: {}

Config keys: modules/web_client/config.py. docs/web_client.md.
"""

from typing import Any

from synapse.module_api import ModuleApi

from modules.common.http import register_resource
from modules.common.static import serve_page
from modules.web_client.config import WebClientConfig
from modules.web_client.forward import MAIL_PREFIX, MailForwardResource
from modules.web_client.resources import WebClientResource


class WebClientModule:
    def __init__(self, config: WebClientConfig, api: ModuleApi) -> None:
        serve_page(api, "web_client", WebClientResource(api, config))
        register_resource(
            api, MAIL_PREFIX, MailForwardResource(api, config.mail_registration_id)
        )

    @staticmethod
    def parse_config(config: Any) -> WebClientConfig:
        return WebClientConfig.parse(config)
