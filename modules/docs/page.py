# SPDX-License-Identifier: AGPL-3.0-or-later
"""The document editor's page (clients/docs, built by Vite into clients/docs/dist):

GET  /_jwwx/docs/app/                 the page (dist/index.html)
GET  /_jwwx/docs/app/assets/{name}    its script and style sheet

The page talks to the document API and the document WebSocket with the officer's
own access token. Its Content-Security-Policy allows scripts and styles from this
origin only (no inline ones, no eval), images also from blob: URLs (a deck's pictures,
fetched from the media API with the token) and connections to this origin plus the
WebSocket's public origin when that is another one (a port of the module's own)."""

from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

from synapse.module_api import ModuleApi

from modules.common.static import (
    Header,
    PageRouter,
    answer_asset,
    load_assets,
    load_file,
    security_headers,
)
from modules.common.synapse.errors import Codes, SynapseError

PAGE_PREFIX = "/_jwwx/docs/app"
# modules/docs/ → the repository → clients/docs/dist (an editable install).
DEFAULT_DIST = Path(__file__).resolve().parents[2] / "clients" / "docs" / "dist"
REVALIDATE = (b"Cache-Control", b"no-cache")
FOREVER = (b"Cache-Control", b"public, max-age=31536000, immutable")


def page_csp(websocket_url: str | None) -> str:
    connect = "'self'"
    if websocket_url:
        parts = urlsplit(websocket_url)
        connect += f" {parts.scheme}://{parts.netloc}"
    return (
        "default-src 'none'; script-src 'self'; style-src 'self'; "
        "img-src 'self' data: blob:; "  # a deck's images: fetched with the token
        f"connect-src {connect}; font-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    )


class DocsPageResource(PageRouter):
    prefix = PAGE_PREFIX
    # Vite puts each asset's content hash in its name: cached for good.
    asset_headers: ClassVar[tuple[Header, ...]] = (FOREVER,)

    def __init__(self, api: ModuleApi, dist: Path) -> None:
        super().__init__(api, load_assets(dist / "assets"))
        self._index = load_file(dist / "index.html")

    async def index(self, request: Any) -> tuple[int, Any]:
        if self._index is None:
            raise SynapseError(404, "文档编辑器未构建（make web）", Codes.NOT_FOUND)
        return answer_asset(request, self._index, REVALIDATE)


def page_resource(
    api: ModuleApi, dist: Path, websocket_url: str | None
) -> DocsPageResource:
    """The page with its CSP (which names the WebSocket's origin)."""
    page_class = type(
        "DocsPage",
        (DocsPageResource,),
        {"headers": security_headers(page_csp(websocket_url))},
    )
    return page_class(api, dist)
