# SPDX-License-Identifier: AGPL-3.0-or-later
"""The console's files under /_jwwx/console/ (the only routes this package adds).

GET  /_jwwx/console/                 the page (index.html with the config as data-*)
GET  /_jwwx/console/assets/{name}    a script, style sheet or image of the page

Everything else the page does goes to the admin API. Every answer carries the page's
security headers: a Content-Security-Policy that allows scripts, styles and requests
from this origin only (no inline script, no eval), images also as data:/blob: URLs
(the TOTP QR code, previews), and no framing (clickjacking).
"""

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import jinja2
from synapse.module_api import ModuleApi

from admin_api.console.config import ConsoleConfig
from modules.common.http import HtmlPage, RawBody, Router
from modules.common.synapse.errors import Codes, SynapseError

CONSOLE_PREFIX = "/_jwwx/console"
HERE = Path(__file__).resolve().parent
ASSETS = HERE / "assets"
CONTENT_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"Content-Security-Policy", CSP.encode("ascii")),
    (b"X-Frame-Options", b"DENY"),
    (b"X-Content-Type-Options", b"nosniff"),
    (b"Referrer-Policy", b"no-referrer"),
    (b"Cross-Origin-Opener-Policy", b"same-origin"),
    (b"Cache-Control", b"no-cache"),
)


@dataclass(frozen=True)
class Asset:
    content_type: str
    data: bytes
    etag: str


def load_assets(folder: Path = ASSETS) -> dict[str, Asset]:
    """Every file of assets/ by name, read once at start-up (they are small)."""
    found = {}
    for path in sorted(folder.iterdir()):
        content_type = CONTENT_TYPES.get(path.suffix)
        if content_type is None or not path.is_file():
            continue
        data = path.read_bytes()
        etag = '"' + hashlib.sha256(data).hexdigest()[:20] + '"'
        found[path.name] = Asset(content_type, data, etag)
    return found


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


class ConsoleResource(Router):
    prefix = CONSOLE_PREFIX
    headers: ClassVar[tuple[tuple[bytes, bytes], ...]] = SECURITY_HEADERS

    def __init__(self, api: ModuleApi, config: ConsoleConfig) -> None:
        super().__init__(api)
        self._assets = load_assets()
        self._index = render_index(config, self._assets)
        self.route("GET", "", self.index)
        self.route("GET", "assets/{name}", self.asset)

    @property
    def asset_count(self) -> int:
        return len(self._assets)

    async def index(self, request: Any) -> tuple[int, Any]:
        return 200, HtmlPage(self._index)

    async def asset(self, request: Any, name: str) -> tuple[int, Any]:
        found = self._assets.get(name)
        if found is None:
            raise SynapseError(404, "没有这个文件", Codes.NOT_FOUND)
        etag = (b"ETag", found.etag.encode("ascii"))
        wanted = request.getHeader(b"If-None-Match")
        if wanted is not None and wanted.decode("latin-1") == found.etag:
            return 304, RawBody(found.content_type, b"", inline=True, headers=(etag,))
        return 200, RawBody(
            found.content_type, found.data, inline=True, headers=(etag,)
        )
