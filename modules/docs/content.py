# SPDX-License-Identifier: AGPL-3.0-or-later
"""What a document of each kind holds (its Yjs root types), read as JSON for export and
copied for a restore.

A Yjs update does not say which type a root is, so the server names them per kind:
  text: "content", a Y.Text (plain text; the protocol tests' kind)
  rich: "default", a Y.XmlFragment (what Tiptap/ProseMirror's Yjs binding edits)

A restore writes an old version's content over the current one inside one transaction
(a normal update every editor receives): Yjs cannot move a document back in time, so
the old content is copied forward. Text keeps its formatting; a rich document keeps
elements, attributes and text, not marks inside text yet.
"""

from typing import Any

from pycrdt import Doc, Text, XmlElement, XmlFragment, XmlText

KINDS: dict[str, dict[str, type]] = {
    "text": {"content": Text},
    "rich": {"default": XmlFragment},
}


def export(doc: Doc, kind: str) -> dict[str, Any]:
    return {name: str(doc.get(name, type=t)) for name, t in KINDS[kind].items()}


def restore(live: Doc, old: Doc, kind: str) -> None:
    with live.transaction():
        for name, root_type in KINDS[kind].items():
            if root_type is Text:
                _copy_text(live.get(name, type=Text), old.get(name, type=Text))
            else:
                target = live.get(name, type=XmlFragment)
                source = old.get(name, type=XmlFragment)
                del target.children[0 : len(target.children)]
                for child in source.children:
                    target.children.append(_xml_copy(child))


def _copy_text(target: Text, source: Text) -> None:
    target.clear()
    index = 0
    for chunk, attrs in source.diff():
        if isinstance(chunk, str):
            target.insert(index, chunk, attrs)
            index += len(chunk)


def _xml_copy(node: Any) -> Any:
    if isinstance(node, XmlText):
        return XmlText(str(node))
    return XmlElement(
        node.tag,
        dict(node.attributes),
        [_xml_copy(c) for c in node.children],
    )
