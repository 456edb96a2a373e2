# SPDX-License-Identifier: AGPL-3.0-or-later
"""Quotes of burn-after-read content (issue 14, B2). Pure: no I/O.

A reply's fallback (`> <@sender> text` lines in `body`, `<mx-reply><blockquote>…` in
`formatted_body`) and hand-made quotes (Element's "Quote": `> text` and
`<blockquote>text</blockquote>` in a message with no relation) copy the quoted text into
a new event, which would outlive the burn. The burner lets a quote through only in an
event that relates to the quoted message (it burns with it); anywhere else a quote that
matches a live burn-after-read message's text is refused.
"""

import re
from collections.abc import Mapping
from html.parser import HTMLParser
from typing import Any

# A quote shorter than this (after normalising) is not compared with burn content:
# "> 好" must not block a room because a burn message said "好的".
MIN_QUOTE = 2
_SENDER = re.compile(r"^(?:\*\s*)?<[@!#][^>\s]+>\s*")
_SPACE = re.compile(r"\s+")


def normalise(text: str) -> str:
    return _SPACE.sub(" ", text).strip().casefold()


class _Blockquotes(HTMLParser):
    """Text inside <blockquote> and <mx-reply>, one string per outermost element."""

    QUOTING = ("blockquote", "mx-reply")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.depth = 0
        self.parts: list[str] = []
        self.current: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in self.QUOTING:
            self.depth += 1
        elif tag in ("br", "p", "div", "li"):
            self._data("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.QUOTING and self.depth > 0:
            self.depth -= 1
            if self.depth == 0:
                self.parts.append("".join(self.current))
                self.current = []

    def handle_data(self, data: str) -> None:
        self._data(data)

    def _data(self, data: str) -> None:
        self.text.append(data)
        if self.depth > 0:
            self.current.append(data)

    def close(self) -> None:
        super().close()
        if self.current:
            self.parts.append("".join(self.current))
            self.current = []


def _html(value: str) -> _Blockquotes:
    parser = _Blockquotes()
    parser.feed(value)
    parser.close()
    return parser


def quoted_texts(content: Mapping[str, Any]) -> list[str]:
    """The quoted passages of a message: runs of `>` lines of `body` and the text of
    <blockquote>/<mx-reply> in `formatted_body` (also inside m.new_content)."""
    found: list[str] = []
    for source in (content, content.get("m.new_content")):
        if not isinstance(source, Mapping):
            continue
        body = source.get("body")
        if isinstance(body, str):
            run: list[str] = []
            for line in [*body.splitlines(), ""]:
                if line.startswith(">"):
                    run.append(_SENDER.sub("", line[1:].strip()))
                elif run:
                    found.append("\n".join(run))
                    run = []
        formatted = source.get("formatted_body")
        if isinstance(formatted, str) and "<" in formatted:
            found.extend(_html(formatted).parts)
    out = []
    for text in found:
        cleaned = normalise(_SENDER.sub("", text.strip()))
        if len(cleaned) >= MIN_QUOTE:
            out.append(cleaned)
    return out


def message_texts(content: Mapping[str, Any]) -> list[str]:
    """The text a burn-after-read message shows (body, formatted_body's visible
    text, and the same in m.new_content for an edit), normalised."""
    texts: list[str] = []
    for source in (content, content.get("m.new_content")):
        if not isinstance(source, Mapping):
            continue
        body = source.get("body")
        if isinstance(body, str):
            texts.append(body)
        formatted = source.get("formatted_body")
        if isinstance(formatted, str):
            texts.append("".join(_html(formatted).text))
    out = []
    for text in texts:
        cleaned = normalise(text)
        if len(cleaned) >= MIN_QUOTE and cleaned not in out:
            out.append(cleaned)
    return out


def quotes_any(quotes: list[str], texts: list[str]) -> bool:
    """Whether a quote copies burn content: one contains the other (a whole message
    quoted with its sender prefix, or a passage of it)."""
    for quote in quotes:
        for text in texts:
            if text in quote or quote in text:
                return True
    return False
