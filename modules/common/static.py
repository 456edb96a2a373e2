# SPDX-License-Identifier: AGPL-3.0-or-later
"""A web page served by the homeserver itself, with its files (the console, the web
client): read once at start-up, answered with their ETag, under the page's security
headers (a Content-Security-Policy without inline scripts, no framing)."""

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from synapse.module_api import ModuleApi

from modules.common.health import register_probe
from modules.common.http import RawBody, Router, register_resource
from modules.common.synapse.errors import Codes, SynapseError

CONTENT_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".woff2": "font/woff2",
}
Header = tuple[bytes, bytes]


def security_headers(csp: str, *more: Header) -> tuple[Header, ...]:
    return (
        (b"Content-Security-Policy", csp.encode("ascii")),
        (b"X-Frame-Options", b"DENY"),
        (b"X-Content-Type-Options", b"nosniff"),
        (b"Referrer-Policy", b"no-referrer"),
        (b"Cross-Origin-Opener-Policy", b"same-origin"),
        *more,
    )


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
    """Every servable file of `folder` by name (a few MB at most)."""
    if not folder.is_dir():
        return {}
    found = {}
    for path in sorted(folder.iterdir()):
        asset = load_file(path)
        if asset is not None:
            found[path.name] = asset
    return found


def answer_asset(request: Any, asset: Asset, *more: Header) -> tuple[int, Any]:
    """The file, or 304 when the browser holds this version already."""
    headers = ((b"ETag", asset.etag.encode("ascii")), *more)
    wanted = request.getHeader(b"If-None-Match")
    if wanted is not None and wanted.decode("latin-1") == asset.etag:
        return 304, RawBody(asset.content_type, b"", inline=True, headers=headers)
    return 200, RawBody(asset.content_type, asset.data, inline=True, headers=headers)


class PageRouter(Router):
    """GET {prefix}/ (the page, `index` of the subclass) and {prefix}/assets/{name}."""

    # Headers of an asset's answer besides its ETag (e.g. how long it may be cached).
    asset_headers: ClassVar[tuple[Header, ...]] = ()

    def __init__(self, api: ModuleApi, assets: dict[str, Asset]) -> None:
        super().__init__(api)
        self._assets = assets
        self.route("GET", "", self.index)
        self.route("GET", "assets/{name}", self.asset)

    async def index(self, request: Any) -> tuple[int, Any]:
        raise NotImplementedError

    async def asset(self, request: Any, name: str) -> tuple[int, Any]:
        found = self._assets.get(name)
        if found is None:
            raise SynapseError(404, "没有这个文件", Codes.NOT_FOUND)
        return answer_asset(request, found, *self.asset_headers)

    @property
    def asset_count(self) -> int:
        return len(self._assets)


def serve_page(api: ModuleApi, name: str, resource: PageRouter) -> None:
    """Mount the page at its prefix, with a health probe: its files are read at
    start-up, so nothing else can go wrong at run time."""
    register_resource(api, resource.prefix, resource)
    register_probe(
        api, name, lambda: {"status": "ok", "detail": f"{resource.asset_count} files"}
    )
