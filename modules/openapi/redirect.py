# SPDX-License-Identifier: AGPL-3.0-or-later
"""OAuth2 redirect URIs checked the way the officer's browser will follow them.

A browser parses the Location we send with the WHATWG URL standard, not with Python's
urllib: it reads `\\` as `/` in http(s) URLs, drops tabs and newlines, decodes
percent-escapes and maps full-width and other Unicode characters (UTS #46) in host
names, and accepts `https:host` or `https:///host`. Python's urlsplit disagrees on
several of these (`http://evil.example\\@app.example/` is `app.example` to Python and
`evil.example` to a browser), so the host is taken from a WHATWG parser (ada-url) and,
on top of that, anything ambiguous is refused before parsing:

- characters that browsers drop or read specially: C0/C1 control characters, space,
  DEL, any Unicode space, format or separator character, and the backslash;
- userinfo (`user:pass@`), even with the trusted host behind it;
- `%` in the authority (percent-encoded host names or delimiters);
- a scheme other than http/https, or other than exactly `//` after it;
- brackets (IP-literal hosts), a port that is not 1–65535 digits, a trailing dot.

The URL we redirect to is the parser's serialisation (ASCII, punycode host), so what
was checked is exactly what the browser receives. Trusted domains are compared as
(scheme?, host, port): host exactly (punycode for IDN), the port after the scheme's
default is applied (`https://h:443` is `h`), the scheme only when the trusted domain
names one (`https://h5.example.cn`).
"""

import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import quote

from ada_url import URL

MAX_LENGTH = 2048
DEFAULT_PORTS = {"http": 80, "https": 443}
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*):")
_PORT = re.compile(r"^[0-9]{1,5}$")
_TRUSTED = re.compile(
    r"^(?:(https?)://)?"
    r"([a-z0-9](?:[a-z0-9.\-]{0,251}[a-z0-9])?)"
    r"(?::([0-9]{1,5}))?$"
)


class RedirectError(ValueError):
    """A redirect_uri that is refused; the message is shown to the officer."""


@dataclass(frozen=True)
class RedirectTarget:
    scheme: str
    host: str
    port: int
    href: str


@dataclass(frozen=True)
class TrustedDomain:
    scheme: str | None
    host: str
    port: int | None

    def admits(self, target: RedirectTarget) -> bool:
        if self.scheme is not None and self.scheme != target.scheme:
            return False
        port = self.port if self.port is not None else DEFAULT_PORTS[target.scheme]
        return self.host == target.host and port == target.port


def parse_trusted_domain(text: str) -> TrustedDomain | None:
    """An app's redirect_domain (`host`, `host:port`, optionally `https://` before),
    or None when it is not one."""
    match = _TRUSTED.match(text.lower())
    if match is None:
        return None
    scheme, host, port = match.groups()
    if ".." in host or (port is not None and not 1 <= int(port) <= 65535):
        return None
    return TrustedDomain(scheme, host, int(port) if port else None)


def _suspicious(ch: str) -> bool:
    if ch == "\\" or ch == " " or ord(ch) < 0x20 or 0x7F <= ord(ch) <= 0x9F:
        return True
    return unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zs", "Zl", "Zp")


def parse_redirect_uri(raw: str) -> RedirectTarget:
    """The target of an authorize request's redirect_uri, or RedirectError."""
    if not raw:
        raise RedirectError("缺少 redirect_uri")
    if len(raw) > MAX_LENGTH:
        raise RedirectError(f"redirect_uri 不能超过 {MAX_LENGTH} 个字符")
    if any(_suspicious(ch) for ch in raw):
        raise RedirectError("redirect_uri 不能包含空白、控制字符或反斜杠")
    match = _SCHEME.match(raw)
    scheme = match.group(1).lower() if match else ""
    if scheme not in DEFAULT_PORTS:
        raise RedirectError("redirect_uri 必须是 http 或 https 网址")
    rest = raw[match.end() :] if match else ""
    if not rest.startswith("//") or rest.startswith("///"):
        raise RedirectError("redirect_uri 的协议后必须紧跟 //主机名")
    authority = re.split(r"[/?#]", rest[2:], maxsplit=1)[0]
    if "@" in authority:
        raise RedirectError("redirect_uri 不能包含用户名或密码（@）")
    if "%" in authority:
        raise RedirectError("redirect_uri 的主机名不能含百分号编码")
    if "[" in authority or "]" in authority:
        raise RedirectError("redirect_uri 的主机名不能是 IP 字面量（方括号）")
    host_text, colon, port_text = authority.partition(":")
    if colon and (not _PORT.match(port_text) or not 1 <= int(port_text) <= 65535):
        raise RedirectError("redirect_uri 的端口必须是 1 到 65535 的数字")
    if not host_text or host_text.endswith((".", "。", "．", "｡")):
        raise RedirectError("redirect_uri 的主机名不合法")
    try:
        url = URL(raw)
    except ValueError as e:
        raise RedirectError("redirect_uri 不是合法的网址") from e
    # The checks above make these hold; kept so a parser change cannot slip through.
    if (
        url.protocol != scheme + ":"
        or url.username
        or url.password
        or not url.hostname
        or url.hostname.endswith(".")
    ):
        raise RedirectError("redirect_uri 不是合法的网址")
    port = int(url.port) if url.port else DEFAULT_PORTS[scheme]
    return RedirectTarget(scheme, url.hostname.lower(), port, url.href)


def with_params(target: RedirectTarget, params: dict[str, str]) -> str:
    """target's URL with `params` set in its query (replacing those names) and no
    fragment; checked again after the change."""
    url = URL(target.href)
    names = set(params)
    kept = [
        part
        for part in url.search.lstrip("?").split("&")
        if part and part.split("=", 1)[0] not in names
    ]
    kept += [f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in params.items()]
    url.search = "&".join(kept)
    url.hash = ""
    href = str(url.href)
    again = URL(href)
    port = int(again.port) if again.port else DEFAULT_PORTS[target.scheme]
    if (again.protocol, again.username, again.password, again.hostname, port) != (
        target.scheme + ":",
        "",
        "",
        target.host,
        target.port,
    ):
        raise RedirectError("redirect_uri 不是合法的网址")
    return href
