# SPDX-License-Identifier: AGPL-3.0-or-later
"""The console's files under /_jwwx/console/ (the only routes this package adds).

GET    /_jwwx/console/                 the page (index.html with the config as data-*)
GET    /_jwwx/console/assets/{name}    a script, style sheet or image of the page
POST   /_jwwx/console/session          Authorization: Bearer <token> of a fresh login:
                                       the token becomes an HttpOnly SameSite=Strict
                                       cookie; answers the CSRF token
GET    /_jwwx/console/session          the CSRF token of the cookie's session (reload)
DELETE /_jwwx/console/session          forget the cookie (after the logout)

The cookie is accepted by the server's token readers only with its CSRF token in the
X-JWWX-CSRF header (modules.common.synapse.patches.accept_session_cookie), so the page's
scripts never hold the access token after login and no cross-site request can use it.
Everything else the page does goes to the admin API. Every answer carries the page's
security headers: a Content-Security-Policy that allows scripts, styles and requests
from this origin only (no inline script, no eval), images also as data:/blob: URLs
(the TOTP QR code, previews), and no framing (clickjacking).
"""

import hashlib
import re
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
from modules.common.synapse.errors import Codes, SynapseError
from modules.common.synapse.patches import SessionCookie

CONSOLE_PREFIX = "/_jwwx/console"
SESSION_COOKIE = b"jwwx_console"
CSRF_HEADER = b"X-JWWX-CSRF"
# Synapse's tokens (syt_…) and anything else safe in a cookie value without quoting.
TOKEN = re.compile(r"[A-Za-z0-9_.~-]{8,512}")
HERE = Path(__file__).resolve().parent
ASSETS = HERE / "assets"
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


def csrf_token(access_token: str) -> str:
    """The CSRF token of a session: derived from its access token, which only the
    server and the HttpOnly cookie know (so nothing is stored, and any process of the
    deployment can check it)."""
    return hashlib.sha256(b"jwwx-console-csrf\0" + access_token.encode()).hexdigest()


CONSOLE_SESSION = SessionCookie(SESSION_COOKIE, CSRF_HEADER, csrf_token)


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
        self.route("POST", "session", self.start_session)
        self.route("GET", "session", self.current_session)
        self.route("DELETE", "session", self.end_session)

    async def index(self, request: Any) -> tuple[int, Any]:
        return 200, HtmlPage(self._index)

    # The session cookie.

    @staticmethod
    def _secure(request: Any) -> bool:
        """Behind TLS: this listener's own, or nginx's (X-Forwarded-Proto)."""
        if request.isSecure():
            return True
        proto = request.getHeader(b"X-Forwarded-Proto")
        return proto is not None and proto.strip().lower() == b"https"

    def _set_cookie(self, request: Any, value: str, max_age: int | None) -> None:
        parts = [
            f"{SESSION_COOKIE.decode()}={value}",
            "Path=/",
            "HttpOnly",
            "SameSite=Strict",
        ]
        if max_age is not None:
            parts.append(f"Max-Age={max_age}")
        if self._secure(request):
            parts.append("Secure")
        request.setHeader(b"Set-Cookie", "; ".join(parts).encode("ascii"))

    async def start_session(self, request: Any) -> tuple[int, Any]:
        """The page hands over a fresh login's token once; the cookie then carries it
        and the page keeps only the CSRF token. Only an Authorization header is read:
        a cross-site page cannot send one (no CORS here), so nobody can plant their
        session in an admin's browser (login CSRF). The token is not checked here: a
        bad one only fails the page's next call, in the browser that sent it."""
        header = request.getHeader(b"Authorization") or b""
        kind, _, token = header.decode("ascii", "replace").partition(" ")
        if kind != "Bearer" or not TOKEN.fullmatch(token):
            raise SynapseError(
                401,
                "需要登录后的访问令牌（Authorization: Bearer）",
                Codes.MISSING_TOKEN,
            )
        self._set_cookie(request, token, None)
        return 200, {"csrf_token": csrf_token(token)}

    async def current_session(self, request: Any) -> tuple[int, Any]:
        """After a reload: the CSRF token of the cookie's session (the cookie itself
        is never readable by scripts). Whether the session is still valid, the next
        API call says."""
        value = request.getCookie(SESSION_COOKIE)
        if not value:
            raise SynapseError(401, "未登录", Codes.MISSING_TOKEN)
        return 200, {"csrf_token": csrf_token(bytes(value).decode("ascii", "replace"))}

    async def end_session(self, request: Any) -> tuple[int, Any]:
        self._set_cookie(request, "", 0)
        return 200, {}
