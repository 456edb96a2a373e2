# SPDX-License-Identifier: AGPL-3.0-or-later
"""A spreadsheet (document kind "sheet") in its Yjs document (docs/documents.md
"Spreadsheets"). The root map "sheets" holds, per sheet id, a map

    {"name": "Sheet1", "order": 0, "cells": {"A1": {"v": 12}, "B1": {"f": "=A1*2", "v": 24}},
     "merges": ["A3:B4"]}

where "cells" is itself a Y.Map from a cell's name to a plain JSON value: `v` (number,
string or boolean: the value, for a formula the one last computed), `f` (a formula as
text, "=…"; the browser's engine computes it), `z` (a number format such as
"yyyy-mm-dd") and `s` (the cell's style: `b` bold, `i` italic, `c` font colour and
`bg` fill as "#rrggbb", `a` alignment left/center/right). "merges" (optional) lists
the merged ranges. Formulas refer to other sheets by name.

"charts" (a Y.Map: chart id → plain JSON) holds the sheet's charts, drawn in the browser
from the live values of a range of the same sheet: {"type": "column"|"bar"|"line"|"pie",
"range": "A1:C5", "title": "…", "x", "y", "w", "h" (position and size in the grid's
pixels)}. "pivots" (a Y.Map: pivot id → plain JSON) holds the pivot tables whose values
are on the sheet: {"sheet": the source sheet's id, "range": "A1:D20" (its first row
names the fields), "rows": the column (0-based in the range) whose values are the
rows, "cols": one for the columns or null, "val": the one aggregated, "agg":
"sum"|"count"|"average"|"min"|"max", "at": the top-left cell, "area": the range the
values were last written to}. The browser writes a pivot's values as plain cells and
rewrites them when its source changes, so an export holds them as values.

The server writes the first sheet when it creates the document (so two officers
opening a new sheet at once do not each add one); imports write theirs. Nothing here
evaluates formulas: values come from the browser or from the imported file's cache.
"""

import re
from collections.abc import Iterable
from typing import Any, TypeGuard

from pycrdt import Doc, Map

from modules.docs import maproot

ROOT = "sheets"
FIRST_SHEET = "Sheet1"
CELL_KEYS = ("v", "f", "z", "s")
CHART_TYPES = ("column", "bar", "line", "pie")
AGGREGATES = ("sum", "count", "average", "min", "max")
_CELL = re.compile(r"^[A-Z]{1,3}[1-9][0-9]{0,6}$")
ALIGNMENTS = ("left", "center", "right")
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
_RANGE = re.compile(r"^([A-Z]{1,3})([1-9][0-9]{0,6}):([A-Z]{1,3})([1-9][0-9]{0,6})$")


class Sheet:
    """One sheet as read or imported: its name, cells (name → {v, f, z, s}) and
    merged ranges ("A1:B2")."""

    def __init__(
        self,
        name: str,
        cells: dict[str, dict[str, Any]] | None = None,
        merges: list[str] | None = None,
        charts: dict[str, dict[str, Any]] | None = None,
        pivots: dict[str, dict[str, Any]] | None = None,
        sheet_id: str | None = None,
    ):
        self.name = name
        self.id = sheet_id  # kept by a restore: pivots name their source by it
        self.cells: dict[str, dict[str, Any]] = cells if cells is not None else {}
        self.merges: list[str] = merges if merges is not None else []
        self.charts: dict[str, dict[str, Any]] = charts if charts is not None else {}
        self.pivots: dict[str, dict[str, Any]] = pivots if pivots is not None else {}


def style(value: Any) -> dict[str, Any]:
    """The well-formed part of a cell's style (what the grid and an export use)."""
    if not isinstance(value, dict):
        return {}
    kept: dict[str, Any] = {k: True for k in ("b", "i") if value.get(k) is True}
    for key in ("c", "bg"):
        if isinstance(value.get(key), str) and _COLOUR.match(value[key]):
            kept[key] = value[key].lower()
    if value.get("a") in ALIGNMENTS:
        kept["a"] = value["a"]
    return kept


def merge_range(text: Any) -> tuple[int, int, int, int] | None:
    """0-based (first row, first col, last row, last col) of "A1:B2", or None (also
    for a single cell)."""
    found = cell_range(text)
    if found is None or found[:2] == found[2:]:
        return None
    return found


def cell_range(text: Any) -> tuple[int, int, int, int] | None:
    """0-based (first row, first col, last row, last col) of "A1:B2", or None."""
    match = _RANGE.match(text) if isinstance(text, str) else None
    if not match:
        return None

    def col(letters: str) -> int:
        n = 0
        for ch in letters:
            n = n * 26 + ord(ch) - 64
        return n - 1

    r0, c0 = int(match.group(2)) - 1, col(match.group(1))
    r1, c1 = int(match.group(4)) - 1, col(match.group(3))
    return min(r0, r1), min(c0, c1), max(r0, r1), max(c0, c1)


