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

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from synapse.module_api import ModuleApi

from modules.common.http import RawBody, Router
from modules.common.synapse.errors import Codes, SynapseError
from modules.web_client.config import WebClientConfig

WEB_PREFIX = "/_jwwx/web"
CONTENT_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".woff2": "font/woff2",
}

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self'; "
    "font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"Content-Security-Policy", CSP.encode("ascii")),
    (b"X-Frame-Options", b"DENY"),
    (b"X-Content-Type-Options", b"nosniff"),
    (b"Referrer-Policy", b"no-referrer"),
    (b"Cross-Origin-Opener-Policy", b"same-origin"),
)
REVALIDATE = (b"Cache-Control", b"no-cache")
FOREVER = (b"Cache-Control", b"public, max-age=31536000, immutable")


@dataclass(frozen=True)
class Asset:
    content_type: str
    data: bytes
    etag: str


def load_file(path: Path) -> Asset | None:
    content_type = CONTENT_TYPES.get(path.suffix)
    if content_type is None or not path.is_file():
        return None
    data = path.read_bytes()
    return Asset(content_type, data, '"' + hashlib.sha256(data).hexdigest()[:20] + '"')


def load_assets(folder: Path) -> dict[str, Asset]:
    """Every file of dist/assets/ by name, read once at start-up (a few MB at most)."""
    if not folder.is_dir():
        return {}
    found = {}
    for path in sorted(folder.iterdir()):
        asset = load_file(path)
        if asset is not None:
            found[path.name] = asset
    return found


class WebClientResource(Router):
    prefix = WEB_PREFIX
    headers: ClassVar[tuple[tuple[bytes, bytes], ...]] = SECURITY_HEADERS

    def __init__(self, api: ModuleApi, config: WebClientConfig) -> None:
        super().__init__(api)
        index = load_file(config.dist_path / "index.html")
        assert index is not None  # parse_config checked it
        self._index = index
        self._assets = load_assets(config.dist_path / "assets")
        self.route("GET", "", self.index)
        self.route("GET", "assets/{name}", self.asset)

    @property
    def asset_count(self) -> int:
        return len(self._assets) + 1

    async def index(self, request: Any) -> tuple[int, Any]:
        return self._answer(request, self._index, REVALIDATE)

    async def asset(self, request: Any, name: str) -> tuple[int, Any]:
        found = self._assets.get(name)
        if found is None:
            raise SynapseError(404, "没有这个文件", Codes.NOT_FOUND)
        return self._answer(request, found, FOREVER)

    @staticmethod
    def _answer(
        request: Any, asset: Asset, cache: tuple[bytes, bytes]
    ) -> tuple[int, Any]:
        headers = ((b"ETag", asset.etag.encode("ascii")), cache)
        wanted = request.getHeader(b"If-None-Match")
        if wanted is not None and wanted.decode("latin-1") == asset.etag:
            return 304, RawBody(asset.content_type, b"", inline=True, headers=headers)
        return 200, RawBody(
            asset.content_type, asset.data, inline=True, headers=headers
        )
