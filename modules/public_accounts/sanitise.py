# SPDX-License-Identifier: AGPL-3.0-or-later
"""Article bodies: the HTML an editor may use, everything else removed (nh3, the Rust
ammonia sanitiser). Kept: headings, paragraphs, lists, emphasis, quotes, tables, links,
images, video and audio (attachments are links). Removed: script, style, iframe, object,
forms, every event handler (on*), style attributes, and URLs other than http(s), mailto,
mxc (media of this server, rewritten to its download URL) and relative ones — a
`javascript:` or `data:` URL leaves no attribute behind."""

import re
from collections.abc import Callable

import nh3

TAGS = {
    "h1", "h2", "h3", "h4", "h5", "h6", "p", "br", "hr", "div", "span", "section",
    "ul", "ol", "li", "dl", "dt", "dd", "strong", "b", "em", "i", "u", "s", "sub",
    "sup", "blockquote", "pre", "code", "a", "img", "video", "audio", "source",
    "figure", "figcaption", "table", "thead", "tbody", "tr", "th", "td", "caption",
}  # fmt: skip
ATTRIBUTES = {
    "a": {"href", "title", "download"},
    "img": {"src", "alt", "title", "width", "height"},
    "video": {"src", "poster", "controls", "width", "height", "preload"},
    "audio": {"src", "controls", "preload"},
    "source": {"src", "type"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
    "ol": {"start"},
}
SCHEMES = {"http", "https", "mailto", "mxc"}
_MXC = re.compile(r'(src|href|poster)="mxc://([^/"]+)/([A-Za-z0-9_-]+)"')
MAX_BODY_CHARS = 200_000


def sanitise(html: str) -> str:
    """The body as stored: only the allowed markup, links opening safely."""
    return nh3.clean(
        html,
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes=SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


def media_urls(html: str, url_of: Callable[[str, str], str]) -> str:
    """The stored body with each mxc://server/id URL replaced by url_of(server, id)
    (the page is a web page: browsers cannot fetch mxc://)."""
    return _MXC.sub(lambda m: f'{m.group(1)}="{url_of(m.group(2), m.group(3))}"', html)
