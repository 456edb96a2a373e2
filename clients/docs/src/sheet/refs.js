// SPDX-License-Identifier: AGPL-3.0-or-later
// The references inside a formula's text, found without the formula engine: cells
// ("B12", "$B$12"), ranges ("A1:C3"), whole columns ("A:C") and rows ("2:5"), each
// maybe on another sheet ("Sheet2!A1", "'警力 统计'!A1:B2", "收支!B4"). Text in quotes
// is skipped. Used to know which formulas a change reaches (model.js), and to rewrite
// formulas when rows or columns are inserted or deleted, when cells are pasted
// elsewhere (relative references shift) and when a sheet is renamed.

const MAX_ROW = 1048575; // 0-based, Excel's last row
const MAX_COL = 16383; // Excel's last column (XFD)
const IDENT = /[A-Za-z0-9_.\u00A1-\uFFFF]/;
// At the start of an identifier (or at "$" or "'"): a reference, maybe on a sheet.
const REF = new RegExp(
  "^(?:('(?:[^']|'')+'|[A-Za-z0-9_.\\u00A1-\\uFFFF]+)!)?" // sheet
  + "(?:(\\$?)([A-Za-z]{1,3})(\\$?)([0-9]{1,7})(?::(\\$?)([A-Za-z]{1,3})(\\$?)([0-9]{1,7}))?" // cells
  + "|(\\$?)([A-Za-z]{1,3}):(\\$?)([A-Za-z]{1,3})" // columns
  + "|(\\$?)([0-9]{1,7}):(\\$?)([0-9]{1,7}))" // rows
  + "(?![A-Za-z0-9_.(!\\u00A1-\\uFFFF])",
);

function colNumber(letters) {
  let col = 0;
  for (const ch of letters.toUpperCase()) col = col * 26 + (ch.charCodeAt(0) - 64);
  return col - 1;
}

function colLetters(col) {
  let name = "";
  for (let n = col + 1; n > 0; n = Math.floor((n - 1) / 26)) {
    name = String.fromCharCode(65 + ((n - 1) % 26)) + name;
  }
  return name;
}

function sheetOf(prefix) {
  if (prefix === undefined) return null;
  return prefix.startsWith("'") ? prefix.slice(1, -1).replace(/''/g, "'") : prefix;
}

/** A sheet's name as a formula writes it (quoted unless plain). */
export function quoteSheet(name) {
  if (/^[A-Za-z_\u00A1-\uFFFF][A-Za-z0-9_.\u00A1-\uFFFF]*$/.test(name)
      && !/^[A-Za-z]{1,3}[0-9]+$/.test(name)) return name;
  return `'${name.replace(/'/g, "''")}'`;
}

function parseRef(m) {
  const ref = { sheet: sheetOf(m[1]), prefix: m[1] };
  if (m[3] !== undefined) {
    const a = { col: colNumber(m[3]), row: Number(m[5]) - 1, absCol: m[2] === "$", absRow: m[4] === "$" };
    if (m[7] === undefined) return { ...ref, kind: "cell", a, b: a };
    const b = { col: colNumber(m[7]), row: Number(m[9]) - 1, absCol: m[6] === "$", absRow: m[8] === "$" };
    return { ...ref, kind: "range", a, b };
  }
  if (m[11] !== undefined) {
    return {
      ...ref, kind: "cols",
      a: { col: colNumber(m[11]), absCol: m[10] === "$" },
      b: { col: colNumber(m[13]), absCol: m[12] === "$" },
    };
  }
  return {
    ...ref, kind: "rows",
    a: { row: Number(m[15]) - 1, absRow: m[14] === "$" },
    b: { row: Number(m[17]) - 1, absRow: m[16] === "$" },
  };
}

/** Every reference in a formula: [{start, end, sheet, kind, a, b}] (a, b: the two
 * corners, 0-based; `sheet` null for the formula's own). */
export function scan(formula) {
  const found = [];
  let i = 0;
  while (i < formula.length) {
    const ch = formula[i];
    if (ch === "\"") { // a text literal ("" inside is a quote)
      i++;
      while (i < formula.length) {
        if (formula[i] === "\"" && formula[i + 1] === "\"") i += 2;
        else if (formula[i] === "\"") break;
        else i++;
      }
      i++;
      continue;
    }
    if (ch === "#") { // an error literal such as #REF! or #DIV/0!
      const m = /^#[A-Z0-9/]+[!?]?/i.exec(formula.slice(i));
      i += m ? m[0].length : 1;
      continue;
    }
    const startsWord = ch === "$" || ch === "'" || (IDENT.test(ch) && !(i > 0 && IDENT.test(formula[i - 1])));
    if (startsWord) {
      const m = REF.exec(formula.slice(i));
      if (m) {
        found.push({ start: i, end: i + m[0].length, ...parseRef(m) });
        i += m[0].length;
        continue;
      }
      if (ch === "'") { // a quoted name that is no reference: step over it
        const close = formula.indexOf("'", i + 1);
        i = close < 0 ? formula.length : close + 1;
        continue;
      }
      while (i < formula.length && IDENT.test(formula[i])) i++;
      if (ch === "$") i++;
      continue;
    }
    i++;
  }
  return found;
}

