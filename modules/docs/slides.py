# SPDX-License-Identifier: AGPL-3.0-or-later
"""A deck of slides (document kind "slides") in its Yjs document (docs/documents.md
"Slides"). The root map "slides" holds, per slide id, a map

    {"order": 1.0, "background": "#ffffff", "notes": "…", "elements": {id: element}}

and "elements" maps an element's id to a Y.Map placed on a 16:9 canvas of 960 × 540
units (points: PowerPoint's widescreen slide, 1 unit = 12,700 EMU):

    {"type": "text", "x", "y", "w", "h", "z",
     "paragraphs": [{"bullet": false, "runs": [{"text", "bold", "italic", "size",
                                                "color", "link"}]}]}
    {"type": "image", …, "src": "mxc://…", "name"}
    {"type": "table", …, "rows": [["", ""], ["", ""]]}
    {"type": "link", …, "url": "https://…", "text": "…"}
    {"type": "file", …, "src": "mxc://…", "name", "size", "mime"}

Each element is a map of its own, so two officers moving one element and editing
another (or one's position and the other's text) merge; a text box's paragraphs, a
table's rows: the last write wins, as for a sheet's cell. Slides are ordered by
`order` (a number: a slide moved between two others takes the mean of theirs), so a
reorder is one key's change and never copies a slide. Images and attached files are
in the media repository (mxc://), uploaded by the editor or by an import.
"""

from collections.abc import Iterable
from typing import Any

from pycrdt import Doc, Map

from modules.docs import maproot

ROOT = "slides"
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


def write(doc: Doc[Any], slides: Iterable[Slide]) -> None:
    """Add slides (after any already there) to a document, in one transaction."""
    root = doc.get(ROOT, type=Map)
    with doc.transaction():
        start = len(root)
        for index, slide in enumerate(slides):
            elements = {}
            for number, element in enumerate(slide.elements, start=1):
                fields = dict(element)
                fields.setdefault("z", number)
                elements[f"e{start + index + 1}-{number}"] = Map(fields)
            root[f"p{start + index + 1}"] = Map(
                {
                    "order": float(start + index + 1),
                    "background": slide.background,
                    "notes": slide.notes,
                    "elements": Map(elements),
                }
            )


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
                fields = clean(element.to_py() if isinstance(element, Map) else None)
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
