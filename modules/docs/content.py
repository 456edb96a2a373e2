# SPDX-License-Identifier: AGPL-3.0-or-later
"""What a document of each kind holds (its Yjs root types), read as JSON for export and
copied for a restore.

A Yjs update does not say which type a root is, so the server names them per kind:
  text: "content", a Y.Text (plain text; the protocol tests' kind)
  rich: "default", a Y.XmlFragment (what Tiptap/ProseMirror's Yjs binding edits)
  sheet: "sheets", a Y.Map of sheets, each a Y.Map with its cells (sheets.py)
  slides: "slides", a Y.Map of slides, each a Y.Map with its elements (slides.py)

A restore writes an old version's content over the current one inside one transaction
(a normal update every editor receives): Yjs cannot move a document back in time, so
the old content is copied forward. Text keeps its formatting; a rich document keeps
elements, attributes and text, not marks inside text yet.
"""

from typing import Any

from pycrdt import Doc, Map, Text, XmlElement, XmlFragment, XmlText

from modules.docs import sheets, slides

KINDS: dict[str, dict[str, type]] = {
    "text": {"content": Text},
    "rich": {"default": XmlFragment},
    "sheet": {sheets.ROOT: Map},
    "slides": {slides.ROOT: Map},
}


def export(doc: Doc, kind: str) -> dict[str, Any]:
    if kind == "sheet":
        return sheets.export(doc)
    if kind == "slides":
        return slides.export(doc)
    return {name: str(doc.get(name, type=t)) for name, t in KINDS[kind].items()}


def restore(live: Doc, old: Doc, kind: str) -> None:
    with live.transaction():
        if kind == "sheet":
            sheets.restore(live, old)
            return
        if kind == "slides":
            slides.restore(live, old)
            return
        for name, root_type in KINDS[kind].items():
            if root_type is Text:
                _copy_text(live.get(name, type=Text), old.get(name, type=Text))
            else:
                target = live.get(name, type=XmlFragment)
                del target.children[0 : len(target.children)]
                copy_children(target, old.get(name, type=XmlFragment))


def _copy_text(target: Any, source: Any) -> None:
    """Text (or XmlText) with its formatting, appended to `target`'s end."""
    if isinstance(target, Text):
        target.clear()
    index = len(target)
    for chunk, attrs in source.diff():
        if isinstance(chunk, str):
            target.insert(index, chunk, attrs)
            index += len(chunk)


def copy_children(target: Any, source: Any) -> None:
    """Copy an XML tree's children (elements, attributes, text with its marks) into an
    element or fragment already in a document."""
    for child in source.children:
        if isinstance(child, XmlText):
            _copy_text(target.children.append(XmlText()), child)
        else:
            element = target.children.append(
                XmlElement(child.tag, dict(child.attributes))
            )
            copy_children(element, child)