function cornerText(kind, p) {
  if (kind === "cols") return `${p.absCol ? "$" : ""}${colLetters(p.col)}`;
  if (kind === "rows") return `${p.absRow ? "$" : ""}${p.row + 1}`;
  return `${p.absCol ? "$" : ""}${colLetters(p.col)}${p.absRow ? "$" : ""}${p.row + 1}`;
}

function refText(ref) {
  const prefix = ref.prefix !== undefined ? `${ref.prefix}!` : "";
  if (ref.kind === "cell") return prefix + cornerText("cell", ref.a);
  return `${prefix}${cornerText(ref.kind, ref.a)}:${cornerText(ref.kind, ref.b)}`;
}

/** The formula with each reference replaced by `change(ref)`'s answer: a ref to write
 * instead, "#REF!" when it no longer exists, or undefined to keep it as written. */
export function rewrite(formula, change) {
  let out = "";
  let last = 0;
  for (const ref of scan(formula)) {
    const next = change(ref);
    if (next === undefined) continue;
    out += formula.slice(last, ref.start) + (typeof next === "string" ? next : refText(next));
    last = ref.end;
  }
  return last === 0 ? formula : out + formula.slice(last);
}

function inRange(ref) {
  const ok = (p) => (p.row === undefined || (p.row >= 0 && p.row <= MAX_ROW))
    && (p.col === undefined || (p.col >= 0 && p.col <= MAX_COL));
  return ok(ref.a) && ok(ref.b);
}

/** The formula copied `dRow` rows down and `dCol` columns right: its relative
 * references move with it ("$" keeps one fixed); one pushed off the sheet is #REF!. */
export function shift(formula, dRow, dCol) {
  return rewrite(formula, (ref) => {
    const move = (p) => ({
      ...p,
      row: p.row === undefined || p.absRow ? p.row : p.row + dRow,
      col: p.col === undefined || p.absCol ? p.col : p.col + dCol,
    });
    const moved = { ...ref, a: move(ref.a), b: move(ref.b) };
    return inRange(moved) ? moved : "#REF!";
  });
}

function sameSheet(a, b) {
  return a.toLowerCase() === b.toLowerCase();
}

/**
 * The formula (on sheet `own`) after `count` rows or columns (`axis` "row"/"col") are
 * inserted before index `at` of sheet `target` (count > 0) or deleted from `at` on
 * (count < 0). References move with their cells, absolute ones too (as Excel does);
 * a range grows or shrinks; a reference whose cells are all deleted becomes #REF!.
 */
export function structural(formula, own, target, axis, at, count) {
  const key = axis === "row" ? "row" : "col";
  return rewrite(formula, (ref) => {
    if (!sameSheet(ref.sheet === null ? own : ref.sheet, target)) return undefined;
    if (ref.a[key] === undefined) return undefined; // whole rows when columns move, …
    const lo = Math.min(ref.a[key], ref.b[key]);
    const hi = Math.max(ref.a[key], ref.b[key]);
    let newLo = lo;
    let newHi = hi;
    if (count > 0) {
      if (lo >= at) newLo = lo + count;
      if (hi >= at) newHi = hi + count;
    } else {
      const end = at - count; // first index after the deleted ones
      if (lo >= at && hi < end) return "#REF!";
      if (lo >= end) newLo = lo + count;
      else if (lo >= at) newLo = at;
      if (hi >= end) newHi = hi + count;
      else if (hi >= at) newHi = at - 1;
    }
    if (newLo === lo && newHi === hi) return undefined;
    const swap = ref.a[key] > ref.b[key];
    const moved = {
      ...ref,
      a: { ...ref.a, [key]: swap ? newHi : newLo },
      b: { ...ref.b, [key]: swap ? newLo : newHi },
    };
    return inRange(moved) ? moved : "#REF!";
  });
}

/** The formula with references naming sheet `from` naming `to` instead. */
export function renameSheet(formula, from, to) {
  return rewrite(formula, (ref) => (ref.sheet !== null && sameSheet(ref.sheet, from)
    ? { ...ref, prefix: quoteSheet(to) } : undefined));
}

/**
 * What a formula (on sheet `own`) reads, as rectangles {sheet, r0, c0, r1, c1}
 * (inclusive, 0-based; whole columns run over every row). `dynamic` is true when it
 * may read cells its text does not name (INDIRECT, OFFSET): such a formula is
 * recomputed on every change.
 */
export function reads(formula, own) {
  const rects = scan(formula).map((ref) => ({
    sheet: ref.sheet === null ? own : ref.sheet,
    r0: ref.a.row === undefined ? 0 : Math.min(ref.a.row, ref.b.row),
    r1: ref.a.row === undefined ? MAX_ROW : Math.max(ref.a.row, ref.b.row),
    c0: ref.a.col === undefined ? 0 : Math.min(ref.a.col, ref.b.col),
    c1: ref.a.col === undefined ? MAX_COL : Math.max(ref.a.col, ref.b.col),
  }));
  return { rects, dynamic: /\b(INDIRECT|OFFSET)\s*\(/i.test(formula.replace(/"(?:[^"]|"")*"/g, "")) };
}

export function covers(rect, sheet, row, col) {
  return row >= rect.r0 && row <= rect.r1 && col >= rect.c0 && col <= rect.c1
    && sameSheet(rect.sheet, sheet);
}
