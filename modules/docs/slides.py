# SPDX-License-Identifier: AGPL-3.0-or-later
"""A deck of slides (document kind "slides") in its Yjs document (docs/documents.md
"Slides"). The root map "slides" holds, per slide id, a map

    {"order": 1.0, "background": "#ffffff", "notes": "…", "elements": {id: element}}

and "elements" maps an element's id to a Y.Map placed on a 16:9 canvas of 960 × 540
units (points: PowerPoint's widescreen slide, 1 unit = 12,700 EMU):

    {"type": "text", "x", "y", "w", "h", "z", "text": Y.Text}
    {"type": "image", …, "src": "mxc://…", "name"}
    {"type": "table", …, "rows": [["", ""], ["", ""]]}
    {"type": "link", …, "url": "https://…", "text": "…"}
    {"type": "file", …, "src": "mxc://…", "name", "size", "mime"}

A text box's text is a Y.Text: each paragraph ends with a newline whose attribute
`bullet: true` marks a bulleted one, and its characters carry the runs' formatting as
attributes (`bold`, `italic`, `size` in points, `color` "#rrggbb", `link`), so two
officers typing into one box at once both keep their characters. Read and exported as
{"paragraphs": [{"bullet": false, "runs": [{"text", "bold", …}]}]}, the form an import
writes; a deck from before kept that JSON in the box's map ("paragraphs", last write
wins): `upgrade` gives such a box its Y.Text when an editor opens the deck.

Each element is a map of its own, so two officers moving one element and editing
another (or one's position and the other's text) merge; a table's rows: the last
write wins, as for a sheet's cell. Slides are ordered by
`order` (a number: a slide moved between two others takes the mean of theirs), so a
reorder is one key's change and never copies a slide. Images and attached files are
in the media repository (mxc://), uploaded by the editor or by an import.
"""

import re
from collections.abc import Iterable
from typing import Any

from pycrdt import Doc, Map, Text

from modules.docs import maproot

ROOT = "slides"
RUN_KEYS = ("bold", "italic", "size", "color", "link")
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
WIDTH, HEIGHT = 960, 540
TYPES = ("text", "image", "table", "link", "file")
GEOMETRY = ("x", "y", "w", "h", "z")
FIELDS = {
    "text": ("paragraphs",),
    "image": ("src", "name"),
    "table": ("rows",),
    "link": ("url", "text"),
    "file": ("src", "name", "size", "mime"),
}


class Slide:
    """One slide as read or imported: background, notes, elements in z order."""

    def __init__(
        self,
        elements: list[dict[str, Any]] | None = None,
        background: str = "#ffffff",
        notes: str = "",
    ) -> None:
        self.elements: list[dict[str, Any]] = elements if elements is not None else []
        self.background = background
        self.notes = notes


def clean(element: Any) -> dict[str, Any] | None:
    """An element's well-formed keys (None if it is no element of a known type)."""
    if not isinstance(element, dict) or element.get("type") not in TYPES:
        return None
    kind = element["type"]
    found: dict[str, Any] = {"type": kind}
    for key in GEOMETRY:
        value = element.get(key)
        found[key] = value if isinstance(value, (int, float)) else 0
    for key in FIELDS[kind]:
        if key in element:
            found[key] = element[key]
    return found


def _run(attrs: Any) -> dict[str, Any]:
    """A run's well-formed formatting attributes."""
    kept: dict[str, Any] = {}
    if not isinstance(attrs, dict):
        return kept
    for key in ("bold", "italic"):
        if attrs.get(key) is True:
            kept[key] = True
    size = attrs.get("size")
    if isinstance(size, (int, float)) and not isinstance(size, bool) and size > 0:
        kept["size"] = int(size) if float(size).is_integer() else size
    color = attrs.get("color")
    if isinstance(color, str) and _COLOUR.match(color):
        kept["color"] = color
    link = attrs.get("link")
    if isinstance(link, str) and link:
        kept["link"] = link
    return kept


def paragraphs_of(text: Text) -> list[dict[str, Any]]:
    """A text box's Y.Text as paragraphs of runs: a newline ends a paragraph (its
    attribute `bullet` marks a bulleted one), the characters' attributes are the runs'
    formatting; text after the last newline is a last, plain paragraph."""
    paragraphs: list[dict[str, Any]] = []
    runs: list[dict[str, Any]] = []
    for chunk, attrs in text.diff():
        if not isinstance(chunk, str):
            continue  # an embed: none is written
        parts = chunk.split("\n")
        for number, part in enumerate(parts):
            if part:
                run = {"text": part, **_run(attrs)}
                last = runs[-1] if runs else None
                if last is not None and all(
                    last.get(k) == run.get(k) for k in RUN_KEYS
                ):
                    last["text"] += part
                else:
                    runs.append(run)
            if number < len(parts) - 1:
                bullet = isinstance(attrs, dict) and attrs.get("bullet") is True
                paragraphs.append({"bullet": bullet, "runs": runs})
                runs = []
    if runs:
        paragraphs.append({"bullet": False, "runs": runs})
    return paragraphs


