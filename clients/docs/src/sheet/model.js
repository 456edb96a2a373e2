// SPDX-License-Identifier: AGPL-3.0-or-later
// A spreadsheet in its Yjs document (docs/documents.md "Spreadsheets"): the root map
// "sheets" holds, per sheet id, a Y.Map {name, order, cells, merges}; "cells" maps a
// cell's name ("B12") to {v} (a number, string or boolean) or {f, v} (a formula as
// text, "=…", and the value last computed for it), with `z` (a number format) and `s`
// (its style: {b, i, c, bg, a}) when it has them; "merges" is a list of merged ranges
// ("A1:B2"). The server creates the first sheet with the document, so two officers
// opening a new sheet at once do not each add one. Nothing here needs the formula
// engine (recalc.js does), so the grid can draw before the engine is loaded.
import * as Y from "yjs";
import { cellName, parseCell } from "./cells.js";

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
  map.set("charts", new Y.Map());
  map.set("pivots", new Y.Map());
  sheetsOf(ydoc).set(id, map);
  return id;
}

/** A sheet's map of plain JSON values by id ("charts", "pivots"), added if an older
 * document has none (the server and addSheet give every new sheet both). */
export function plainMap(sheet, key) {
  let map = sheet.map.get(key);
  if (!(map instanceof Y.Map)) {
    map = new Y.Map();
    sheet.map.set(key, map);
  }
  return map;
}

/** A sheet's charts: [[id, {type, range, title, x, y, w, h}]]. */
export function chartsOf(sheet) {
  const map = sheet.map.get("charts");
  return map instanceof Y.Map ? [...map.entries()].filter(([, c]) => c && typeof c === "object") : [];
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

/** A range's text ("A1:B2") as {r0, c0, r1, c1}, or null. */
export function parseRange(text) {
  const [a, b = a] = String(text).split(":");
  const from = parseCell(a);
  const to = parseCell(b);
  if (!from || !to) return null;
  return {
    r0: Math.min(from.row, to.row), c0: Math.min(from.col, to.col),
    r1: Math.max(from.row, to.row), c1: Math.max(from.col, to.col),
  };
}

export function rangeText(r) {
  return `${cellName(r.r0, r.c0)}:${cellName(r.r1, r.c1)}`;
}

/** A sheet's merged ranges, well formed ones only: [{r0, c0, r1, c1}]. */
export function mergesOf(sheet) {
  const list = sheet.map.get("merges");
  return Array.isArray(list) ? list.map(parseRange).filter(Boolean) : [];
}

/**
 * Moves the cells of one sheet for `count` rows or columns inserted before `at`
 * (count > 0) or deleted from `at` on (count < 0): the deleted ones' cells go, the
 * ones after move. Merged ranges move, shrink, or go when all of them is deleted.
 * Inside the caller's transaction; formulas are rewritten by recalc.js.
 */
export function moveLines(sheet, axis, at, count) {
  const key = axis === "row" ? "row" : "col";
  const moves = [];
  for (const [name, cell] of sheet.cells.entries()) {
    const pos = parseCell(name);
    if (!pos || pos[key] < at) continue;
    moves.push([name, pos, cell]);
  }
  for (const [name] of moves) sheet.cells.delete(name);
  for (const [, pos, cell] of moves) {
    if (count < 0 && pos[key] < at - count) continue; // in the deleted lines
    const moved = { ...pos, [key]: pos[key] + count };
    sheet.cells.set(cellName(moved.row, moved.col), cell);
  }
  const lo = axis === "row" ? "r0" : "c0";
  const hi = axis === "row" ? "r1" : "c1";
  const merges = [];
  for (const m of mergesOf(sheet)) {
    const next = { ...m };
    if (count > 0) {
      if (m[lo] >= at) next[lo] += count;
      if (m[hi] >= at) next[hi] += count;
    } else {
      const end = at - count;
      if (m[lo] >= at && m[hi] < end) continue;
      next[lo] = m[lo] >= end ? m[lo] + count : Math.min(m[lo], at);
      next[hi] = m[hi] >= end ? m[hi] + count : (m[hi] >= at ? at - 1 : m[hi]);
    }
    if (next.r0 !== next.r1 || next.c0 !== next.c1) merges.push(rangeText(next));
  }
  if (sheet.map.has("merges") || merges.length) sheet.map.set("merges", merges);
}
