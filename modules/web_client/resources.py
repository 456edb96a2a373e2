# SPDX-License-Identifier: AGPL-3.0-or-later
"""The web client's files under /_jwwx/web/ (the only routes this package adds).

GET  /_jwwx/web/                 the page (dist/index.html)
GET  /_jwwx/web/assets/{name}    a script, style sheet, font or image of the page

Every answer carries the page's security headers: a Content-Security-Policy that
allows scripts, styles and requests from this origin only (no inline script, no eval),
images and media also as blob: URLs (authenticated media is fetched with the token and
shown from a blob), and no framing. The asset names carry their content hash (Vite), so
they may be cached for good; the page itself is revalidated with its ETag.
"""

from typing import Any, ClassVar

from synapse.module_api import ModuleApi

from modules.common.static import (
    Header,
    PageRouter,
    answer_asset,
    load_assets,
    load_file,
    security_headers,
)
from modules.web_client.config import WebClientConfig

WEB_PREFIX = "/_jwwx/web"
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self'; "
    "font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
REVALIDATE = (b"Cache-Control", b"no-cache")
FOREVER = (b"Cache-Control", b"public, max-age=31536000, immutable")


class WebClientResource(PageRouter):
    prefix = WEB_PREFIX
    headers: ClassVar[tuple[Header, ...]] = security_headers(CSP)
    # Vite puts each asset's content hash in its name: cached for good.
    asset_headers: ClassVar[tuple[Header, ...]] = (FOREVER,)

    def __init__(self, api: ModuleApi, config: WebClientConfig) -> None:
        super().__init__(api, load_assets(config.dist_path / "assets"))
        index = load_file(config.dist_path / "index.html")
        assert index is not None  # parse_config checked it
        self._index = index

    async def index(self, request: Any) -> tuple[int, Any]:
        return answer_asset(request, self._index, REVALIDATE)
