# SPDX-License-Identifier: AGPL-3.0-or-later
"""Tokenisation of message text for the index and of what officers type into search.

Chinese has no spaces, and officers search for any substring ("协查" must find
"关于协查通报的说明"), so words are not the unit. Text is normalised (NFKC, case-folded:
full-width digits and letters become ASCII) and cut into runs:

- gram runs: CJK characters (Han, kana, hangul, CJK punctuation excluded) and digits.
  A run is indexed as its overlapping bigrams plus its last character alone
  ("关于协查" → 关于 于协 协查 查). A substring of two or more characters is then the
  phrase of its bigrams; one character is a prefix match. Digits are in this class so
  that any part of a case, plate or ID number is found ("2345" in "京A12345").
- word runs: other letters (Latin, Cyrillic…), one token each, found by prefix
  ("poli" finds "police"); a word in the middle of the query must match whole.
- anything else separates runs (punctuation, spaces, symbols).

Tokens keep their positions, so a query is a phrase per whitespace-separated term
(adjacent positions), and terms are ANDed. docs/search.md has the measurements that
chose this over a segmenter (jieba) and the engines' trigram indexes.
"""

import unicodedata
from dataclasses import dataclass

MAX_POSITIONS = 16383  # PostgreSQL's highest tsvector position


def _is_gram_char(ch: str) -> bool:
    if "0" <= ch <= "9":
        return True
    code = ord(ch)
    return (
        0x4E00 <= code <= 0x9FFF  # CJK unified ideographs
        or 0x3400 <= code <= 0x4DBF  # extension A
        or 0x20000 <= code <= 0x3134F  # extensions B–G
        or 0xF900 <= code <= 0xFAFF  # compatibility ideographs
        or 0x3040 <= code <= 0x30FF  # hiragana, katakana
        or 0xAC00 <= code <= 0xD7AF  # hangul syllables
        or code == 0x3007  # 〇
    )


def _is_word_char(ch: str) -> bool:
    return unicodedata.category(ch)[0] in ("L", "N") and not _is_gram_char(ch)


def normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


@dataclass(frozen=True)
class Run:
    text: str
    gram: bool  # True: CJK/digits; False: a word of letters


def runs(text: str) -> list[Run]:
    """The runs of normalised text, in order (separators dropped)."""
    found: list[Run] = []
    current: list[str] = []
    current_gram = False
    for ch in normalise(text):
        if _is_gram_char(ch):
            kind: bool | None = True
        elif _is_word_char(ch):
            kind = False
        else:
            kind = None
        if current and kind != current_gram:
            found.append(Run("".join(current), current_gram))
            current = []
        if kind is not None:
            current.append(ch)
            current_gram = kind
    if current:
        found.append(Run("".join(current), current_gram))
    return found


def index_tokens(text: str) -> list[str]:
    """The tokens of a text, in position order (at most MAX_POSITIONS)."""
    tokens: list[str] = []
    for run in runs(text):
        if run.gram:
            chars = run.text
            tokens.extend(chars[i : i + 2] for i in range(len(chars) - 1))
            tokens.append(chars[-1])
        else:
            tokens.append(run.text)
        if len(tokens) >= MAX_POSITIONS:
            return tokens[:MAX_POSITIONS]
    return tokens


@dataclass(frozen=True)
class Phrase:
    """Tokens at adjacent positions; the last may be a prefix."""

    tokens: tuple[str, ...]
    prefix: bool


def query_phrases(query: str) -> list[Phrase]:
    """The phrases of a search query (ANDed); empty when nothing searchable remains.
    Quotes and operators mean nothing here: they only separate."""
    phrases: list[Phrase] = []
    for term in normalise(query).split():
        term_runs = runs(term)
        tokens: list[str] = []
        prefix = False
        for i, run in enumerate(term_runs):
            last = i == len(term_runs) - 1
            if run.gram:
                chars = run.text
                tokens.extend(chars[j : j + 2] for j in range(len(chars) - 1))
                # Inside a term the run ends where the text's run ends, so the
                # text has its last character as a token next.
                if not last:
                    tokens.append(chars[-1])
                elif len(chars) == 1:
                    tokens.append(chars)
                    prefix = True
            else:
                tokens.append(run.text)
                prefix = last
        if tokens:
            phrase = Phrase(tuple(tokens), prefix)
            if phrase not in phrases:
                phrases.append(phrase)
    return phrases


def highlights(query: str) -> list[str]:
    """What clients should highlight: the query's terms, as typed (case kept)."""
    seen: list[str] = []
    for term in unicodedata.normalize("NFKC", query).split():
        cleaned = "".join(ch for ch in term if _is_gram_char(ch) or _is_word_char(ch))
        if cleaned and cleaned not in seen:
            seen.append(cleaned)
    return seen


def name_text(name: str) -> str:
    """What a room or person name is matched against: the name normalised, its pinyin
    and its initials (城东专班 → "城东专班 chengdongzhuanban cdzb"), so that a query
    finds it as a substring of any of the three."""
    folded = normalise(name)
    # pypinyin's dictionaries (~80 MB) load at the first name, not at start.
    from pypinyin import lazy_pinyin

    syllables = [s for s in lazy_pinyin(folded, errors="ignore") if s.isalnum()]
    spelled = "".join(syllables)
    initials = "".join(s[0] for s in syllables)
    return " ".join(part for part in (folded, spelled, initials) if part)[:1024]


def like_pattern(query: str) -> str:
    """A LIKE pattern (ESCAPE '\\') for a substring of name_text."""
    needle = " ".join(normalise(query).split())
    escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
