// SPDX-License-Identifier: AGPL-3.0-or-later
// What a cell shows and what an officer typed, without the formula engine: the grid
// draws the values stored in the document (a formula's last computed value) at once,
// and the engine (engine.js, the larger part of the page's script) loads meanwhile.
// Number formats by SSF (SheetJS's formatter, Apache-2.0, as fast-formula-parser
// ships it).
import SSF from "fast-formula-parser/ssf/ssf.js";

/** What a cell shows for a value, in its number format if it has one (`z`, e.g.
 * "yyyy-mm-dd" shows a date). An error (the engine's, or a stored code) shows its code. */
export function display(value, format) {
  if (value === null || value === undefined) return "";
  if (typeof value === "number" && Number.isFinite(value) && typeof format === "string"
      && format && format !== "General") {
    try {
      return SSF.format(format, value);
    } catch {
      // a format SSF cannot read: the plain number below
    }
  }
  if (typeof value === "object" && value.error) return value.error;
  if (typeof value === "boolean") return value ? "TRUE" : "FALSE";
  if (typeof value === "number") {
    if (!Number.isFinite(value)) return "#NUM!";
    return String(Number.isInteger(value) ? value : Number(value.toPrecision(12)));
  }
  return String(value);
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

/** What the formula bar and the editor show for a stored cell. */
export function entryText(cell) {
  if (!cell) return "";
  return typeof cell.f === "string" ? cell.f : display(cell.v);
}
