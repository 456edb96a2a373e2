// SPDX-License-Identifier: AGPL-3.0-or-later
// Pivot tables (docs/documents.md "Spreadsheets"): a sheet's map "pivots" holds, per
// pivot id, its definition — the source (a sheet's id and a range whose first row
// names the fields), the field whose values are the rows, optionally one for the
// columns, the field aggregated (sum, count, average, min, max), the top-left cell
// where it is written and the area it was last written to. Its values are written as
// plain cells (so an export, a formula, a reader's page see them) by the page that
// changes the source: every change of the sheet's cells (view.js change()) rewrites,
// in the same transaction, the pivots whose values differ.
import { cellName, parseCell } from "./cells.js";
import { orderedSheets, parseRange, plainMap, rangeText } from "./model.js";

export const AGGREGATES = {
  sum: "求和项", count: "计数项", average: "平均值项", min: "最小值项", max: "最大值项",
};
const TOTAL = "总计";
const BLANK = "(空白)";

function valueOf(cell) {
  if (!cell || cell.v === undefined || cell.v === null) return null;
  return typeof cell.v === "object" ? null : cell.v;
}

function label(value) {
  return value === null || value === "" ? BLANK : value;
}

// Numbers first (ascending), then text as the locale sorts it, as Excel does.
function order(a, b) {
  const na = typeof a === "number";
  const nb = typeof b === "number";
  if (na && nb) return a - b;
  if (na !== nb) return na ? -1 : 1;
  return String(a).localeCompare(String(b), "zh-CN");
}

function accumulator() {
  return { sum: 0, n: 0, count: 0, min: Infinity, max: -Infinity };
}

function add(acc, value) {
  if (value === null || value === "") return;
  acc.count++;
  if (typeof value !== "number") return;
  acc.n++;
  acc.sum += value;
  acc.min = Math.min(acc.min, value);
  acc.max = Math.max(acc.max, value);
}

function result(acc, agg) {
  if (agg === "count") return acc.count;
  if (!acc.n) return agg === "sum" ? 0 : null;
  if (agg === "sum") return Number(acc.sum.toPrecision(15));
  if (agg === "average") return Number((acc.sum / acc.n).toPrecision(15));
  return agg === "min" ? acc.min : acc.max;
}

/** The pivot's values as rows of plain values (null: empty), from `cells` (the source
 * sheet's Y.Map); null if the definition does not fit its range. */
export function pivotBlock(def, cells) {
  const range = parseRange(def.range);
  if (!range) return null;
  const width = range.c1 - range.c0 + 1;
  const fields = [def.rows, def.val, def.cols].filter((f) => f !== null && f !== undefined);
  if (fields.some((f) => !Number.isInteger(f) || f < 0 || f >= width)) return null;
  const at = (r, c) => valueOf(cells.get(cellName(r, range.c0 + c)));
  const name = (c) => String(label(at(range.r0, c)));
  const byRow = new Map();
  const byCol = new Map();
  const cellsOf = new Map();
  const total = accumulator();
  const hasCols = def.cols !== null && def.cols !== undefined;
  for (let r = range.r0 + 1; r <= range.r1; r++) {
    const rowKey = label(at(r, def.rows));
    const colKey = hasCols ? label(at(r, def.cols)) : null;
    const value = at(r, def.val);
    if (!byRow.has(rowKey)) byRow.set(rowKey, accumulator());
    add(byRow.get(rowKey), value);
    if (hasCols) {
      if (!byCol.has(colKey)) byCol.set(colKey, accumulator());
      add(byCol.get(colKey), value);
      const key = JSON.stringify([rowKey, colKey]);
      if (!cellsOf.has(key)) cellsOf.set(key, accumulator());
      add(cellsOf.get(key), value);
    }
    add(total, value);
  }
  const rowKeys = [...byRow.keys()].sort(order);
  const colKeys = [...byCol.keys()].sort(order);
  const heading = `${AGGREGATES[def.agg] || AGGREGATES.sum}:${name(def.val)}`;
  const rows = [];
  if (hasCols) {
    rows.push([heading, ...colKeys, TOTAL]);
    for (const rowKey of rowKeys) {
      rows.push([rowKey, ...colKeys.map((colKey) => {
        const acc = cellsOf.get(JSON.stringify([rowKey, colKey]));
        return acc ? result(acc, def.agg) : null;
      }), result(byRow.get(rowKey), def.agg)]);
    }
    rows.push([TOTAL, ...colKeys.map((k) => result(byCol.get(k), def.agg)), result(total, def.agg)]);
  } else {
    rows.push([name(def.rows), heading]);
    for (const rowKey of rowKeys) rows.push([rowKey, result(byRow.get(rowKey), def.agg)]);
    rows.push([TOTAL, result(total, def.agg)]);
  }
  return rows;
}

/** Every pivot of the workbook whose values differ from its cells: the cell entries
 * to write ([sheetId, [[name, cell or null], …]]), and the definitions' new areas
 * written. Inside the caller's transaction. */
export function pivotChanges(ydoc) {
  const sheets = orderedSheets(ydoc);
  const byId = new Map(sheets.map((s) => [s.id, s]));
  const writes = [];
  for (const target of sheets) {
    const pivots = target.map.get("pivots");
    if (!pivots || typeof pivots.entries !== "function") continue;
    for (const [id, def] of pivots.entries()) {
      const source = byId.get(def && def.sheet);
      const top = def && parseCell(String(def.at));
      const block = source && top ? pivotBlock(def, source.cells) : null;
      if (!block) continue;
      const entries = new Map();
      const old = parseRange(def.area || "");
      if (old) {
        for (let r = old.r0; r <= old.r1; r++) {
          for (let c = old.c0; c <= old.c1; c++) entries.set(cellName(r, c), null);
        }
      }
      block.forEach((row, dr) => row.forEach((value, dc) => {
        entries.set(cellName(top.row + dr, top.col + dc), value === null ? null : { v: value });
      }));
      const changed = [...entries].filter(([name, cell]) => {
        const now = target.cells.get(name);
        if (!cell) return now !== undefined && !(now.s && Object.keys(now).length === 1);
        return !now || now.v !== cell.v || typeof now.f === "string";
      }).map(([name, cell]) => {
        const now = target.cells.get(name);
        if (now && now.s) return [name, cell ? { ...cell, s: now.s } : { s: now.s }];
        return [name, cell];
      });
      const width = Math.max(...block.map((row) => row.length));
      const area = rangeText({ r0: top.row, c0: top.col, r1: top.row + block.length - 1, c1: top.col + width - 1 });
      if (def.area !== area) pivots.set(id, { ...def, area });
      if (changed.length) writes.push([target.id, changed]);
    }
  }
  return writes;
}

/** A new pivot's definition (see pivotChanges for its values). */
export function addPivot(ydoc, targetId, def) {
  const target = orderedSheets(ydoc).find((s) => s.id === targetId);
  if (!target) return null;
  const pivots = plainMap(target, "pivots");
  const id = `p${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  pivots.set(id, def);
  return id;
}
