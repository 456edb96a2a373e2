# SPDX-License-Identifier: AGPL-3.0-or-later
"""A spreadsheet (document kind "sheet") in its Yjs document (docs/documents.md
"Spreadsheets"). The root map "sheets" holds, per sheet id, a map

    {"name": "Sheet1", "order": 0, "cells": {"A1": {"v": 12}, "B1": {"f": "=A1*2", "v": 24}}}

where "cells" is itself a Y.Map from a cell's name to a plain JSON value: `v` (number,
string or boolean: the value, for a formula the one last computed), `f` (a formula as
text, "=…"; the browser's engine computes it) and `z` (a number format such as
"yyyy-mm-dd", kept from an import). Formulas refer to other sheets by name.

The server writes the first sheet when it creates the document (so two officers
opening a new sheet at once do not each add one); imports write theirs. Nothing here
evaluates formulas: values come from the browser or from the imported file's cache.
"""

from collections.abc import Iterable
from typing import Any

from pycrdt import Doc, Map

ROOT = "sheets"
FIRST_SHEET = "Sheet1"
CELL_KEYS = ("v", "f", "z")


class Sheet:
    """One sheet as read or imported: its name and cells (name → {v, f, z})."""

    def __init__(self, name: str, cells: dict[str, dict[str, Any]] | None = None):
        self.name = name
        self.cells: dict[str, dict[str, Any]] = cells if cells is not None else {}


def write(doc: Doc[Any], sheets: Iterable[Sheet]) -> None:
    """Add sheets (after any already there) to a document, in one transaction."""
    root = doc.get(ROOT, type=Map)
    with doc.transaction():
        start = len(root)
        for index, sheet in enumerate(sheets):
            root[f"s{start + index + 1}"] = Map(
                {
                    "name": sheet.name,
                    "order": start + index,
                    "cells": Map(dict(sheet.cells)),
                }
            )


def initial_update() -> bytes:
    """A new sheet document's first revision: one empty sheet."""
    doc: Doc[Any] = Doc()
    write(doc, [Sheet(FIRST_SHEET)])
    return doc.get_update()


def read(doc: Doc[Any]) -> list[Sheet]:
    """The sheets in tab order (what the browser shows), with well-formed cells only."""
    found = []
    for sheet_id, value in doc.get(ROOT, type=Map).items():
        if not isinstance(value, Map):
            continue
        cells = value.get("cells")
        if not isinstance(cells, Map):
            continue
        order = value.get("order")
        order = order if isinstance(order, (int, float)) else 0
        kept = {
            name: {k: cell[k] for k in CELL_KEYS if k in cell}
            for name, cell in cells.items()
            if isinstance(cell, dict)
        }
        found.append((order, sheet_id, Sheet(str(value.get("name") or sheet_id), kept)))
    return [sheet for _, _, sheet in sorted(found, key=lambda t: (t[0], t[1]))]


def export(doc: Doc[Any]) -> dict[str, Any]:
    """The export API's JSON: {"sheets": [{name, cells}]}."""
    return {"sheets": [{"name": s.name, "cells": s.cells} for s in read(doc)]}


def restore(live: Doc[Any], old: Doc[Any]) -> None:
    """Replace the live sheets with an old version's (inside the caller's
    transaction)."""
    root = live.get(ROOT, type=Map)
    for key in list(root.keys()):
        del root[key]
    write(live, read(old))
