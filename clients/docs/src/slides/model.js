// SPDX-License-Identifier: AGPL-3.0-or-later
// A deck in its Yjs document (modules/docs/slides.py has the same structure): the root
// map "slides" holds per slide id a Y.Map {order, background, notes, elements}, and
// "elements" per element id a Y.Map {type, x, y, w, h, z, …} on a 960 × 540 canvas;
// a text box's text is a Y.Text under "text" (./text.js).
// Slides are ordered by `order`: moving one between two others gives it the mean of
// theirs, so a reorder is one key's change and never copies a slide.
import * as Y from "yjs";
import { newYText, paragraphsOf } from "./text.js";

export const WIDTH = 960;
export const HEIGHT = 540;

const newId = (prefix) => `${prefix}${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;

export function orderedSlides(ydoc) {
  const found = [];
  ydoc.getMap("slides").forEach((map, id) => {
    if (!(map instanceof Y.Map)) return;
    const order = map.get("order");
    found.push({ id, map, order: typeof order === "number" ? order : 0 });
  });
  found.sort((a, b) => a.order - b.order || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return found;
}

export function elementsOf(slide) {
  const elements = slide.map.get("elements");
  const found = [];
  if (!(elements instanceof Y.Map)) return found;
  elements.forEach((map, id) => {
    if (map instanceof Y.Map) found.push({ id, map, z: Number(map.get("z")) || 0 });
  });
  found.sort((a, b) => a.z - b.z || (a.id < b.id ? -1 : 1));
  return found;
}

// A new slide after `afterId` (or at the end), optionally a copy of a slide's content.
export function addSlide(ydoc, afterId, copyOf) {
  const slides = orderedSlides(ydoc);
  const at = afterId ? slides.findIndex((s) => s.id === afterId) : slides.length - 1;
  const before = at >= 0 ? slides[at].order : 0;
  const after = at + 1 < slides.length ? slides[at + 1].order : before + 2;
  const id = newId("p");
  ydoc.transact(() => {
    const elements = new Y.Map();
    const map = new Y.Map();
    map.set("order", (before + after) / 2);
    map.set("background", copyOf ? copyOf.map.get("background") || "#ffffff" : "#ffffff");
    map.set("notes", copyOf ? copyOf.map.get("notes") || "" : "");
    map.set("elements", elements);
    ydoc.getMap("slides").set(id, map);
    if (copyOf) {
      for (const e of elementsOf(copyOf)) elements.set(newId("e"), copyElement(e.map));
    }
  });
  return id;
}

export function deleteSlide(ydoc, id) {
  ydoc.getMap("slides").delete(id);
}

// Move a slide one place up (-1) or down (+1).
export function moveSlide(ydoc, id, step) {
  const slides = orderedSlides(ydoc);
  const i = slides.findIndex((s) => s.id === id);
  const j = i + step;
  if (i < 0 || j < 0 || j >= slides.length) return;
  // Between the neighbour and the one beyond it.
  const beyond = slides[j + step];
  const edge = beyond ? beyond.order : slides[j].order + step * 2;
  slides[i].map.set("order", (slides[j].order + edge) / 2);
}

// Move a slide to position `index` (0-based) of the deck: between the slides that
// will be its neighbours there.
export function moveSlideTo(ydoc, id, index) {
  const all = orderedSlides(ydoc);
  const moving = all.find((s) => s.id === id);
  if (!moving) return;
  const others = all.filter((s) => s.id !== id);
  const at = Math.max(0, Math.min(index, others.length));
  const before = others[at - 1];
  const after = others[at];
  if (before && after) moving.map.set("order", (before.order + after.order) / 2);
  else if (before) moving.map.set("order", before.order + 1);
  else if (after) moving.map.set("order", after.order - 1);
}

export function addElement(slide, fields) {
  const elements = slide.map.get("elements");
  const top = Math.max(0, ...elementsOf(slide).map((e) => e.z));
  const id = newId("e");
  elements.set(id, new Y.Map(Object.entries({ ...fields, z: top + 1 })));
  return id;
}

export function deleteElement(slide, id) {
  slide.map.get("elements").delete(id);
}

export function elementMap(slide, id) {
  const elements = slide && slide.map.get("elements");
  return elements instanceof Y.Map ? elements.get(id) : undefined;
}

export function newTextBox() {
  return { type: "text", x: 180, y: 200, w: 600, h: 120, text: newYText([]) };
}

// The box's Y.Text (null for a box of a deck not yet upgraded: JSON paragraphs).
export function textOf(map) {
  const text = map && map.get("type") === "text" ? map.get("text") : null;
  return text instanceof Y.Text ? text : null;
}

// An element's fields to draw: a text box's paragraphs read from its Y.Text.
export function fieldsOf(map) {
  const fields = map.toJSON();
  if (fields.type === "text") {
    const text = textOf(map);
    if (text) fields.paragraphs = paragraphsOf(text);
    delete fields.text;
  }
  return fields;
}

// A new element map with the same content (a text box's Y.Text copied).
export function copyElement(map) {
  const fields = fieldsOf(map);
  if (fields.type === "text") {
    fields.text = newYText(fields.paragraphs);
    delete fields.paragraphs;
  }
  return new Y.Map(Object.entries(fields));
}

// A box still holding JSON paragraphs gets its Y.Text (the server does this when an
// editor opens the deck: modules/docs/slides.py upgrade; this is for a box added
// since by an older page).
export function ensureText(map) {
  let text = textOf(map);
  if (!text && map && map.get("type") === "text") {
    text = newYText(map.get("paragraphs") || []);
    map.doc.transact(() => {
      map.set("text", text);
      map.delete("paragraphs");
    });
  }
  return text;
}

export function newTable(rows, cols) {
  return {
    type: "table", x: 120, y: 140, w: 720, h: 40 * rows,
    rows: Array.from({ length: rows }, () => Array.from({ length: cols }, () => "")),
  };
}
