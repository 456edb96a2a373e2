// SPDX-License-Identifier: AGPL-3.0-or-later
// Cell names as Excel writes them: column letters and a 1-based row ("B12"); rows and
// columns are 0-based here.

export function columnName(col) {
  let name = "";
  for (let n = col + 1; n > 0; n = Math.floor((n - 1) / 26)) {
    name = String.fromCharCode(65 + ((n - 1) % 26)) + name;
  }
  return name;
}

export function cellName(row, col) {
  return columnName(col) + String(row + 1);
}

export function parseCell(name) {
  const match = /^([A-Z]{1,3})([1-9][0-9]{0,6})$/.exec(name);
  if (!match) return null;
  let col = 0;
  for (const ch of match[1]) col = col * 26 + (ch.charCodeAt(0) - 64);
  return { row: Number(match[2]) - 1, col: col - 1 };
}