def _cell(cell: dict[str, Any]) -> dict[str, Any]:
    kept = {k: cell[k] for k in CELL_KEYS if k in cell and k != "s"}
    if "s" in cell and (s := style(cell["s"])):
        kept["s"] = s
    return kept


def _number(value: Any) -> TypeGuard[float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def chart(value: Any) -> dict[str, Any] | None:
    """A well-formed chart ({type, range, title, x, y, w, h}), or None."""
    if not isinstance(value, dict) or value.get("type") not in CHART_TYPES:
        return None
    if cell_range(value.get("range")) is None:
        return None
    kept: dict[str, Any] = {"type": value["type"], "range": value["range"]}
    title = value.get("title")
    kept["title"] = title[:255] if isinstance(title, str) else ""
    for key, default in (("x", 0), ("y", 0), ("w", 480), ("h", 288)):
        number = value.get(key)
        kept[key] = min(max(0, int(number)), 100_000) if _number(number) else default
    return kept


def pivot(value: Any) -> dict[str, Any] | None:
    """A well-formed pivot table's definition, or None."""
    if not isinstance(value, dict) or value.get("agg") not in AGGREGATES:
        return None
    found = cell_range(value.get("range"))
    at = value.get("at")
    if found is None or not isinstance(at, str) or not _CELL.match(at):
        return None
    width = found[3] - found[1] + 1

    def field(number: Any) -> int | None:  # (Yjs numbers come back as floats)
        if _number(number) and float(number).is_integer() and 0 <= number < width:
            return int(number)
        return None

    fields = [field(value.get(k)) for k in ("rows", "val")]
    cols = value.get("cols")
    if fields[0] is None or fields[1] is None:
        return None
    if cols is not None and (cols := field(cols)) is None:
        return None
    kept = {
        "sheet": str(value.get("sheet") or ""),
        "range": value["range"],
        "rows": fields[0],
        "cols": cols,
        "val": fields[1],
        "agg": value["agg"],
        "at": at,
    }
    if cell_range(value.get("area")) is not None:
        kept["area"] = value["area"]
    return kept


def _plain_map(value: Any, check: Any) -> dict[str, dict[str, Any]]:
    if not isinstance(value, Map):
        return {}
    return {
        key: found for key, item in value.items() if (found := check(item)) is not None
    }


def write(doc: Doc[Any], sheets: Iterable[Sheet]) -> None:
    """Add sheets (after any already there) to a document, in one transaction."""
    root = doc.get(ROOT, type=Map)
    with doc.transaction():
        start = len(root)
        for index, sheet in enumerate(sheets):
            entries: dict[str, Any] = {
                "name": sheet.name,
                "order": start + index,
                "cells": Map(dict(sheet.cells)),
            }
            if sheet.merges:
                entries["merges"] = list(sheet.merges)
            # Always there, so that two officers adding the first chart or pivot of
            # a sheet at once each add theirs to the same map.
            entries["charts"] = Map(dict(sheet.charts))
            entries["pivots"] = Map(dict(sheet.pivots))
            key = sheet.id if sheet.id and sheet.id not in root else None
            root[key or f"s{start + index + 1}"] = Map(entries)


def initial_update() -> bytes:
    """A new sheet document's first revision: one empty sheet."""
    return maproot.first_update(write, Sheet(FIRST_SHEET))


def read(doc: Doc[Any]) -> list[Sheet]:
    """The sheets in tab order (what the browser shows), with well-formed cells only."""
    found = []
    for sheet_id, value, order in maproot.entries(doc, ROOT):
        cells = value.get("cells")
        if not isinstance(cells, Map):
            continue
        kept = {
            name: _cell(cell) for name, cell in cells.items() if isinstance(cell, dict)
        }
        merges = value.get("merges")
        merged = [
            m
            for m in (merges if isinstance(merges, list) else [])
            if merge_range(m) is not None
        ]
        name = str(value.get("name") or sheet_id)
        charts = _plain_map(value.get("charts"), chart)
        pivots = _plain_map(value.get("pivots"), pivot)
        found.append(
            (order, sheet_id, Sheet(name, kept, merged, charts, pivots, sheet_id))
        )
    return maproot.in_order(found)


def export(doc: Doc[Any]) -> dict[str, Any]:
    """The export API's JSON: {"sheets": [{name, cells}]}."""
    return {
        "sheets": [
            {
                "name": s.name,
                "cells": s.cells,
                **({"merges": s.merges} if s.merges else {}),
                **({"charts": s.charts} if s.charts else {}),
                **({"pivots": s.pivots} if s.pivots else {}),
            }
            for s in read(doc)
        ]
    }


def restore(live: Doc[Any], old: Doc[Any]) -> None:
    """Replace the live sheets with an old version's (inside the caller's
    transaction)."""
    maproot.replace(live, old, ROOT, read, write)
