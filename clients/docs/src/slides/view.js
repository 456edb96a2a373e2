// SPDX-License-Identifier: AGPL-3.0-or-later
// One open deck: plain DOM over the Yjs document that y-websocket keeps in sync with
// the server (the same provider and protocol as the text and sheet editors). The slide
// sorter on the left (add, duplicate, delete, move up/down), the canvas of the current
// slide (select, move, resize; a double click edits a text box or a table's cell), the
// toolbar (insert a text box, image, table, link or file; bold, italic, size, colour,
// bullets; the slide's background), the notes under the canvas, and 放映 (present):
// full screen, arrow keys. Every officer's selected element is outlined in their
// colour with their name (awareness). Readers and commenters see the deck without
// the editing tools (the server refuses their updates anyway).
import { connect } from "../connection.js";
import {
  HEIGHT, WIDTH, addElement, addSlide, deleteElement, deleteSlide, elementMap, elementsOf,
  ensureText, fieldsOf, moveSlide, moveSlideTo, newTable, newTextBox, orderedSlides,
} from "./model.js";
import {
  downloadFile, elementNode, fillText, indexAt, place, pointAt, readPieces, safeUrl, slideNode, uploadMedia,
} from "./render.js";
import { applyDiff, flatOfParagraphs, flatOfText, paragraphsOf, through } from "./text.js";
import "./slides.css";

const LOCAL = "slides-page"; // the origin of this page's own edits
const SIZES = [12, 14, 16, 18, 20, 24, 28, 32, 40, 48, 60, 72];
const THUMB = 0.18;

