# SPDX-License-Identifier: AGPL-3.0-or-later
"""The engines' text-search syntax for our tokens (text.py): SQLite FTS5 query strings,
PostgreSQL tsvector and tsquery input. Pure functions; values are passed as query
arguments by storage.py, never spliced into SQL."""

from collections.abc import Sequence

from modules.search.text import MAX_POSITIONS, Phrase

MAX_POSITIONS_PER_TOKEN = 255  # PostgreSQL keeps at most 256 positions of a lexeme


def tsvector_literal(tokens: Sequence[str]) -> str:
    """tokens → PostgreSQL's tsvector input ('tok':1,5 'other':2), no parser involved."""
    positions: dict[str, list[int]] = {}
    for i, token in enumerate(tokens[:MAX_POSITIONS], start=1):
        found = positions.setdefault(token, [])
        if len(found) < MAX_POSITIONS_PER_TOKEN:
            found.append(i)
    return " ".join(
        f"'{_pg_quote(token)}':{','.join(map(str, at))}"
        for token, at in positions.items()
    )


def _pg_quote(token: str) -> str:
    return token.replace("\\", "\\\\").replace("'", "''")


def fts5_match(phrases: Sequence[Phrase]) -> str:
    """FTS5 query: each phrase quoted (its tokens adjacent), '*' on a prefix, ANDed."""
    parts = []
    for phrase in phrases:
        quoted = '"' + " ".join(t.replace('"', "") for t in phrase.tokens) + '"'
        parts.append(quoted + ("*" if phrase.prefix else ""))
    return " AND ".join(parts)


def tsquery_literal(phrases: Sequence[Phrase]) -> str:
    """PostgreSQL tsquery input: 'a' <-> 'b':* per phrase, & between phrases."""
    parts = []
    for phrase in phrases:
        tokens = [f"'{_pg_quote(t)}'" for t in phrase.tokens]
        if phrase.prefix:
            tokens[-1] += ":*"
        parts.append("(" + " <-> ".join(tokens) + ")")
    return " & ".join(parts)


def tsquery_candidates(phrases: Sequence[Phrase]) -> str:
    """What PostgreSQL's GIN index is asked: every token of every phrase ANDed, without
    positions, so the index answers it exactly (a phrase makes GIN re-check every row
    holding its tokens, before the room filter); a trailing one-character prefix after
    other tokens is left out (a prefix scan merges the postings of every token starting
    with it). The exact phrases (tsquery_literal) are then checked on the candidates in
    the officer's rooms only."""
    parts: list[str] = []
    for phrase in phrases:
        alone = phrase.prefix and len(phrase.tokens) == 1
        tokens = phrase.tokens[:-1] if phrase.prefix and not alone else phrase.tokens
        for token in tokens:
            part = f"'{_pg_quote(token)}'" + (":*" if alone else "")
            if part not in parts:
                parts.append(part)
    return " & ".join(parts)
