# SPDX-License-Identifier: AGPL-3.0-or-later
"""The console's files under /_jwwx/console/ (the only routes this package adds).

GET  /_jwwx/console/                 the page (index.html with the config as data-*)
GET  /_jwwx/console/assets/{name}    a script, style sheet or image of the page

Everything else the page does goes to the admin API. Every answer carries the page's
security headers: a Content-Security-Policy that allows scripts, styles and requests
from this origin only (no inline script, no eval), images also as data:/blob: URLs
(the TOTP QR code, previews), and no framing (clickjacking).
"""

from pathlib import Path
from typing import Any, ClassVar

import jinja2
from synapse.module_api import ModuleApi

from admin_api.console.config import ConsoleConfig
from modules.common.http import HtmlPage
from modules.common.static import (
    Asset,
    Header,
    PageRouter,
    load_assets,
    security_headers,
)

CONSOLE_PREFIX = "/_jwwx/console"
HERE = Path(__file__).resolve().parent
ASSETS = HERE / "assets"
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


def render_index(config: ConsoleConfig, assets: dict[str, Asset]) -> str:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(HERE)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    return environment.get_template("index.html").render(
        title=config.title,
        idle_logout_minutes=config.idle_logout_minutes,
        page_size=config.page_size,
        # The entry files carry their content hash, so a new release is never mixed
        # with a cached old one.
        version={name: asset.etag.strip('"')[:10] for name, asset in assets.items()},
    )


class ConsoleResource(PageRouter):
    prefix = CONSOLE_PREFIX
    headers: ClassVar[tuple[Header, ...]] = security_headers(
        CSP, (b"Cache-Control", b"no-cache")
    )

    def __init__(self, api: ModuleApi, config: ConsoleConfig) -> None:
        super().__init__(api, load_assets(ASSETS))
        self._index = render_index(config, self._assets)

    async def index(self, request: Any) -> tuple[int, Any]:
        return 200, HtmlPage(self._index)
