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

const { FormulaError } = FormulaParser;

// Excel's legacy names, kept by Excel for compatibility, that fast-formula-parser knows
// only under their 2010 names.
const LEGACY = {
  STDEV: "STDEV.S", STDEVP: "STDEV.P", VAR: "VAR.S", VARP: "VAR.P",
  MODE: "MODE.SNGL", PERCENTILE: "PERCENTILE.INC", QUARTILE: "QUARTILE.INC",
  RANK: "RANK.EQ", NORMDIST: "NORM.DIST", NORMINV: "NORM.INV",
  CEILING: "CEILING.MATH", FLOOR: "FLOOR.MATH",
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

function literal(cell) {
  if (!cell) return null;
  return cell.v === undefined ? null : cell.v;
}

/**
 * One computation of a workbook: `cellOf(sheetName, "A1")` gives a stored cell ({v, f}
 * or undefined), `extentOf(sheetName)` its used rows and columns (to bound whole-column
 * ranges). Each formula cell is computed once (memoised); a cycle gives #CIRC!.
 */
export class Computation {
  constructor(cellOf, extentOf) {
    this.cellOf = cellOf;
    this.extentOf = extentOf;
    this.values = new Map();
    this.busy = new Set();
    this.parser = new FormulaParser({
      onCell: (ref) => this.valueAt(ref.sheet, cellName(ref.row - 1, ref.col - 1)),
      onRange: (ref) => this.range(ref),
    });
    Object.assign(this.parser.functions, functions(this.parser));
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

  /** The value of one cell: a number, string, boolean, null, or an error string. */
  valueAt(sheet, name) {
    const cell = this.cellOf(sheet, name);
    if (!cell || typeof cell.f !== "string") return literal(cell);
    const key = `${sheet}!${name}`;
    if (this.values.has(key)) return this.values.get(key);
    if (this.busy.has(key)) return new FormulaError("#CIRC!");
    this.busy.add(key);
    let value;
    try {
      const { row, col } = parseCell(name);
      const text = cell.f.startsWith("=") ? cell.f.slice(1) : cell.f;
      value = this.parser.parse(text, { sheet, row: row + 1, col: col + 1 });
    } catch (e) {
      value = e instanceof FormulaError ? e : new FormulaError("#ERROR!");
    } finally {
      this.busy.delete(key);
    }
    if (Array.isArray(value)) value = value[0] && value[0][0]; // the top-left of an array
    if (value === undefined) value = null;
    this.values.set(key, value);
    return value;
  }
}

/** What a cell shows for a computed value, in its number format if it has one
 * (`z`, kept from an imported file: "yyyy-mm-dd" shows a date). */
export function display(value, format) {
  if (value === null || value === undefined) return "";
  if (typeof value === "number" && Number.isFinite(value) && typeof format === "string"
      && format && format !== "General") {
    try {
      return FormulaParser.SSF.format(format, value);
    } catch {
      // a format SSF cannot read: the plain number below
    }
  }
  if (value instanceof FormulaError) return value.error;
  if (typeof value === "object" && value.error) return value.error;
  if (typeof value === "boolean") return value ? "TRUE" : "FALSE";
  if (typeof value === "number") {
    if (!Number.isFinite(value)) return "#NUM!";
    return String(Number.isInteger(value) ? value : Number(value.toPrecision(12)));
  }
  return String(value);
}

/** The value stored for a computed one (errors as their code). */
export function storable(value) {
  if (value === null || value === undefined) return null;
  if (value instanceof FormulaError) return value.error;
  if (typeof value === "number" && !Number.isFinite(value)) return "#NUM!";
  return value;
}

/** What an officer typed: a formula, a number, a boolean or text. */
export function parseInput(text) {
  if (text.startsWith("=") && text.length > 1) return { f: text };
  const trimmed = text.trim();
  if (trimmed === "") return null;
  if (/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(trimmed)) return { v: Number(trimmed) };
  if (/^(true|false)$/i.test(trimmed)) return { v: trimmed.toUpperCase() === "TRUE" };
  return { v: text };
}
