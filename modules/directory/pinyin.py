# SPDX-License-Identifier: AGPL-3.0-or-later
"""Prefix-searchable index terms for people's names: characters, pinyin and initials.

A name is split into units: the surname (one or two characters, read as a surname from
`SURNAMES`), each further Chinese character, and each run of letters/digits (so a
name like 买买提·艾力 or "John Smith" works). Separators (·, spaces, hyphens) are dropped.
Terms start only at unit boundaries, so 欧阳修 gives xiu but never yangxiu.

Ranks (smaller = better match, the same term keeps its smallest rank):
  0 the whole name              张三
  1 a proper suffix of it       三
  2 full pinyin                 zhangsan
  3 initials                    zs
  4 pinyin from a later unit    san
  5 initials from a later unit  s

Given-name characters that have several readings add their other readings (pypinyin's
context reading first, then its two most common ones), at most `MAX_VARIANTS` per name.

Cost, measured on this machine (pypinyin's dictionary load of ~0.3 s excluded):
the 55,000 names of generate_directory(30000, 55000) take 15 µs per name on a first
pass (0.85 s in all) and 12 µs with warm caches, ~10 terms per name; 55,000 names of
random characters (no cache hits) take 50 µs per name. Well under 1 ms.

pypinyin is imported on the first name, not at start: its dictionaries take ~80 MB of
memory (a process that never indexes a name never loads them; tests/project checks it),
and are then frozen out of the garbage collector (modules/common/heavy_imports.py).
"""

import itertools
import unicodedata
from functools import lru_cache

from modules.common.heavy_imports import import_frozen

MAX_VARIANTS = 8
# Readings of one given-name character taken from pypinyin's heteronym list (most common
# first); rarer readings only add noise to search results.
_HETERONYMS_PER_CHAR = 2

# Surnames whose everyday reading differs from pypinyin's default, and compound surnames
# (read as one unit). Values: accepted readings, syllables separated by spaces.
SURNAMES: dict[str, tuple[str, ...]] = {
    "单": ("shan",),
    "曾": ("zeng",),
    "解": ("xie",),
    "仇": ("qiu",),
    "区": ("ou",),
    "朴": ("piao",),
    "查": ("zha",),
    "盖": ("ge", "gai"),
    "华": ("hua",),
    "缪": ("miao",),
    "乐": ("yue", "le"),
    "覃": ("qin", "tan"),
    "翟": ("zhai",),
    "种": ("chong",),
    "员": ("yun",),
    "祭": ("zhai",),
    "隗": ("wei",),
    "召": ("shao",),
    "繁": ("po",),
    "折": ("she",),
    "黑": ("he",),
    "秘": ("bi",),
    "宓": ("fu",),
    "逄": ("pang",),
    "郇": ("huan",),
    "能": ("nai",),
    "燕": ("yan",),
    "任": ("ren",),
    "沈": ("shen",),
    "柏": ("bai",),
    "藏": ("zang",),
    "庞": ("pang",),
    "句": ("gou",),
    "长": ("chang",),
    "薄": ("bo",),
    "尉": ("wei",),
    "佴": ("nai",),
    "厍": ("she",),
    "欧阳": ("ou yang",),
    "司马": ("si ma",),
    "诸葛": ("zhu ge",),
    "上官": ("shang guan",),
    "东方": ("dong fang",),
    "皇甫": ("huang fu",),
    "尉迟": ("yu chi",),
    "万俟": ("mo qi",),
    "长孙": ("zhang sun",),
    "澹台": ("tan tai",),
    "公孙": ("gong sun",),
    "令狐": ("ling hu",),
    "夏侯": ("xia hou",),
    "慕容": ("mu rong",),
    "宇文": ("yu wen",),
    "司徒": ("si tu",),
    "端木": ("duan mu",),
    "轩辕": ("xuan yuan",),
    "南宫": ("nan gong",),
    "呼延": ("hu yan",),
    "独孤": ("du gu",),
}

_DOTS = frozenset("\u00b7\u2022\u2027\u2219\u22c5\u30fb")

# (spelling, initials) of one unit, e.g. ("ouyang", "oy").
_Reading = tuple[str, str]


def normalise_query(text: str) -> str:
    """What the user typed, in the form of the terms: NFKC, lower-case, no spaces/dots."""
    folded = unicodedata.normalize("NFKC", text).lower()
    return "".join(c for c in folded if not c.isspace() and c not in _DOTS)


def prefix_upper_bound(prefix: str) -> str:
    """Smallest string above every string that starts with `prefix` (code point order).

    `term >= prefix AND term < bound` then uses an index on SQLite (BINARY) and on
    PostgreSQL with C collation, both of which order UTF-8 by code point.
    """
    chars = list(prefix)
    while chars:
        last = ord(chars.pop())
        if last < 0x10FFFF:
            nxt = last + 1
            if 0xD800 <= nxt <= 0xDFFF:  # surrogates cannot be stored as UTF-8
                nxt = 0xE000
            return "".join(chars) + chr(nxt)
    raise ValueError("no upper bound: the prefix is empty or only U+10FFFF")


