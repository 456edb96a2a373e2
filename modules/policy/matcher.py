# SPDX-License-Identifier: AGPL-3.0-or-later
"""Keyword matching: one Aho-Corasick automaton (pyahocorasick) over normalised text.

Normalisation makes evasion pointless: NFKC (full-width → half-width, compatibility
forms), case folding, and removal of whitespace, control, format (zero-width joiners,
BOM, bidi marks) and combining-mark characters. Keywords are normalised the same way.
"""

import html
import re
import sys
import unicodedata
from collections.abc import Iterable

import ahocorasick

_INVISIBLE_CATEGORIES = {"Cc", "Cf", "Zs", "Zl", "Zp", "Mn", "Me"}


def _removal_table() -> dict[int, None]:
    # The BMP plus the Unicode "tags" block covers every invisible character in use;
    # scanning it once at import costs ~20 ms.
    points = list(range(0x10000)) + list(range(0xE0000, 0xE0080))
    table: dict[int, None] = {}
    for cp in points:
        ch = chr(cp)
        if ch.isspace() or unicodedata.category(ch) in _INVISIBLE_CATEGORIES:
            table[cp] = None
    # Hangul fillers render as blanks but are letters (Lo).
    for cp in (0x115F, 0x1160, 0x3164, 0xFFA0):
        table[cp] = None
    return table


_REMOVE = _removal_table()
_TAG = re.compile(r"<[^>]*>")
assert sys.maxunicode >= 0xE007F


def normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold().translate(_REMOVE)


def html_to_text(markup: str) -> str:
    """Visible text of an HTML fragment (formatted_body): tags dropped, entities decoded."""
    return html.unescape(_TAG.sub("", markup))


class KeywordMatcher:
    """Immutable: build a new one when the list changes, then swap the reference."""

    def __init__(self, keywords: Iterable[str]) -> None:
        self._automaton = ahocorasick.Automaton()
        self.size = 0
        for keyword in keywords:
            key = normalise(keyword)
            if key and self._automaton.add_word(key, keyword):
                self.size += 1
        if self.size:
            self._automaton.make_automaton()

    def first_match(self, texts: Iterable[str]) -> str | None:
        """The first keyword found in any of texts, or None."""
        if not self.size:
            return None
        for text in texts:
            if not text:
                continue
            for _end, keyword in self._automaton.iter(normalise(text)):
                return str(keyword)
        return None
