# SPDX-License-Identifier: AGPL-3.0-or-later
"""Keyword matching: one Aho-Corasick automaton (pyahocorasick) over normalised text.

Keywords and texts are normalised alike (modules/policy/normalise.py: NFKC, case
folding, every invisible character removed, Traditional/variant Han → Simplified), and
a text is also matched in its display order (bidi) and, for HTML, in its visible text.
"""

from collections.abc import Iterable

import ahocorasick

from modules.policy.normalise import normalise, views

__all__ = ["KeywordMatcher", "normalise"]


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

    def first_in(self, normalised: str) -> str | None:
        for _end, keyword in self._automaton.iter(normalised):
            return str(keyword)
        return None

    def all_in(self, texts: Iterable[tuple[str, bool]]) -> list[str]:
        """Every keyword found in any view of texts ((text, is_html) pairs), each once,
        in the order found: what the admin's test box shows."""
        found: dict[str, None] = {}
        if not self.size:
            return []
        for text, as_html in texts:
            for view in views(text, as_html):
                for _end, keyword in self._automaton.iter(view):
                    found.setdefault(str(keyword), None)
        return list(found)

    def first_match(self, texts: Iterable[str | tuple[str, bool]]) -> str | None:
        """The first keyword found in any view of any of texts (plain strings, or
        (text, is_html) pairs), or None."""
        if not self.size:
            return None
        for item in texts:
            text, as_html = (item, False) if isinstance(item, str) else item
            if not text:
                continue
            for view in views(text, as_html):
                found = self.first_in(view)
                if found is not None:
                    return found
        return None
