// SPDX-License-Identifier: AGPL-3.0-or-later
// Changes to a spreadsheet that need its formulas (docs/documents.md "Spreadsheets"):
// cells written (typed, pasted, cleared), rows and columns inserted or deleted, a sheet
// renamed. Each is one Yjs transaction that also writes, beside every formula whose
// result changed, its new value: the stored values stay those of the formulas (what
// an export and a reader's first screen show). Only the formulas a change reaches are
// computed (found through the references in their text, refs.js), not the workbook.
import { cellName, parseCell } from "./cells.js";
import { Computation, storable } from "./engine.js";
import { extentOf, moveLines, orderedSheets } from "./model.js";
import { pivotChanges } from "./pivot.js";
import { covers, reads, renameSheet as renameIn, shift, structural } from "./refs.js";

export { addPivot } from "./pivot.js";

const lower = (name) => name.toLowerCase();

/** A computation over the workbook as it is now (formulas refer to sheets by name,
 * in any case); with `stale`, only the formulas it names are computed. */
export function computation(ydoc, stale = null) {
  const byName = new Map(orderedSheets(ydoc).map((s) => [lower(s.name), s]));
  const extents = new Map();
  return new Computation(
    (sheet, name) => {
      const found = byName.get(lower(sheet));
      return found ? found.cells.get(name) : undefined;
    },
    (sheet) => {
      const key = lower(sheet);
      if (!extents.has(key)) {
        const found = byName.get(key);
        extents.set(key, found ? extentOf(found.cells) : { rows: 0, cols: 0 });
      }
      return extents.get(key);
    },
    stale && ((sheet, name) => stale.has(`${lower(sheet)}!${name}`)),
  );
}

/** Every formula of the workbook with what it reads. */
function formulaIndex(ydoc) {
  const index = [];
  for (const s of orderedSheets(ydoc)) {
    for (const [name, cell] of s.cells.entries()) {
      if (!cell || typeof cell.f !== "string") continue;
      const pos = parseCell(name);
      if (!pos) continue;
      index.push({ sheet: s, name, key: `${lower(s.name)}!${name}`, pos, ...reads(cell.f, s.name) });
    }
  }
  return index;
}

/** The keys ("sheet!A1", sheet in lower case) of the formulas that read, directly or
 * through other formulas, a changed cell ({sheet, row, col}), plus `seeds`' own. */
function reached(index, changed, seeds) {
  const stale = new Set(seeds);
  const queue = [...changed];
  for (const f of index) {
    if (f.dynamic || stale.has(f.key)) {
      stale.add(f.key);
      queue.push({ sheet: f.sheet.name, row: f.pos.row, col: f.pos.col });
    }
  }
  while (queue.length) {
    const at = queue.pop();
    for (const f of index) {
      if (stale.has(f.key)) continue;
      if (f.rects.some((r) => covers(r, at.sheet, at.row, at.col))) {
        stale.add(f.key);
        queue.push({ sheet: f.sheet.name, row: f.pos.row, col: f.pos.col });
      }
    }
  }
  return stale;
}

/** Computes the stale formulas and writes the values that changed. */
function writeValues(ydoc, stale) {
  if (!stale.size) return;
  const comp = computation(ydoc, stale);
  for (const s of orderedSheets(ydoc)) {
    const prefix = `${lower(s.name)}!`;
    for (const [name, cell] of s.cells.entries()) {
      if (typeof cell.f !== "string" || !stale.has(prefix + name)) continue;
      const value = storable(comp.valueAt(s.name, name));
      if (cell.v !== value) {
        const next = { ...cell };
        if (value === null) delete next.v;
        else next.v = value;
        s.cells.set(name, next);
      }
    }
  }
}

/**
 * Writes cells of one sheet: `entries` [[name, cell or null], …] (null clears), in one
 * transaction with the new values of every formula they reach.
 */
export function writeCells(ydoc, sheetId, entries) {
  ydoc.transact(() => {
    const sheet = orderedSheets(ydoc).find((s) => s.id === sheetId);
    if (!sheet) return;
    const changed = [];
    const seeds = [];
    for (const [name, input] of entries) {
      const pos = parseCell(name);
      if (!pos) continue;
      if (input === null) sheet.cells.delete(name);
      else sheet.cells.set(name, input);
      changed.push({ sheet: sheet.name, row: pos.row, col: pos.col });
      if (input && typeof input.f === "string") seeds.push(`${lower(sheet.name)}!${name}`);
    }
    writeValues(ydoc, reached(formulaIndex(ydoc), changed, seeds));
  });
}

/** One cell (see writeCells). */
export function setCell(ydoc, sheetId, name, input) {
  writeCells(ydoc, sheetId, [[name, input]]);
}

/**
 * Inserts `count` rows or columns (`axis` "row"/"col") before index `at` of a sheet
 * (count > 0), or deletes them from `at` on (count < 0): cells and merges move, and
 * every formula of the workbook that refers to the sheet is rewritten (a reference to
 * a deleted cell becomes #REF!); then what changed is recomputed.
 */