def _is_hanzi(c: str) -> bool:
    """True for one CJK ideograph; False for longer units (runs of letters/digits)."""
    if len(c) != 1:
        return False
    o = ord(c)
    return (
        0x4E00 <= o <= 0x9FFF
        or 0x3400 <= o <= 0x4DBF
        or 0xF900 <= o <= 0xFAFF
        or 0x20000 <= o <= 0x3FFFF
    )


def _split(name: str) -> list[str]:
    """Units of a name: single Chinese characters and runs of other letters/digits."""
    units: list[str] = []
    run: list[str] = []
    for c in unicodedata.normalize("NFKC", name).lower():
        if _is_hanzi(c):
            if run:
                units.append("".join(run))
                run = []
            units.append(c)
        elif c.isalnum():
            run.append(c)
        elif run:
            units.append("".join(run))
            run = []
    if run:
        units.append("".join(run))
    return units


@lru_cache(maxsize=20000)
def _char_readings(char: str) -> tuple[str, ...]:
    pypinyin = import_frozen("pypinyin")  # loaded when first used (module docstring)
    # Unknown characters come back unchanged: they then stand for themselves.
    found = pypinyin.pinyin(char, style=pypinyin.Style.NORMAL, heteronym=True)[0]
    return tuple(dict.fromkeys(found))


@lru_cache(maxsize=100000)
def _context_readings(chars: str) -> tuple[str, ...]:
    """pypinyin's reading of a run of characters, using its phrase dictionary."""
    pypinyin = import_frozen("pypinyin")  # loaded when first used
    return tuple(pypinyin.lazy_pinyin(chars, style=pypinyin.Style.NORMAL))


def _spelled(reading: str) -> _Reading:
    syllables = reading.split()
    return "".join(syllables), "".join(s[0] for s in syllables)


def _unit_readings(units: list[str]) -> tuple[list[str], list[tuple[_Reading, ...]]]:
    """Merge a compound surname into one unit; list the readings of every unit."""
    texts: list[str] = []
    readings: list[tuple[_Reading, ...]] = []
    start = 0
    if units and units[0] + (units[1] if len(units) > 1 else "") in SURNAMES:
        start = 2
    elif units and units[0] in SURNAMES:
        start = 1
    if start:
        surname = "".join(units[:start])
        texts.append(surname)
        readings.append(tuple(_spelled(r) for r in SURNAMES[surname]))
    elif units and _is_hanzi(units[0]):
        # A surname outside the table: its usual reading only, not every heteronym.
        texts.append(units[0])
        readings.append((_spelled(_char_readings(units[0])[0]),))
        start = 1
    index = start
    while index < len(units):
        if not _is_hanzi(units[index]):
            texts.append(units[index])
            readings.append(((units[index], units[index][0]),))
            index += 1
            continue
        end = index
        while end < len(units) and _is_hanzi(units[end]):
            end += 1
        chars = units[index:end]
        context = _context_readings("".join(chars))
        if len(context) != len(chars):  # pypinyin grouped characters it does not know
            context = tuple(_char_readings(c)[0] for c in chars)
        for char, first in zip(chars, context, strict=True):
            options = (first, *_char_readings(char)[:_HETERONYMS_PER_CHAR])
            texts.append(char)
            readings.append(tuple(_spelled(r) for r in dict.fromkeys(options)))
        index = end
    return texts, readings


def _variants(readings: list[tuple[_Reading, ...]]) -> list[tuple[_Reading, ...]]:
    """All combinations if few, else the main reading plus one-unit substitutions."""
    total = 1
    for options in readings:
        total *= len(options)
    if total <= MAX_VARIANTS:
        return list(itertools.product(*readings))
    main = tuple(options[0] for options in readings)
    variants = [main]
    for position, options in enumerate(readings):
        for option in options[1:]:
            if len(variants) == MAX_VARIANTS:
                return variants
            variants.append(main[:position] + (option,) + main[position + 1 :])
    return variants


def name_search_terms(name: str) -> list[tuple[str, int]]:
    """Distinct (term, rank) pairs of a person's name, smallest rank first."""
    texts, readings = _unit_readings(_split(name))
    if not texts:
        return []
    ranks: dict[str, int] = {}

    def add(term: str, rank: int) -> None:
        if term and ranks.get(term, rank + 1) > rank:
            ranks[term] = rank

    add("".join(texts), 0)
    for start in range(1, len(texts)):
        add("".join(texts[start:]), 1)
    for variant in _variants(readings):
        spellings = [spelling for spelling, _ in variant]
        initials = [initial for _, initial in variant]
        add("".join(spellings), 2)
        add("".join(initials), 3)
        for start in range(1, len(variant)):
            add("".join(spellings[start:]), 4)
            add("".join(initials[start:]), 5)
    return sorted(ranks.items(), key=lambda item: item[1])


def name_pinyin(name: str) -> str:
    """The main reading of a name without separators, e.g. 单雄信 → shanxiongxin."""
    _, readings = _unit_readings(_split(name))
    return "".join(options[0][0] for options in readings)
