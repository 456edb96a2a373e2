# SPDX-License-Identifier: AGPL-3.0-or-later
"""What the sheet and slides kinds share (sheets.py, slides.py): a root Y.Map of
entries (sheets, slides), each a Y.Map of its own with a numeric `order`; the server
writes a new document's first entry; entries are read in their order (ties by id); a
restore replaces the live entries with an old version's, read and written again."""

from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from pycrdt import Doc, Map

Item = TypeVar("Item")


def entries(doc: Doc[Any], root: str) -> Iterator[tuple[str, Map[Any], float]]:
    """(id, map, order) of each entry that is a map (a missing order counts as 0)."""
    for entry_id, value in doc.get(root, type=Map).items():
        if isinstance(value, Map):
            order = value.get("order")
            yield entry_id, value, order if isinstance(order, (int, float)) else 0


def in_order(found: Iterable[tuple[float, str, Item]]) -> list[Item]:
    """Items of (order, id, item), by order then id."""
    return [item for _, _, item in sorted(found, key=lambda t: (t[0], t[1]))]


def first_update(write: Callable[[Doc[Any], list[Item]], None], first: Item) -> bytes:
    """A new document's first revision, holding `first` (written by the server, so
    that two officers opening a new document at once do not each add one)."""
    doc: Doc[Any] = Doc()
    write(doc, [first])
    return doc.get_update()


def replace(
    live: Doc[Any],
    old: Doc[Any],
    root: str,
    read: Callable[[Doc[Any]], list[Item]],
    write: Callable[[Doc[Any], list[Item]], None],
) -> None:
    """Replace the live entries with an old version's (inside the caller's
    transaction)."""
    target = live.get(root, type=Map)
    for key in list(target.keys()):
        del target[key]
    write(live, read(old))
