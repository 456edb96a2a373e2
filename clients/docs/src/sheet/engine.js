// SPDX-License-Identifier: AGPL-3.0-or-later
// The spreadsheet's formula engine: fast-formula-parser (MIT; Excel's grammar, cell and
// range references across sheets, ~280 functions: maths, statistics, date/time, text,
// lookup, logic) with @formulajs/formulajs (MIT) filling in what it lacks — above all
// the financial functions (PMT, FV, NPV, IRR, RATE, …) — and the legacy names (STDEV,
// VAR, …). Values are computed here, in the browser; the document stores formulas as
// text (docs/documents.md "Spreadsheets").
import FormulaParser from "fast-formula-parser";
import * as formulajs from "@formulajs/formulajs";
import { cellName, parseCell } from "./cells.js";
import { reads } from "./refs.js";
import { FUNCTIONS as OWN_FUNCTIONS } from "./functions.js";

const { FormulaError } = FormulaParser;

// Excel's legacy names, kept by Excel for compatibility, that fast-formula-parser knows
// only under their 2010 names.
const LEGACY = {
  STDEV: "STDEV.S", STDEVP: "STDEV.P", VAR: "VAR.S", VARP: "VAR.P",
  MODE: "MODE.SNGL", PERCENTILE: "PERCENTILE.INC", QUARTILE: "QUARTILE.INC",
  RANK: "RANK.EQ", NORMDIST: "NORM.DIST", NORMINV: "NORM.INV",
  CEILING: "CEILING.MATH", FLOOR: "FLOOR.MATH",
  PERCENTRANK: "PERCENTRANK.INC", CONFIDENCE: "CONFIDENCE.NORM", POISSON: "POISSON.DIST",
  WEIBULL: "WEIBULL.DIST", "ERF.PRECISE": "ERF", "ERFC.PRECISE": "ERFC",
};
// Where formulajs is right and fast-formula-parser is not: its EDATE runs past a
// month's end (EDATE(31 Jan, 1) must be 28 Feb, as Excel says).
const PREFER_FORMULAJS = new Set(["EDATE"]);

function formulajsFunctions() {
  const found = {};
  const walk = (object, prefix) => {
    for (const [key, value] of Object.entries(object)) {
      if (key !== key.toUpperCase()) continue;
      if (typeof value === "function") found[prefix + key] = value;
      if (value && typeof value === "object") walk(value, `${prefix}${key}.`);
    }
  };
  walk(formulajs, "");
  return found;
}

// formulajs takes plain values (a range is an array of rows) and answers an Error whose
// message is Excel's error code; fast-formula-parser gives {value, isArray, …} and wants
// its FormulaError.
function adapt(fn) {
  return (...args) => {
    const plain = args.map((a) => (a && a.omitted ? undefined : a && a.value));
    let result;
    try {
      result = fn(...plain);
    } catch {
      return FormulaError.VALUE;
    }
    if (result instanceof Error) return new FormulaError(result.message || "#VALUE!");
    if (result instanceof Date) return toSerial(result);
    return result;
  };
}

function toSerial(date) {
  return (date.getTime() - Date.UTC(1899, 11, 30)) / 86400000
    - date.getTimezoneOffset() / 1440;
}

let extraFunctions = null;

function functions(parser) {
  if (extraFunctions) return extraFunctions;
  const own = new Set(parser.supportedFunctions());
  extraFunctions = {};
  for (const [name, fn] of Object.entries(formulajsFunctions())) {
    if (!own.has(name) || PREFER_FORMULAJS.has(name)) extraFunctions[name] = adapt(fn);
  }
  // Ours (functions.js): what neither has, and what formulajs gets wrong (TTEST, ACCRINT,
  // the T-bill functions); before the legacy names, which may point at them.
  for (const [name, fn] of Object.entries(OWN_FUNCTIONS)) extraFunctions[name] = adapt(fn);
  // fast-formula-parser lists CHOOSE but leaves its body empty; it passes the parser
  // first (CHOOSE is among its functions that need their context).
  extraFunctions.CHOOSE = (context, index, ...values) => {
    const i = Math.trunc(Number(index && index.value));
    if (!(i >= 1 && i <= values.length)) return FormulaError.VALUE;
    const chosen = values[i - 1];
    return chosen && !chosen.omitted ? chosen.value : 0;
  };
  for (const [legacy, modern] of Object.entries(LEGACY)) {
    const target = extraFunctions[modern] || (own.has(modern) && parser.functions[modern]);
    if (!own.has(legacy) && target) extraFunctions[legacy] = target;
  }
  return extraFunctions;
}

/** The names of every function a formula may call. */
export function functionNames() {
  const parser = new FormulaParser({});
  return [...new Set([...parser.supportedFunctions(), ...Object.keys(functions(parser))])].sort();
}

// fast-formula-parser's parser is costly to build (its grammar is analysed then) and
// cannot parse a second formula while one is under way: one parser per depth of
// nesting, built once per page and shared by every computation.
const parsers = [];
let current = []; // the computation each depth's parser works for

function parserAt(depth) {
  if (!parsers[depth]) {
    const parser = new FormulaParser({
      onCell: (ref) => current[depth].valueAt(ref.sheet, cellName(ref.row - 1, ref.col - 1)),
      onRange: (ref) => current[depth].range(ref),
    });
    Object.assign(parser.functions, functions(parser));
    parsers[depth] = parser;
  }
  return parsers[depth];
}

