// SPDX-License-Identifier: AGPL-3.0-or-later
// A spreadsheet in its Yjs document (docs/documents.md "Spreadsheets"): the root map
// "sheets" holds, per sheet id, a Y.Map {name, order, cells}; "cells" maps a cell's
// name ("B12") to {v} (a number, string or boolean) or {f, v} (a formula as text, "=…",
// and the value last computed for it). The server creates the first sheet with the
// document, so two officers opening a new sheet at once do not each add one.
import * as Y from "yjs";
import { parseCell } from "./cells.js";
import { Computation, storable } from "./engine.js";

export function sheetsOf(ydoc) {
  return ydoc.getMap("sheets");
}

/** The sheets in tab order: [{id, name, map, cells}]. */
export function orderedSheets(ydoc) {
  const found = [];
  sheetsOf(ydoc).forEach((map, id) => {
    if (!(map instanceof Y.Map)) return;
    const cells = map.get("cells");
    if (!(cells instanceof Y.Map)) return;
    found.push({ id, name: String(map.get("name") || id), order: Number(map.get("order")) || 0, map, cells });
  });
  return found.sort((a, b) => a.order - b.order || (a.id < b.id ? -1 : 1));
}

export function addSheet(ydoc, name) {
  const sheets = orderedSheets(ydoc);
  const id = `s${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const map = new Y.Map();
  map.set("name", name);
  map.set("order", sheets.length ? sheets[sheets.length - 1].order + 1 : 0);
  map.set("cells", new Y.Map());
  sheetsOf(ydoc).set(id, map);
  return id;
}

/** The used extent of a sheet's cells: {rows, cols} (counts, 1-based maxima). */
export function extentOf(cells) {
  let rows = 0;
  let cols = 0;
  for (const name of cells.keys()) {
    const at = parseCell(name);
    if (!at) continue;
    if (at.row + 1 > rows) rows = at.row + 1;
    if (at.col + 1 > cols) cols = at.col + 1;
  }
  return { rows, cols };
}

/** A computation over the whole workbook as it is now (formulas refer to sheets by
 * name); extents are worked out once per computation. */
export function computation(ydoc) {
  const byName = new Map(orderedSheets(ydoc).map((s) => [s.name, s]));
  const extents = new Map();
  return new Computation(
    (sheet, name) => {
      const found = byName.get(sheet);
      return found ? found.cells.get(name) : undefined;
    },
    (sheet) => {
      if (!extents.has(sheet)) {
        const found = byName.get(sheet);
        extents.set(sheet, found ? extentOf(found.cells) : { rows: 0, cols: 0 });
      }
      return extents.get(sheet);
    },
  );
}

/**
 * An officer's edit of one cell (`input` {v} or {f}, or null to clear), with the values
 * of every formula whose result changed written beside them, in one transaction: the
 * stored values stay those of the formulas (what an export to .csv or .xlsx carries).
 */
export function setCell(ydoc, sheetId, name, input) {
  ydoc.transact(() => {
    const sheet = sheetsOf(ydoc).get(sheetId);
    if (!sheet) return;
    const cells = sheet.get("cells");
    if (input === null) cells.delete(name);
    else cells.set(name, input);
    const comp = computation(ydoc);
    for (const s of orderedSheets(ydoc)) {
      for (const [cellName, cell] of s.cells.entries()) {
        if (typeof cell.f !== "string") continue;
        const value = storable(comp.valueAt(s.name, cellName));
        if (cell.v !== value) s.cells.set(cellName, { ...cell, v: value });
      }
    }
  });
}
