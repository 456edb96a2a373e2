// SPDX-License-Identifier: AGPL-3.0-or-later
// A text box's text as a Y.Text (modules/docs/slides.py has the same form): each
// paragraph ends with "\n", whose attribute `bullet: true` marks a bulleted one; the
// characters carry their run's formatting as attributes (bold, italic, size, color,
// link). The page edits the box as contenteditable and writes what changed as the
// smallest Y.Text edit (insert/delete of the changed middle, format of the rest), so
// two officers typing into one box at once both keep their characters.
import * as Y from "yjs";

export const RUN_KEYS = ["bold", "italic", "size", "color", "link"];
export const DEFAULT_SIZE = 18;

// A run's formatting as the page shows it (the default size and black are no format).
export function runAttrs(source) {
  const kept = {};
  if (!source || typeof source !== "object") return kept;
  if (source.bold === true) kept.bold = true;
  if (source.italic === true) kept.italic = true;
  if (typeof source.size === "number" && source.size > 0 && source.size !== DEFAULT_SIZE) kept.size = source.size;
  if (typeof source.color === "string" && /^#[0-9a-f]{6}$/i.test(source.color) && source.color.toLowerCase() !== "#000000") {
    kept.color = source.color.toLowerCase();
  }
  if (typeof source.link === "string" && source.link) kept.link = source.link;
  return kept;
}

const keyOf = (attrs) => JSON.stringify(Object.keys(attrs).sort().map((k) => [k, attrs[k]]));

// Paragraphs of runs ([{bullet, runs: [{text, bold?, …}]}]) from a Y.Text.
export function paragraphsOf(ytext) {
  const paragraphs = [];
  let runs = [];
  for (const op of ytext.toDelta()) {
    if (typeof op.insert !== "string") continue;
    const parts = op.insert.split("\n");
    parts.forEach((part, number) => {
      if (part) {
        const run = { text: part, ...runAttrs(op.attributes) };
        const last = runs[runs.length - 1];
        if (last && RUN_KEYS.every((k) => last[k] === run[k])) last.text += part;
        else runs.push(run);
      }
      if (number < parts.length - 1) {
        paragraphs.push({ bullet: !!(op.attributes && op.attributes.bullet === true), runs });
        runs = [];
      }
    });
  }
  if (runs.length) paragraphs.push({ bullet: false, runs });
  return paragraphs;
}

// The flat form the diff works on: the text, and per UTF-16 unit its attributes
// (a newline's: only `bullet`).
export function flatOfParagraphs(paragraphs) {
  let text = "";
  const attrs = [];
  for (const p of Array.isArray(paragraphs) ? paragraphs : []) {
    for (const run of (p && Array.isArray(p.runs) ? p.runs : [])) {
      const value = typeof run.text === "string" ? run.text.replace(/\n/g, " ") : "";
      const a = runAttrs(run);
      text += value;
      for (let i = 0; i < value.length; i++) attrs.push(a);
    }
    text += "\n";
    attrs.push(p && p.bullet ? { bullet: true } : {});
  }
  return { text, attrs };
}

export function flatOfText(ytext) {
  let text = "";
  const attrs = [];
  for (const op of ytext.toDelta()) {
    if (typeof op.insert !== "string") continue;
    const run = runAttrs(op.attributes);
    const nl = op.attributes && op.attributes.bullet === true ? { bullet: true } : {};
    for (const ch of op.insert.split("")) attrs.push(ch === "\n" ? nl : run);
    text += op.insert;
  }
  return { text, attrs };
}

// Fill an empty Y.Text (new or in a document) with paragraphs of runs.
export function fillYText(ytext, paragraphs) {
  const flat = flatOfParagraphs(paragraphs);
  let index = 0;
  for (const [value, attrs] of groups(flat, 0, flat.text.length)) {
    ytext.insert(index, value, attrs);
    index += value.length;
  }
}

// A new Y.Text (not yet in a document) holding paragraphs.
export function newYText(paragraphs) {
  const ytext = new Y.Text();
  fillYText(ytext, paragraphs && paragraphs.length ? paragraphs : [{ bullet: false, runs: [] }]);
  return ytext;
}

function* groups(flat, from, to) {
  let start = from;
  for (let i = from + 1; i <= to; i++) {
    if (i === to || keyOf(flat.attrs[i]) !== keyOf(flat.attrs[start])) {
      yield [flat.text.slice(start, i), { ...flat.attrs[start] }];
      start = i;
    }
  }
}

// What formatting turns `from` into `to` (removed keys as null).
function change(from, to) {
  const found = {};
  for (const k of new Set([...Object.keys(from), ...Object.keys(to)])) {
    if (from[k] !== to[k]) found[k] = to[k] === undefined ? null : to[k];
  }
  return found;
}

// A position through a change (a Y event's delta): moved by what was inserted or
// deleted before it; an insert exactly at it leaves it where it is.
export function through(delta, index) {
  let pos = 0;
  let shift = 0;
  for (const op of delta) {
    if (pos >= index) break;
    if (op.retain) pos += op.retain;
    else if (op.delete) {
      shift -= Math.min(op.delete, index - pos);
      pos += op.delete;
    } else if (op.insert !== undefined) {
      shift += typeof op.insert === "string" ? op.insert.length : 1;
    }
  }
  return Math.max(0, index + shift);
}

// Write into `ytext` what turns `before` (what the page last showed of it) into
// `after` (what it shows now): one insert/delete of the changed middle and formats
// of the characters whose attributes changed. `remote`: changes that reached the
// Y.Text since `before` was read (while an input method was composing), which the
// edit's positions go through.
export function applyDiff(ytext, before, after, remote = []) {
  const a = before.text;
  const b = after.text;
  let prefix = 0;
  while (prefix < a.length && prefix < b.length && a[prefix] === b[prefix]) prefix++;
  let suffix = 0;
  while (suffix < a.length - prefix && suffix < b.length - prefix
    && a[a.length - 1 - suffix] === b[b.length - 1 - suffix]) suffix++;
  const map = (i) => remote.reduce((at, delta) => through(delta, at), i);
  const removed = a.length - prefix - suffix;
  const start = map(prefix);
  if (removed > 0) ytext.delete(start, Math.max(0, map(prefix + removed) - start));
  let at = start;
  for (const [value, attrs] of groups(after, prefix, b.length - suffix)) {
    ytext.insert(at, value, attrs);
    at += value.length;
  }
  // Formats of the unchanged characters, in the new text's positions.
  const formats = [];
  const note = (oldIndex, newIndex) => {
    const diff = change(before.attrs[oldIndex], after.attrs[newIndex]);
    if (!Object.keys(diff).length) return;
    const last = formats[formats.length - 1];
    if (last && last.old + last.length === oldIndex && keyOf(last.diff) === keyOf(diff)) last.length++;
    else formats.push({ old: oldIndex, length: 1, diff });
  };
  for (let i = 0; i < prefix; i++) note(i, i);
  for (let k = 0; k < suffix; k++) note(a.length - suffix + k, b.length - suffix + k);
  for (const f of formats) {
    // Old positions: through the remote changes, then the insert/delete above.
    const shift = f.old >= prefix + removed ? b.length - a.length : 0;
    const from = map(f.old + shift);
    const to = map(f.old + shift + f.length - 1) + 1;
    if (to > from) ytext.format(from, to - from, f.diff);
  }
}