def fill_text(text: Text, paragraphs: Any) -> None:
    """Append paragraphs of runs (the JSON form) to a Y.Text in a document: each
    paragraph's runs with their attributes, then its newline."""
    for paragraph in paragraphs if isinstance(paragraphs, list) else []:
        if not isinstance(paragraph, dict):
            continue
        runs = paragraph.get("runs")
        for run in runs if isinstance(runs, list) else []:
            if isinstance(run, dict) and isinstance(run.get("text"), str):
                value = run["text"].replace("\n", " ")
                if value:
                    text.insert(len(text), value, _run(run))
        bullet = paragraph.get("bullet") is True
        text.insert(len(text), "\n", {"bullet": True} if bullet else {})


def _element_map(fields: dict[str, Any]) -> tuple[Map[Any], Any]:
    """An element's Y.Map to add and, for a text box, the paragraphs to fill its
    Y.Text with once the map is in the document."""
    if fields.get("type") != "text":
        return Map(fields), None
    paragraphs = fields.pop("paragraphs", None)
    fields["text"] = Text()
    return Map(fields), paragraphs


def write(doc: Doc[Any], slides: Iterable[Slide]) -> None:
    """Add slides (after any already there) to a document, in one transaction."""
    root = doc.get(ROOT, type=Map)
    with doc.transaction():
        start = len(root)
        for index, slide in enumerate(slides):
            elements = {}
            texts = {}
            for number, element in enumerate(slide.elements, start=1):
                fields = dict(element)
                fields.setdefault("z", number)
                element_id = f"e{start + index + 1}-{number}"
                elements[element_id], texts[element_id] = _element_map(fields)
            root[f"p{start + index + 1}"] = added = Map(
                {
                    "order": float(start + index + 1),
                    "background": slide.background,
                    "notes": slide.notes,
                    "elements": Map(elements),
                }
            )
            placed: Any = added["elements"]
            for element_id, paragraphs in texts.items():
                if paragraphs is not None:
                    fill_text(placed[element_id]["text"], paragraphs)


def upgrade(doc: Doc[Any]) -> int:
    """Give every text box still holding its paragraphs as one JSON value (decks
    written before text boxes were Y.Texts) a Y.Text with the same paragraphs, so
    that officers typing into it at once merge. Answers how many were upgraded."""
    upgraded = 0
    with doc.transaction():
        for _, slide, _ in maproot.entries(doc, ROOT):
            elements = slide.get("elements")
            if not isinstance(elements, Map):
                continue
            for element in elements.values():
                if (
                    isinstance(element, Map)
                    and element.get("type") == "text"
                    and not isinstance(element.get("text"), Text)
                ):
                    paragraphs = element.get("paragraphs")
                    element["text"] = Text()
                    fill_text(element["text"], paragraphs)
                    if "paragraphs" in element:
                        del element["paragraphs"]
                    upgraded += 1
    return upgraded


def initial_update() -> bytes:
    """A new deck's first revision: one empty slide."""
    return maproot.first_update(write, Slide())


def read(doc: Doc[Any]) -> list[Slide]:
    """The slides in their order, with well-formed elements only (in z order)."""
    found = []
    for slide_id, value, order in maproot.entries(doc, ROOT):
        elements = value.get("elements")
        kept = []
        if isinstance(elements, Map):
            for element_id, element in elements.items():
                fields = clean(_fields_of(element))
                if fields is not None:
                    kept.append((fields["z"], element_id, fields))
        background = value.get("background")
        notes = value.get("notes")
        slide = Slide(
            maproot.in_order(kept),
            background if isinstance(background, str) else "#ffffff",
            notes if isinstance(notes, str) else "",
        )
        found.append((order, slide_id, slide))
    return maproot.in_order(found)


def _fields_of(element: Any) -> Any:
    """An element map's JSON; a text box's paragraphs read from its Y.Text (or, in a
    deck not yet upgraded, its "paragraphs" value)."""
    if not isinstance(element, Map):
        return None
    text = element.get("text")
    fields = element.to_py()
    if isinstance(fields, dict) and fields.get("type") == "text":
        fields.pop("text", None)
        if isinstance(text, Text):
            fields["paragraphs"] = paragraphs_of(text)
    return fields


def export(doc: Doc[Any]) -> dict[str, Any]:
    """The export API's JSON: {"slides": [{background, notes, elements}]}."""
    return {
        "slides": [
            {"background": s.background, "notes": s.notes, "elements": s.elements}
            for s in read(doc)
        ]
    }


def media_of(slides: list[Slide]) -> list[str]:
    """The mxc:// URIs the deck's images and files name."""
    return [
        e["src"]
        for s in slides
        for e in s.elements
        if e["type"] in ("image", "file") and isinstance(e.get("src"), str)
    ]


def restore(live: Doc[Any], old: Doc[Any]) -> None:
    """Replace the live slides with an old version's (inside the caller's
    transaction)."""
    maproot.replace(live, old, ROOT, read, write)