export function changeLines(ydoc, sheetId, axis, at, count) {
  if (!count || at < 0) return;
  ydoc.transact(() => {
    const sheets = orderedSheets(ydoc);
    const target = sheets.find((s) => s.id === sheetId);
    if (!target) return;
    moveLines(target, axis, at, count);
    moveChartsAndPivots(sheets, target, axis, at, count);
    const seeds = [];
    for (const s of sheets) {
      for (const [name, cell] of s.cells.entries()) {
        if (typeof cell.f !== "string") continue;
        const f = structural(cell.f, s.name, target.name, axis, at, count);
        if (f === cell.f) continue;
        s.cells.set(name, { ...cell, f });
        seeds.push(`${lower(s.name)}!${name}`);
      }
    }
    const index = formulaIndex(ydoc);
    const changed = index.filter((f) => seeds.includes(f.key))
      .map((f) => ({ sheet: f.sheet.name, row: f.pos.row, col: f.pos.col }));
    writeValues(ydoc, reached(index, changed, seeds));
  });
}

// Charts' and pivots' ranges move, grow and shrink with the lines as formulas' do;
// one whose range is all deleted goes (a pivot's cells stay, as values).
function moveChartsAndPivots(sheets, target, axis, at, count) {
  const move = (text) => {
    const out = structural(`=${text}`, target.name, target.name, axis, at, count).slice(1);
    return out.includes("#REF!") ? null : out;
  };
  const charts = target.map.get("charts");
  for (const [id, chart] of charts && typeof charts.entries === "function" ? [...charts.entries()] : []) {
    const range = chart && move(chart.range);
    if (!range) charts.delete(id);
    else if (range !== chart.range) charts.set(id, { ...chart, range });
  }
  for (const s of sheets) {
    const pivots = s.map.get("pivots");
    if (!pivots || typeof pivots.entries !== "function") continue;
    for (const [id, def] of [...pivots.entries()]) {
      const next = { ...def };
      if (def.sheet === target.id) next.range = move(def.range);
      if (s.id === target.id) {
        next.at = move(def.at);
        const area = def.area && move(def.area);
        if (area) next.area = area;
        else delete next.area;
      }
      if (!next.range || !next.at) pivots.delete(id);
      else if (next.range !== def.range || next.at !== def.at || next.area !== def.area) pivots.set(id, next);
    }
  }
}

/** Renames a sheet and every formula's reference to it; false if the name is taken
 * (by another sheet, in any case) or empty. */
export function renameSheet(ydoc, sheetId, name) {
  const wanted = String(name).trim();
  const sheets = orderedSheets(ydoc);
  const sheet = sheets.find((s) => s.id === sheetId);
  if (!sheet || !wanted || wanted.length > 31 || /[[\]:*?/\\]/.test(wanted)) return false;
  if (sheets.some((s) => s.id !== sheetId && lower(s.name) === lower(wanted))) return false;
  if (sheet.name === wanted) return true;
  ydoc.transact(() => {
    const old = sheet.name;
    sheet.map.set("name", wanted);
    const seeds = [];
    for (const s of sheets) {
      const own = s.id === sheetId ? wanted : s.name;
      for (const [cellKey, cell] of s.cells.entries()) {
        if (typeof cell.f !== "string") continue;
        const f = renameIn(cell.f, old, wanted);
        if (f !== cell.f) s.cells.set(cellKey, { ...cell, f });
        // A formula that named the new name before (#REF! then) reads it now.
        if (reads(f, own).rects.some((r) => lower(r.sheet) === lower(wanted))) {
          seeds.push(`${lower(own)}!${cellKey}`);
        }
      }
    }
    const index = formulaIndex(ydoc);
    const changed = index.filter((f) => seeds.includes(f.key))
      .map((f) => ({ sheet: f.sheet.name, row: f.pos.row, col: f.pos.col }));
    writeValues(ydoc, reached(index, changed, seeds));
  });
  return true;
}

/**
 * Pastes a block (rows of cells as stored: {v} / {f} / with z, s; null for an empty
 * one) with its top-left at `top`,`left`. A copied formula's relative references move
 * with it (`from` is where the block was copied from; none for text from elsewhere).
 * `cut` (a range {r0, c0, r1, c1} of the same sheet) is cleared first, except where
 * the paste writes: the moved formulas keep their references as they were.
 */
export function paste(ydoc, sheetId, top, left, block, from = null, cut = null) {
  const entries = new Map();
  if (cut) {
    for (let r = cut.r0; r <= cut.r1; r++) {
      for (let c = cut.c0; c <= cut.c1; c++) entries.set(cellName(r, c), null);
    }
  }
  block.forEach((row, dr) => row.forEach((cell, dc) => {
    const name = cellName(top + dr, left + dc);
    if (!cell) {
      entries.set(name, null);
      return;
    }
    const next = { ...cell };
    delete next.v;
    if (typeof cell.f === "string") {
      if (from && !cut) next.f = shift(cell.f, top - from.row, left - from.col);
    } else if (cell.v !== undefined) next.v = cell.v;
    else return;
    entries.set(name, next);
  }));
  writeCells(ydoc, sheetId, [...entries]);
}

/** Rewrites the values of every pivot table whose source changed (pivot.js), with the
 * formulas they reach; a pivot over another's values follows (three rounds at most).
 * Inside the caller's transaction (view.js change()). */
export function updatePivots(ydoc) {
  for (let round = 0; round < 3; round++) {
    const writes = pivotChanges(ydoc);
    if (!writes.length) return;
    for (const [sheetId, entries] of writes) writeCells(ydoc, sheetId, entries);
  }
}
