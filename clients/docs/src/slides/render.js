// SPDX-License-Identifier: AGPL-3.0-or-later
// Drawing a slide's elements as DOM on the 960 × 540 canvas (the editor, the slide
// sorter's thumbnails and the present mode use the same drawing), and reading a text
// box that was edited back into paragraphs of styled runs. Styles are set through the
// CSSOM (the page's CSP allows no inline style attributes).

import { fieldsOf } from "./model.js";
import { DEFAULT_SIZE, RUN_KEYS } from "./text.js";

// Images and files come from the authenticated media API: fetched with the token and
// shown from blob: URLs, kept for the page's life (one fetch per image).
const blobs = new Map();

export function mediaUrl(mxc) {
  const match = /^mxc:\/\/([^/]+)\/([^/?#]+)$/.exec(mxc || "");
  return match ? `/_matrix/client/v1/media/download/${encodeURIComponent(match[1])}/${encodeURIComponent(match[2])}` : null;
}

export function mediaBlob(session, mxc) {
  if (!blobs.has(mxc)) {
    const url = mediaUrl(mxc);
    blobs.set(mxc, !url ? Promise.reject(new Error("地址无效"))
      : fetch(url, { headers: { Authorization: `Bearer ${session.token}` } })
        .then((r) => (r.ok ? r.blob() : Promise.reject(new Error(`下载失败（${r.status}）`))))
        .then((blob) => ({ blob, url: URL.createObjectURL(blob) })));
    blobs.get(mxc).catch(() => blobs.delete(mxc));
  }
  return blobs.get(mxc);
}

export async function uploadMedia(session, file) {
  const response = await fetch(`/_matrix/media/v3/upload?filename=${encodeURIComponent(file.name)}`, {
    method: "POST",
    headers: { Authorization: `Bearer ${session.token}`, "Content-Type": file.type || "application/octet-stream" },
    body: file,
  });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(answer.error || `上传失败（${response.status}）`);
  return answer.content_uri;
}

export function place(node, fields) {
  node.style.left = `${Number(fields.x) || 0}px`;
  node.style.top = `${Number(fields.y) || 0}px`;
  node.style.width = `${Math.max(8, Number(fields.w) || 0)}px`;
  node.style.height = `${Math.max(8, Number(fields.h) || 0)}px`;
  node.style.zIndex = String(Math.round(Number(fields.z) || 0));
}

function runNode(run) {
  const span = document.createElement("span");
  span.textContent = run.text || "";
  if (run.bold) span.style.fontWeight = "bold";
  if (run.italic) span.style.fontStyle = "italic";
  if (typeof run.size === "number") span.style.fontSize = `${run.size}px`;
  if (typeof run.color === "string" && /^#[0-9a-f]{6}$/i.test(run.color)) span.style.color = run.color;
  if (typeof run.link === "string" && run.link) {
    span.className = "run-link";
    span.dataset.link = run.link;
    span.title = run.link;
  }
  return span;
}

// A text box's paragraphs as DOM: one div per paragraph (a bulleted one has the class
// "bullet"), one span per run.
export function fillText(box, paragraphs) {
  const nodes = (Array.isArray(paragraphs) ? paragraphs : []).map((p) => {
    const div = document.createElement("div");
    div.className = p && p.bullet ? "para bullet" : "para";
    const runs = p && Array.isArray(p.runs) ? p.runs.filter((r) => r && r.text) : [];
    if (runs.length) div.append(...runs.map(runNode));
    else div.append(document.createElement("br"));
    return div;
  });
  box.replaceChildren(...(nodes.length ? nodes : [fillText.empty()]));
}
fillText.empty = () => {
  const div = document.createElement("div");
  div.className = "para";
  div.append(document.createElement("br"));
  return div;
};

function hex(color) {
  const m = /rgba?\((\d+),\s*(\d+),\s*(\d+)/.exec(color || "");
  return m ? `#${[m[1], m[2], m[3]].map((n) => Number(n).toString(16).padStart(2, "0")).join("")}` : null;
}

// The edited box back into paragraphs: each block (div, p, li) is a paragraph (a line
// break starts another), each text node a run with the style it shows. `pieces`: in
// the text's order, each text node {node, start, length} and each paragraph's end
// {end: [node, offset], start} (its newline), to map the caret to a position.
export function readPieces(box) {
  const paragraphs = [];
  const pieces = [];
  let at = 0;
  let current = null;
  const start = (bullet) => {
    current = { bullet, runs: [] };
    paragraphs.push(current);
  };
  const end = (node, offset) => {
    pieces.push({ end: [node, offset], start: at });
    at += 1;
    current = null;
  };
  const walk = (node, bullet) => {
    for (const child of [...node.childNodes]) {
      if (child.nodeType === Node.TEXT_NODE) {
        if (!child.data) continue;
        if (!current) start(bullet);
        const parent = child.parentElement;
        const style = getComputedStyle(parent);
        const run = { text: child.data.replace(/\u00a0/g, " ").replace(/\n/g, " ") };
        if (Number(style.fontWeight) >= 600) run.bold = true;
        if (style.fontStyle === "italic") run.italic = true;
        const size = parseFloat(style.fontSize);
        if (size && size !== DEFAULT_SIZE) run.size = Math.round(size * 10) / 10;
        const color = hex(style.color);
        if (color && color !== "#000000") run.color = color;
        const link = parent.closest("[data-link]");
        if (link && box.contains(link)) run.link = link.dataset.link;
        pieces.push({ node: child, start: at, length: child.data.length });
        at += child.data.length;
        const last = current.runs[current.runs.length - 1];
        const same = last && RUN_KEYS.every((k) => last[k] === run[k]);
        if (same) last.text += run.text;
        else current.runs.push(run);
      } else if (child.nodeName === "BR") {
        if (!current) start(bullet);
        end(node, [...node.childNodes].indexOf(child));
      } else if (child.nodeType === Node.ELEMENT_NODE) {
        const block = ["DIV", "P", "LI", "UL", "OL"].includes(child.nodeName);
        const isBullet = bullet || child.nodeName === "LI" || child.classList.contains("bullet");
        if (block && child.nodeName !== "UL" && child.nodeName !== "OL") {
          if (current) end(node, [...node.childNodes].indexOf(child));
          start(isBullet);
          walk(child, isBullet);
          if (current) end(child, child.childNodes.length);
        } else {
          walk(child, isBullet);
        }
      }
    }
  };
  walk(box, false);
  if (current) end(box, box.childNodes.length);
  if (!paragraphs.length) {
    paragraphs.push({ bullet: false, runs: [] });
    pieces.push({ end: [box, 0], start: 0 });
  }
  return { paragraphs, pieces };
}

export function readText(box) {
  return readPieces(box).paragraphs;
}

function before(aNode, aOffset, bNode, bOffset) {
  const range = document.createRange();
  range.setStart(aNode, aOffset);
  range.collapse(true);
  return range.comparePoint(bNode, bOffset) > 0; // b is after a
}

// The text position of a DOM point in the box: what lies wholly before it counts.
export function indexAt(pieces, node, offset) {
  let index = 0;
  for (const piece of pieces) {
    if (piece.node === node) return piece.start + Math.min(offset, piece.length);
    const [endNode, endOffset] = piece.node ? [piece.node, piece.length] : piece.end;
    if (!before(endNode, endOffset, node, offset)) return index;
    index = piece.start + (piece.node ? piece.length : 1);
  }
  return index;
}

// The DOM point of a text position in the box.
export function pointAt(box, pieces, index) {
  for (const piece of pieces) {
    if (piece.node && index >= piece.start && index <= piece.start + piece.length) {
      return [piece.node, index - piece.start];
    }
    if (!piece.node && index <= piece.start) return piece.end;
  }
  return [box, box.childNodes.length];
}

// One element as DOM (without the editor's handles).
export function elementNode(session, fields, el) {
  const node = el("div", { class: `el el-${fields.type}` });
  place(node, fields);
  if (fields.type === "text") {
    const box = el("div", { class: "text-body" });
    fillText(box, fields.paragraphs);
    node.append(box);
  } else if (fields.type === "image") {
    const img = el("img", { alt: fields.name || "图片", draggable: "false" });
    mediaBlob(session, fields.src).then((b) => { img.src = b.url; }, () => { img.alt = "[图片无法加载]"; });
    node.append(img);
  } else if (fields.type === "table") {
    const rows = Array.isArray(fields.rows) ? fields.rows : [];
    node.append(el("table", {}, el("tbody", {}, ...rows.map((row, r) => el("tr", {},
      ...(Array.isArray(row) ? row : []).map((cell, c) => el("td", { "data-row": String(r), "data-col": String(c) },
        typeof cell === "string" ? cell : "")))))));
  } else if (fields.type === "link") {
    node.append(el("a", { href: safeUrl(fields.url), target: "_blank", rel: "noopener noreferrer", class: "link-card" },
      fields.text || fields.url || ""));
  } else if (fields.type === "file") {
    const size = typeof fields.size === "number" ? ` · ${fileSize(fields.size)}` : "";
    node.append(el("button", { type: "button", class: "file-card", "data-src": fields.src || "" },
      el("span", { class: "file-icon" }, "附件"), el("span", { class: "file-name" }, fields.name || "文件"),
      el("span", { class: "file-size" }, size)));
  }
  return node;
}

export function safeUrl(url) {
  return typeof url === "string" && /^(https?:|mailto:)/i.test(url) ? url : "#";
}

function fileSize(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

export async function downloadFile(session, fields) {
  const { blob } = await mediaBlob(session, fields.src);
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = fields.name || "文件";
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
}

// A whole slide, scaled into a frame (thumbnails, present mode).
export function slideNode(session, slide, elements, el, scale) {
  const canvas = el("div", { class: "slide-canvas" });
  canvas.style.background = slide.map.get("background") || "#ffffff";
  canvas.style.transform = `scale(${scale})`;
  for (const e of elements) canvas.append(elementNode(session, fieldsOf(e.map), el));
  return canvas;
}