export function openSlides(app, session, doc, el) {
  // The shared connection (../connection.js): sync, the header's status, presence.
  const link = connect(session, doc, el, {
    onSynced: () => {
      refresh();
      announce();
    },
    onClosed: () => {
      finishEditing();
      toolbar.replaceChildren(el("span", { class: "readonly-note" }, "只读"));
      sorterTools.replaceChildren();
      notes.readOnly = true;
    },
    onPeople: () => {
      if (!editing) drawCanvas();
      drawSorter(slides());
    },
  });
  const { ydoc, provider, people } = link;
  const writable = () => link.writable;
  const presentButton = el("button", { type: "button", class: "present-start" }, "放映");
  const exportButton = el("button", { type: "button", class: "export" }, "导出 PPT");
  const sorter = el("ol", { class: "sorter", "aria-label": "幻灯片" });
  const sorterTools = el("div", { class: "sorter-tools" });
  const canvas = el("div", { class: "slide-canvas editing", tabindex: "0" });
  const viewport = el("div", { class: "viewport" }, canvas);
  const notes = el("textarea", { class: "notes", placeholder: "备注（放映时不显示）", "aria-label": "备注" });
  const toolbar = el("div", { class: "slide-toolbar", role: "toolbar" });
  const imageInput = el("input", { type: "file", accept: "image/*", class: "hidden-input", "aria-label": "选择图片" });
  const fileInput = el("input", { type: "file", class: "hidden-input", "aria-label": "选择文件" });
  const message = el("span", { class: "slide-message", role: "status" });
  app.replaceChildren(
    link.header(presentButton, exportButton),
    el("main", { class: "slides" },
      el("aside", { class: "sorter-wrap" }, sorterTools, sorter),
      el("section", { class: "stage" }, toolbar, viewport, notes, people),
      imageInput, fileInput),
  );

  let slideId = null;
  let selectedId = null;
  let editing = null; // {id, node, kind: "text"|"cell"}
  let scale = 1;
  let presenting = null;
  let dragging = false; // the canvas is not redrawn under a moving element
  let missed = false; // a redraw skipped while dragging
  let sorting = null; // the id of the slide being dragged in the sorter

  const slides = () => orderedSlides(ydoc);
  const current = () => slides().find((s) => s.id === slideId);
  const selectedMap = () => (selectedId ? elementMap(current(), selectedId) : undefined);
  const say = (text) => { message.textContent = text; };

  function announce() {
    provider.awareness.setLocalStateField("slide", { slide: slideId, element: selectedId });
  }

  function selectSlide(id) {
    finishEditing();
    slideId = id;
    selectedId = null;
    announce();
    refresh();
  }

  function selectElement(id) {
    if (selectedId === id) return;
    finishEditing();
    selectedId = id;
    announce();
    drawCanvas();
  }

  // Drawing

  function refresh() {
    const all = slides();
    if (!all.some((s) => s.id === slideId)) {
      slideId = all.length ? all[0].id : null;
      selectedId = null;
      announce();
    }
    drawSorter(all);
    drawCanvas();
    drawTools();
    const slide = current();
    if (document.activeElement !== notes) notes.value = slide ? slide.map.get("notes") || "" : "";
    if (presenting) presenting.draw();
  }

  function peersByPlace() {
    const found = [];
    provider.awareness.getStates().forEach((state, clientId) => {
      if (clientId === ydoc.clientID || !state.user || !state.slide) return;
      found.push({ user: state.user, slide: state.slide.slide, element: state.slide.element });
    });
    return found;
  }

  function drawSorter(all) {
    if (sorting) return; // not under a slide being dragged: drawn when it is dropped
    const peers = peersByPlace();
    sorter.replaceChildren(...all.map((slide, index) => {
      const frame = el("div", { class: "thumb" }, slideNode(session, slide, elementsOf(slide), el, THUMB));
      const here = peers.filter((p) => p.slide === slide.id).map((p) => p.user.name);
      const item = el("li", {
        class: slide.id === slideId ? "active" : "", "data-slide": slide.id, "data-index": String(index + 1),
      }, el("span", { class: "number" }, String(index + 1)), frame,
      here.length ? el("span", { class: "thumb-peers" }, here.join("、")) : "");
      item.addEventListener("click", () => selectSlide(slide.id));
      if (writable()) item.draggable = true;
      return item;
    }));
  }

  // Dragging a slide in the sorter to another place: dropped on a slide, it takes that
  // slide's place (one `order` change, as ↑/↓ make).
  sorter.addEventListener("dragstart", (ev) => {
    const item = ev.target.closest && ev.target.closest("li[data-slide]");
    if (!item || !writable()) return;
    sorting = item.dataset.slide;
    ev.dataTransfer.effectAllowed = "move";
    ev.dataTransfer.setData("text/plain", sorting);
    item.classList.add("dragging");
  });
  const dropTarget = (ev) => (sorting && ev.target.closest ? ev.target.closest("li[data-slide]") : null);
  sorter.addEventListener("dragover", (ev) => {
    const item = dropTarget(ev);
    if (!item) return;
    ev.preventDefault();
    ev.dataTransfer.dropEffect = "move";
    for (const other of sorter.querySelectorAll("li.drop-here")) if (other !== item) other.classList.remove("drop-here");
    item.classList.add("drop-here");
  });
  sorter.addEventListener("drop", (ev) => {
    const item = dropTarget(ev);
    if (!item) return;
    ev.preventDefault();
    const moved = sorting;
    sorting = null;
    moveSlideTo(ydoc, moved, Number(item.dataset.index) - 1);
    selectSlide(moved);
  });
  sorter.addEventListener("dragend", () => {
    if (!sorting) return;
    sorting = null;
    drawSorter(slides());
  });

  function drawCanvas() {
    if (dragging) {
      missed = true;
      return;
    }
    missed = false;
    const slide = current();
    canvas.style.background = slide ? slide.map.get("background") || "#ffffff" : "#ffffff";
    const keep = editing && editing.node;
    const nodes = [];
    for (const e of slide ? elementsOf(slide) : []) {
      const fields = fieldsOf(e.map);
      let node;
      if (keep && editing.id === e.id) {
        node = keep;
        for (const extra of node.querySelectorAll(":scope > .handle, :scope > .peer-label")) extra.remove();
        node.classList.remove("peer");
        place(node, fields);
      } else {
        node = elementNode(session, fields, el);
      }
      node.dataset.id = e.id;
      if (e.id === selectedId) {
        node.classList.add("selected");
        if (writable()) node.append(el("span", { class: "handle", "data-handle": "resize", title: "拖动改变大小" }));
      }
      nodes.push(node);
    }
    for (const peer of peersByPlace()) {
      if (peer.slide !== slideId || !peer.element) continue;
      const node = nodes.find((n) => n.dataset.id === peer.element);
      if (!node) continue;
      node.classList.add("peer");
      node.style.outlineColor = peer.user.color;
      const label = el("span", { class: "peer-label" }, peer.user.name);
      label.style.backgroundColor = peer.user.color;
      node.dataset.peer = peer.user.name;
      node.append(label);
    }
    // The box being edited stays in the page (moving it would take its focus away).
    for (const child of [...canvas.children]) if (child !== keep) child.remove();
    if (keep && !nodes.includes(keep)) { // deleted by someone else meanwhile
      keep.remove();
      if (editing.observer) editing.text.unobserve(editing.observer);
      editing = null;
    }
    for (const node of nodes) if (node !== keep) canvas.append(node);
    fit();
  }

  function fit() {
    const width = viewport.clientWidth || WIDTH;
    scale = Math.min(1.2, Math.max(0.2, (width - 4) / WIDTH));
    canvas.style.transform = `scale(${scale})`;
    viewport.style.height = `${HEIGHT * scale + 4}px`;
  }

  // The toolbar

  const button = (label, title, action, attrs = {}) => {
    const b = el("button", { type: "button", title, ...attrs }, label);
    b.addEventListener("mousedown", (ev) => ev.preventDefault()); // keep the text selection
    b.addEventListener("click", action);
    return b;
  };
  const sizeSelect = el("select", { class: "font-size", "aria-label": "字号" },
    el("option", { value: "" }, "字号"), ...SIZES.map((n) => el("option", { value: String(n) }, String(n))));
  const colorInput = el("input", { type: "color", class: "font-color", value: "#c00000", "aria-label": "文字颜色" });
  const backgroundInput = el("input", { type: "color", class: "background", value: "#ffffff", "aria-label": "背景颜色" });

  function drawTools() {
    const slide = current();
    if (slide && document.activeElement !== backgroundInput) backgroundInput.value = slide.map.get("background") || "#ffffff";
  }

  if (writable()) {
    toolbar.append(
      button("文本框", "插入文本框", () => insertText(), { class: "insert-text" }),
      button("图片", "插入图片", () => imageInput.click(), { class: "insert-image" }),
      button("表格", "插入表格", () => insertTable(), { class: "insert-table" }),
      button("链接", "插入链接", () => insertLink(), { class: "insert-link" }),
      button("文件", "插入附件", () => fileInput.click(), { class: "insert-file" }),
      el("span", { class: "sep" }),
      button("B", "粗体", () => format("bold"), { class: "bold" }),
      button("I", "斜体", () => format("italic"), { class: "italic" }),
      sizeSelect, colorInput,
      button("• 列表", "项目符号", () => format("bullet"), { class: "bullets" }),
      el("span", { class: "sep" }),
      el("label", { class: "background-label" }, "背景 ", backgroundInput),
      button("删除元素", "删除选中的元素", () => removeSelected(), { class: "delete-element" }),
      message,
    );
    sorterTools.append(
      button("＋", "新建幻灯片", () => selectSlide(addSlide(ydoc, slideId)), { class: "slide-add" }),
      button("复制", "复制幻灯片", () => current() && selectSlide(addSlide(ydoc, slideId, current())), { class: "slide-copy" }),
      button("删除", "删除幻灯片", () => {
        if (slides().length > 1 && slideId) deleteSlide(ydoc, slideId);
      }, { class: "slide-delete" }),
      button("↑", "上移", () => slideId && moveSlide(ydoc, slideId, -1), { class: "slide-up" }),
      button("↓", "下移", () => slideId && moveSlide(ydoc, slideId, 1), { class: "slide-down" }),
    );
  } else {
    toolbar.append(el("span", { class: "readonly-note" }, "只读"));
    notes.readOnly = true;
  }
  sizeSelect.addEventListener("change", () => {
    if (sizeSelect.value) format("size", Number(sizeSelect.value));
    sizeSelect.value = "";
  });
  colorInput.addEventListener("change", () => format("color", colorInput.value));
  backgroundInput.addEventListener("change", () => {
    const slide = current();
    if (slide && writable()) slide.map.set("background", backgroundInput.value);
  });
  notes.addEventListener("input", () => {
    const slide = current();
    if (slide && writable()) slide.map.set("notes", notes.value);
  });

  function insertText() {
    const slide = current();
    if (!slide) return;
    const id = addElement(slide, newTextBox());
    selectedId = id;
    announce();
    drawCanvas();
    startEditing(id);
  }

  function insertTable() {
    const slide = current();
    const answer = window.prompt("表格大小（行×列）", "3×3");
    const match = /^\s*(\d+)\s*[x×*]\s*(\d+)\s*$/i.exec(answer || "");
    if (!slide || !match) return;
    const rows = Math.min(30, Math.max(1, Number(match[1])));
    const cols = Math.min(12, Math.max(1, Number(match[2])));
    selectElement(addElement(slide, newTable(rows, cols)));
  }

  function insertLink() {
    const slide = current();
    const address = window.prompt("链接地址", "https://");
    if (!slide || !address || safeUrl(address.trim()) === "#") return;
    const text = window.prompt("显示的文字", address.trim()) || address.trim();
    selectElement(addElement(slide, { type: "link", x: 300, y: 240, w: 360, h: 48, url: address.trim(), text }));
  }

  async function insertMedia(input, kind) {
    const file = input.files && input.files[0];
    input.value = "";
    const slide = current();
    if (!file || !slide) return;
    say("上传中…");
    try {
      const src = await uploadMedia(session, file);
      let fields = { type: "file", x: 300, y: 230, w: 360, h: 64, src, name: file.name, size: file.size, mime: file.type };
      if (kind === "image") {
        const size = await imageSize(file);
        const w = Math.min(640, size.w || 480);
        const h = size.w ? Math.min(440, (w * size.h) / size.w) : 300;
        fields = { type: "image", x: (WIDTH - w) / 2, y: (HEIGHT - h) / 2, w, h, src, name: file.name };
      }
      selectElement(addElement(slide, fields));
      say("");
    } catch (e) {
      say(e.message || "上传失败");
    }
  }
  imageInput.addEventListener("change", () => insertMedia(imageInput, "image"));
  fileInput.addEventListener("change", () => insertMedia(fileInput, "file"));

  function removeSelected() {
    const slide = current();
    if (!slide || !selectedId) return;
    finishEditing();
    deleteElement(slide, selectedId);
    selectedId = null;
    announce();
  }

  // Formatting: inside a text box being edited, the selected text (the browser's
  // editing commands, then read back); a selected box not being edited: all its text.
  function format(what, value) {
    const map = selectedMap();
    if (!map || map.get("type") !== "text" || !writable()) return;
    if (editing && editing.id === selectedId && editing.kind === "text") {
      const box = editing.box;
      if (document.activeElement !== box) { // the size list or colour took the focus
        box.focus();
        if (savedRange) {
          window.getSelection().removeAllRanges();
          window.getSelection().addRange(savedRange);
        }
      }
      document.execCommand("styleWithCSS", false, false);
      if (what === "bold" || what === "italic") document.execCommand(what);
      else if (what === "color") document.execCommand("foreColor", false, value);
      else if (what === "size") {
        document.execCommand("fontSize", false, "7");
        for (const font of box.querySelectorAll("font[size='7']")) {
          font.removeAttribute("size");
          font.style.fontSize = `${value}px`;
        }
      } else if (what === "bullet") toggleBullets(box);
      commitText();
      return;
    }
    const text = ensureText(map);
    const flat = flatOfText(text);
    const chars = flat.text.split("").map((ch, i) => [ch, flat.attrs[i]]);
    const letters = chars.filter(([ch]) => ch !== "\n");
    ydoc.transact(() => {
      if (what === "bullet") {
        const on = !chars.every(([ch, a]) => ch !== "\n" || a.bullet);
        chars.forEach(([ch], i) => { if (ch === "\n") text.format(i, 1, { bullet: on ? true : null }); });
      } else if (what === "bold" || what === "italic") {
        const on = !letters.every(([, a]) => a[what]);
        text.format(0, text.length, { [what]: on ? true : null });
      } else {
        text.format(0, text.length, { [what]: value });
      }
    }, LOCAL);
  }

  function toggleBullets(box) {
    const selection = window.getSelection();
    const blocks = [...box.querySelectorAll(".para, div, p")].filter((b) => b.parentElement === box);
    const chosen = blocks.filter((b) => selection.rangeCount && selection.getRangeAt(0).intersectsNode(b));
    const targets = chosen.length ? chosen : blocks;
    const on = !targets.every((b) => b.classList.contains("bullet"));
    for (const b of targets) b.classList.toggle("bullet", on);
  }

  // Text and table editing

  // The text selected in the box being edited, kept for the toolbar's size list and
  // colour, which take the focus.
  let savedRange = null;
  const keepSelection = () => {
    const selection = window.getSelection();
    if (editing && editing.kind === "text" && selection.rangeCount && editing.box.contains(selection.anchorNode)) {
      savedRange = selection.getRangeAt(0).cloneRange();
    }
  };
  document.addEventListener("selectionchange", keepSelection);

  function startEditing(id, cell) {
    if (!writable()) return;
    const node = canvas.querySelector(`.el[data-id="${id}"]`);
    if (!node) return;
    finishEditing();
    if (cell) {
      cell.contentEditable = "true";
      editing = { id, node, kind: "cell", box: cell };
      cell.addEventListener("input", commitCell);
      cell.addEventListener("blur", () => finishEditing(), { once: true });
      cell.focus();
      return;
    }
    const box = node.querySelector(".text-body");
    const map = elementMap(current(), id);
    const text = ensureText(map);
    if (!text) return;
    fillText(box, paragraphsOf(text));
    box.contentEditable = "true";
    editing = { id, node, kind: "text", box, text, shown: flatOfText(text), remote: [], composing: false };
    // Another officer's typing in this box: drawn at once, the caret kept in place
    // (while an input method composes, after it).
    editing.observer = (event, transaction) => {
      if (transaction.origin === LOCAL || !editing || editing.text !== text) return;
      if (editing.composing) editing.remote.push(event.delta);
      else redrawText([event.delta]);
    };
    text.observe(editing.observer);
    box.addEventListener("input", commitText);
    box.addEventListener("compositionstart", () => { if (editing && editing.box === box) editing.composing = true; });
    box.addEventListener("compositionend", () => {
      if (!editing || editing.box !== box) return;
      editing.composing = false;
      commitText();
    });
    box.addEventListener("blur", () => setTimeout(() => {
      const away = document.activeElement !== box && !toolbar.contains(document.activeElement);
      if (editing && editing.box === box && away) finishEditing();
    }, 0));
    box.focus();
    // The caret at the end of the text (before the last paragraph's newline).
    const range = document.createRange();
    const end = pointAt(box, readPieces(box).pieces, Math.max(0, editing.shown.text.length - 1));
    range.setStart(...end);
    range.collapse(true);
    window.getSelection().removeAllRanges();
    window.getSelection().addRange(range);
  }

  // What the officer typed or formatted, written into the box's Y.Text as the
  // difference from what the box showed (./text.js applyDiff).
  function commitText() {
    if (!editing || editing.kind !== "text" || editing.composing) return;
    const { box, text } = editing;
    const read = readPieces(box);
    const now = flatOfParagraphs(read.paragraphs);
    const remote = editing.remote;
    editing.remote = [];
    ydoc.transact(() => applyDiff(text, editing.shown, now, remote), LOCAL);
    if (remote.length) redrawText(remote);
    else editing.shown = flatOfText(text);
  }

  // The box drawn again from its Y.Text, the selection moved through `deltas`.
  function redrawText(deltas) {
    const { box, text } = editing;
    const selection = window.getSelection();
    const inBox = document.activeElement === box && selection.rangeCount && box.contains(selection.anchorNode);
    const range = inBox ? selection.getRangeAt(0) : savedRange;
    let marks = null;
    if (range && box.contains(range.startContainer)) {
      const { pieces } = readPieces(box);
      const move = (i) => deltas.reduce((at, delta) => through(delta, at), i);
      marks = [indexAt(pieces, range.startContainer, range.startOffset), indexAt(pieces, range.endContainer, range.endOffset)].map(move);
    }
    fillText(box, paragraphsOf(text));
    editing.shown = flatOfText(text);
    if (!marks) return;
    const { pieces } = readPieces(box);
    const moved = document.createRange();
    moved.setStart(...pointAt(box, pieces, marks[0]));
    moved.setEnd(...pointAt(box, pieces, marks[1]));
    if (inBox) {
      selection.removeAllRanges();
      selection.addRange(moved);
    } else {
      savedRange = moved;
    }
  }

  function commitCell() {
    if (!editing || editing.kind !== "cell") return;
    const map = elementMap(current(), editing.id);
    if (!map) return;
    const rows = JSON.parse(JSON.stringify(map.get("rows") || []));
    const r = Number(editing.box.dataset.row);
    const c = Number(editing.box.dataset.col);
    if (rows[r] && c < rows[r].length) {
      rows[r][c] = editing.box.textContent;
      map.set("rows", rows);
    }
  }

  function finishEditing() {
    if (!editing) return;
    const was = editing;
    if (was.kind === "text") {
      was.composing = false;
      commitText();
      was.text.unobserve(was.observer);
    } else commitCell();
    editing = null;
    savedRange = null;
    was.box.contentEditable = "false";
    drawCanvas();
  }

  // Moving and resizing on the canvas

  canvas.addEventListener("mousedown", (ev) => {
    const node = ev.target.closest(".el");
    if (!node) {
      finishEditing();
      if (selectedId) {
        selectedId = null;
        announce();
        drawCanvas();
      }
      return;
    }
    const id = node.dataset.id;
    if (editing && editing.id === id) return; // typing or selecting text inside
    const fileCard = ev.target.closest(".file-card");
    if (fileCard && !writable()) return;
    selectElement(id);
    if (!writable()) return;
    ev.preventDefault();
    canvas.focus({ preventScroll: true });
    const map = elementMap(current(), id);
    const live = canvas.querySelector(`.el[data-id="${id}"]`);
    if (!map || !live) return;
    const resizing = ev.target.dataset && ev.target.dataset.handle === "resize";
    const start = { x: ev.clientX, y: ev.clientY, fields: map.toJSON() };
    let moved = null;
    dragging = true;
    const onMove = (mv) => {
      const dx = (mv.clientX - start.x) / scale;
      const dy = (mv.clientY - start.y) / scale;
      const f = start.fields;
      moved = resizing
        ? { w: Math.round(Math.max(16, f.w + dx)), h: Math.round(Math.max(16, f.h + dy)) }
        : { x: Math.round(Math.min(WIDTH - 8, Math.max(8 - f.w, f.x + dx))), y: Math.round(Math.min(HEIGHT - 8, Math.max(8 - f.h, f.y + dy))) };
      place(live, { ...f, ...moved });
    };
    const onUp = () => {
      window.removeEventListener("mousemove", onMove);
      window.removeEventListener("mouseup", onUp);
      dragging = false;
      // (A click that moved nothing redraws only what changed meanwhile: replacing
      // the node under the mouse would lose a double click's second half.)
      if (!moved && missed) drawCanvas();
      if (moved) ydoc.transact(() => { for (const [k, v] of Object.entries(moved)) map.set(k, v); });
    };
    window.addEventListener("mousemove", onMove);
    window.addEventListener("mouseup", onUp);
  });
  canvas.addEventListener("dblclick", (ev) => {
    const node = ev.target.closest(".el");
    if (!node || !writable()) return;
    const cell = ev.target.closest("td");
    if (node.classList.contains("el-text")) startEditing(node.dataset.id);
    else if (cell) startEditing(node.dataset.id, cell);
  });
  canvas.addEventListener("click", (ev) => {
    const anchor = ev.target.closest("a.link-card");
    if (anchor && writable() && !ev.ctrlKey) ev.preventDefault(); // editors select; Ctrl+click opens
    const card = ev.target.closest(".file-card");
    const node = ev.target.closest(".el");
    if (card && node && (!writable() || ev.detail === 2)) {
      const map = elementMap(current(), node.dataset.id);
      if (map) downloadFile(session, map.toJSON()).catch((e) => say(e.message));
    }
  });
  canvas.addEventListener("keydown", (ev) => {
    if (editing) {
      if (ev.key === "Escape") {
        finishEditing();
        canvas.focus();
      }
      return;
    }
    if ((ev.key === "Delete" || ev.key === "Backspace") && selectedId && writable()) {
      ev.preventDefault();
      removeSelected();
    } else if (ev.key === "Enter" && selectedId && writable()) {
      ev.preventDefault();
      startEditing(selectedId);
    }
  });

  // 放映: the deck full screen, one slide at a time.
  function present() {
    finishEditing();
    const layer = el("div", { class: "present", tabindex: "0", role: "dialog", "aria-label": "放映" });
    const counter = el("span", { class: "present-counter" });
    let index = Math.max(0, slides().findIndex((s) => s.id === slideId));
    const draw = () => {
      const all = slides();
      index = Math.min(index, all.length - 1);
      const slide = all[index];
      if (!slide) return;
      const s = Math.min(window.innerWidth / WIDTH, window.innerHeight / HEIGHT);
      const frame = el("div", { class: "present-frame", "data-index": String(index + 1) },
        slideNode(session, slide, elementsOf(slide), el, s));
      frame.style.width = `${WIDTH * s}px`;
      frame.style.height = `${HEIGHT * s}px`;
      counter.textContent = `${index + 1} / ${all.length}`;
      layer.replaceChildren(frame, counter);
    };
    const left = () => {
      if (!document.fullscreenElement) close();
    };
    const close = () => {
      layer.remove();
      window.removeEventListener("resize", draw);
      document.removeEventListener("fullscreenchange", left);
      presenting = null;
      if (document.fullscreenElement) document.exitFullscreen().catch(() => {});
    };
    layer.addEventListener("keydown", (ev) => {
      const all = slides();
      if (["ArrowRight", "ArrowDown", "PageDown", " ", "Enter"].includes(ev.key)) index = Math.min(all.length - 1, index + 1);
      else if (["ArrowLeft", "ArrowUp", "PageUp", "Backspace"].includes(ev.key)) index = Math.max(0, index - 1);
      else if (ev.key === "Home") index = 0;
      else if (ev.key === "End") index = all.length - 1;
      else if (ev.key === "Escape") return close();
      else return undefined;
      ev.preventDefault();
      return draw();
    });
    layer.addEventListener("click", (ev) => {
      const card = ev.target.closest(".file-card");
      if (!card) return;
      const slide = slides()[index];
      const node = ev.target.closest(".el");
      const element = slide && node && elementsOf(slide)[[...node.parentElement.children].indexOf(node)];
      if (element) downloadFile(session, element.map.toJSON()).catch(() => {});
    });
    document.addEventListener("fullscreenchange", left);
    window.addEventListener("resize", draw);
    document.body.append(layer);
    presenting = { draw };
    draw();
    layer.focus();
    if (layer.requestFullscreen) layer.requestFullscreen().catch(() => {}); // not in every browser
  }
  presentButton.addEventListener("click", present);
  exportButton.addEventListener("click", () => downloadPptx(session, doc));

  // Changes are drawn once per frame.
  let pending = false;
  const schedule = () => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      refresh();
    });
  };
  ydoc.getMap("slides").observeDeep(schedule);
  window.addEventListener("resize", fit);

  refresh();
  return () => {
    if (presenting) document.querySelector(".present")?.remove();
    window.removeEventListener("resize", fit);
    document.removeEventListener("selectionchange", keepSelection);
    link.close();
  };
}

function imageSize(file) {
  return new Promise((resolve) => {
    const img = new Image();
    const url = URL.createObjectURL(file);
    img.onload = () => {
      resolve({ w: img.naturalWidth, h: img.naturalHeight });
      URL.revokeObjectURL(url);
    };
    img.onerror = () => {
      resolve({ w: 0, h: 0 });
      URL.revokeObjectURL(url);
    };
    img.src = url;
  });
}

async function downloadPptx(session, doc) {
  const response = await fetch(`/_jwwx/client/v1/docs/${encodeURIComponent(doc.doc_id)}/export?format=pptx`, {
    headers: { Authorization: `Bearer ${session.token}` },
  });
  if (!response.ok) return;
  const link = document.createElement("a");
  link.href = URL.createObjectURL(await response.blob());
  link.download = `${doc.title}.pptx`;
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 10000);
}