const ERRORS = new Set(["#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#ERROR!", "#CIRC!"]);

/** A stored value as the engine reads it (a stored error code is that error). */
function literal(cell) {
  if (!cell || cell.v === undefined) return null;
  if (typeof cell.v === "string" && ERRORS.has(cell.v)) return new FormulaError(cell.v);
  return cell.v;
}

/**
 * One computation of a workbook: `cellOf(sheetName, "A1")` gives a stored cell ({v, f}
 * or undefined), `extentOf(sheetName)` its used rows and columns (to bound whole-column
 * ranges). Each formula cell is computed once (memoised); a cycle gives #CIRC!. With
 * `stale(sheet, name)`, only the formulas it names are computed: the others' stored
 * values are taken as they are (an edit recomputes what it reaches, not the workbook).
 * Before a formula is parsed, the formulas its text names are computed first, so the
 * parser is rarely asked for a second formula in the middle of one.
 */
export class Computation {
  constructor(cellOf, extentOf, stale = null) {
    this.cellOf = cellOf;
    this.extentOf = extentOf;
    this.stale = stale;
    this.values = new Map();
    this.busy = new Set();
    this.depth = 0;
  }

  range(ref) {
    const extent = this.extentOf(ref.sheet);
    const toRow = Math.min(ref.to.row, extent.rows);
    const toCol = Math.min(ref.to.col, extent.cols);
    const rows = [];
    for (let r = ref.from.row; r <= toRow; r++) {
      const row = [];
      for (let c = ref.from.col; c <= toCol; c++) {
        row.push(this.valueAt(ref.sheet, cellName(r - 1, c - 1)));
      }
      rows.push(row);
    }
    return rows.length && rows[0].length ? rows : [[null]];
  }

  // The formula cells a formula's text names, computed before it (deepest first,
  // without recursion: a long chain of formulas does not overflow the stack).
  prepare(sheet, name, formula) {
    const pending = [[sheet, name, formula, false]];
    while (pending.length) {
      const top = pending[pending.length - 1];
      const [s, n, f, expanded] = top;
      const key = `${s}!${n}`;
      if (expanded || this.values.has(key) || this.busy.has(key)) {
        pending.pop();
        if (expanded) this.busy.delete(key);
        if (expanded && !this.values.has(key) && (s !== sheet || n !== name)) this.valueAt(s, n);
        continue;
      }
      top[3] = true;
      this.busy.add(key);
      for (const ref of this.formulasRead(s, f)) {
        const refKey = `${ref[0]}!${ref[1]}`;
        if (!this.values.has(refKey) && !this.busy.has(refKey)) pending.push([...ref, false]);
      }
    }
  }

  formulasRead(sheet, formula) {
    const found = [];
    for (const rect of reads(formula, sheet).rects) {
      const extent = this.extentOf(rect.sheet);
      const r1 = Math.min(rect.r1, extent.rows - 1);
      const c1 = Math.min(rect.c1, extent.cols - 1);
      if ((r1 - rect.r0 + 1) * (c1 - rect.c0 + 1) > 100000) continue; // left to the parser
      for (let r = rect.r0; r <= r1; r++) {
        for (let c = rect.c0; c <= c1; c++) {
          const name = cellName(r, c);
          const cell = this.cellOf(rect.sheet, name);
          if (cell && typeof cell.f === "string" && this.needsParse(rect.sheet, name, cell)) {
            found.push([rect.sheet, name, cell.f]);
          }
        }
      }
    }
    return found;
  }

  needsParse(sheet, name, cell) {
    return !this.stale || cell.v === undefined || this.stale(sheet, name);
  }

  /** The value of one cell: a number, string, boolean, null, or an error. */
  valueAt(sheet, name) {
    const cell = this.cellOf(sheet, name);
    if (!cell || typeof cell.f !== "string") return literal(cell);
    if (!this.needsParse(sheet, name, cell)) return literal(cell);
    const key = `${sheet}!${name}`;
    if (this.values.has(key)) return this.values.get(key);
    if (this.busy.has(key)) return new FormulaError("#CIRC!");
    if (this.depth === 0) this.prepare(sheet, name, cell.f);
    if (this.values.has(key)) return this.values.get(key);
    this.busy.add(key);
    let value;
    const depth = this.depth++;
    const saved = current[depth];
    current[depth] = this;
    try {
      const { row, col } = parseCell(name);
      const text = cell.f.startsWith("=") ? cell.f.slice(1) : cell.f;
      value = parserAt(depth).parse(text, { sheet, row: row + 1, col: col + 1 });
    } catch (e) {
      value = e instanceof FormulaError ? e : new FormulaError("#ERROR!");
      // An unknown function is Excel's #NAME? (the parser wraps it in #ERROR!).
      if (e && e.details instanceof FormulaError && e.details.error === "#NAME?") {
        value = new FormulaError("#NAME?");
      }
    } finally {
      this.busy.delete(key);
      this.depth = depth;
      current[depth] = saved;
    }
    if (Array.isArray(value)) value = value[0] && value[0][0]; // the top-left of an array
    if (value === undefined) value = null;
    this.values.set(key, value);
    return value;
  }
}

/** The value stored for a computed one (errors as their code). */
export function storable(value) {
  if (value === null || value === undefined) return null;
  if (value instanceof FormulaError) return value.error;
  if (typeof value === "number" && !Number.isFinite(value)) return "#NUM!";
  return value;
}
