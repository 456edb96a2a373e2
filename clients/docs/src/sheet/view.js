// SPDX-License-Identifier: AGPL-3.0-or-later
// One open spreadsheet: a grid over the Yjs document that y-websocket keeps in sync
// with the server (the same provider and protocol as the text editor). Only the rows in
// view are in the page, so a large sheet opens as fast as a small one; values are
// computed lazily for what is shown. The formula bar shows the selected cell's formula;
// sheets are tabs. Every officer's selected cell is shown to the others (awareness).
// Readers and commenters see the sheet without an editor (the server refuses their
// updates anyway).
import * as Y from "yjs";
import { WebsocketProvider } from "y-websocket";
import { cellName, columnName, parseCell } from "./cells.js";
import { display, parseInput } from "./engine.js";
import { addSheet, computation, extentOf, orderedSheets, setCell } from "./model.js";

const CLOSED = { 4403: "只读：此文档不接受你的修改", 4410: "文档已被删除", 4400: "连接出错，请刷新页面" };
const COLORS = ["#c0392b", "#2471a3", "#1e8449", "#b9770e", "#7d3c98", "#117a65"];
const ROLE_NAMES = { owner: "所有者", editor: "可编辑", commenter: "可评论", reader: "只读" };
const ROW_HEIGHT = 24; // style.css .grid td
const MIN_ROWS = 200;
const MIN_COLS = 26;

// What the officer typed is what the cell holds already (a formula's cached value aside).
function sameEntry(input, old) {
  if (!input || !old) return !input && !old;
  if (typeof old.f === "string") return input.f === old.f;
  return input.f === undefined && input.v === old.v;
}

function colorOf(userId) {
  let h = 0;
  for (const ch of userId) h = (h * 31 + ch.codePointAt(0)) >>> 0;
  return COLORS[h % COLORS.length];
}

export function openSheet(app, session, doc, el) {
  performance.mark("sheet-open"); // benchmarks/sheet_open.py reads these marks
  const ydoc = new Y.Doc();
  const url = doc.websocket_url;
  const base = url.slice(0, url.length - doc.doc_id.length - 1);
  const provider = new WebsocketProvider(base, doc.doc_id, ydoc, {
    params: { access_token: session.token },
    disableBc: true,
    shouldReconnect: (event) => !(event.code in CLOSED),
  });
  let writable = doc.role === "owner" || doc.role === "editor";
  const status = el("span", { class: "status", "data-status": "connecting" }, "连接中…");
  const people = el("ul", { class: "people", "aria-label": "正在查看的人" });
  const nameBox = el("span", { class: "name-box" }, "A1");
  const bar = el("input", { class: "formula-bar", "aria-label": "编辑栏", spellcheck: "false" });
  const grid = el("div", { class: "grid", tabindex: "0" });
  const tabs = el("nav", { class: "sheet-tabs", "aria-label": "工作表" });
  app.replaceChildren(
    el("header", {}, el("a", { href: "#", class: "back" }, "‹ 文档列表"),
      el("h1", {}, doc.title), el("span", { class: "role" }, ROLE_NAMES[doc.role] || doc.role),
      status),
    el("main", { class: "sheet" }, el("div", { class: "bar" }, nameBox, bar, people), grid, tabs),
  );
  const me = { name: session.userId.replace(/^@/, "").split(":")[0], color: colorOf(session.userId) };
  provider.awareness.setLocalStateField("user", me);

  let sheetId = null;
  let selected = { row: 0, col: 0 };
  let comp = null;
  let editor = null; // the input over a cell while it is edited
  let extent = { rows: 0, cols: 0 };
  let drawn = null;

  const current = () => orderedSheets(ydoc).find((s) => s.id === sheetId);
  const selectedName = () => cellName(selected.row, selected.col);

  function refresh() {
    dirty = false;
    comp = computation(ydoc);
    const sheets = orderedSheets(ydoc);
    if (!sheets.some((s) => s.id === sheetId)) sheetId = sheets.length ? sheets[0].id : null;
    const sheet = current();
    extent = sheet ? extentOf(sheet.cells) : { rows: 0, cols: 0 };
    drawn = null;
    drawTabs(sheets);
    draw();
    showSelection();
  }

  function drawTabs(sheets) {
    const buttons = sheets.map((s) => {
      const tab = el("button", { type: "button", class: s.id === sheetId ? "tab active" : "tab", "data-sheet": s.name }, s.name);
      tab.addEventListener("click", () => {
        sheetId = s.id;
        selected = { row: 0, col: 0 };
        grid.scrollTop = 0;
        refresh();
        announce();
      });
      if (writable) {
        tab.addEventListener("dblclick", () => {
          const name = window.prompt("工作表名称", s.name);
          if (name && name.trim() && !sheets.some((o) => o.name === name.trim())) s.map.set("name", name.trim());
        });
      }
      return tab;
    });
    if (writable) {
      buttons.push(el("button", {
        type: "button", class: "tab add", title: "添加工作表",
        onclick: () => {
          const names = new Set(sheets.map((s) => s.name));
          let n = sheets.length + 1;
          while (names.has(`Sheet${n}`)) n++;
          sheetId = addSheet(ydoc, `Sheet${n}`);
        },
      }, "+"));
    }
    tabs.replaceChildren(...buttons);
  }

  function dimensions() {
    return {
      rows: Math.max(MIN_ROWS, extent.rows + 50, selected.row + 50),
      cols: Math.max(MIN_COLS, extent.cols + 2, selected.col + 2),
    };
  }

  // Only the rows in view (and a few around) are in the table; spacer rows keep the
  // scroll height of the whole sheet.
  function draw() {
    const sheet = current();
    const { rows, cols } = dimensions();
    const first = Math.max(0, Math.floor(grid.scrollTop / ROW_HEIGHT) - 10);
    const count = Math.ceil((grid.clientHeight || 600) / ROW_HEIGHT) + 20;
    const last = Math.min(rows, first + count);
    const key = `${sheetId}:${first}:${last}:${cols}`;
    if (drawn === key) return;
    drawn = key;
    const head = el("tr", {}, el("th", { class: "corner" }));
    for (let c = 0; c < cols; c++) head.append(el("th", { class: "col" }, columnName(c)));
    const body = [];
    body.push(spacer(first, cols));
    for (let r = first; r < last; r++) {
      const tr = el("tr", {}, el("th", { class: "row" }, String(r + 1)));
      for (let c = 0; c < cols; c++) {
        const name = cellName(r, c);
        const cell = sheet ? sheet.cells.get(name) : undefined;
        const td = document.createElement("td");
        td.dataset.cell = name;
        if (cell) {
          const value = typeof cell.f === "string" ? comp.valueAt(sheet.name, name) : cell.v;
          td.textContent = display(value, cell.z);
          if (typeof value === "number") td.className = "num";
        }
        tr.append(td);
      }
      body.push(tr);
    }
    body.push(spacer(rows - last, cols));
    grid.replaceChildren(el("table", {}, el("thead", {}, head), el("tbody", {}, ...body)));
    showSelection();
  }

  function spacer(n, cols) {
    const tr = el("tr", { class: "spacer" });
    const td = el("td", { colspan: String(cols + 1) });
    td.style.height = `${n * ROW_HEIGHT}px`;
    tr.append(td);
    return tr;
  }

  function showSelection() {
    for (const old of grid.querySelectorAll("td.selected, td.peer")) {
      old.classList.remove("selected", "peer");
      old.style.outlineColor = "";
      delete old.dataset.peer;
      old.removeAttribute("title");
    }
    const name = selectedName();
    const td = grid.querySelector(`td[data-cell="${name}"]`);
    if (td) td.classList.add("selected");
    nameBox.textContent = name;
    if (document.activeElement !== bar) {
      const cell = current() && current().cells.get(name);
      bar.value = cell ? (typeof cell.f === "string" ? cell.f : display(cell.v)) : "";
    }
    provider.awareness.getStates().forEach((state, clientId) => {
      if (clientId === ydoc.clientID || !state.user || !state.cell) return;
      if (state.cell.sheet !== sheetId) return;
      const peer = grid.querySelector(`td[data-cell="${state.cell.name}"]`);
      if (!peer) return;
      peer.classList.add("peer");
      peer.style.outlineColor = state.user.color;
      peer.dataset.peer = state.user.name;
      peer.title = state.user.name;
    });
  }

  function announce() {
    provider.awareness.setLocalStateField("cell", { sheet: sheetId, name: selectedName() });
  }

  function select(row, col) {
    selected = { row: Math.max(0, row), col: Math.max(0, col) };
    const top = selected.row * ROW_HEIGHT;
    const header = ROW_HEIGHT;
    if (top < grid.scrollTop) grid.scrollTop = top;
    else if (top + 2 * ROW_HEIGHT + header > grid.scrollTop + grid.clientHeight) {
      grid.scrollTop = top + 2 * ROW_HEIGHT + header - grid.clientHeight;
    }
    draw();
    showSelection();
    announce();
  }

  function commit(text) {
    if (!writable || !sheetId) return;
    const sheet = current();
    const name = selectedName();
    const old = sheet.cells.get(name);
    const input = parseInput(text);
    if (input && old && old.z) input.z = old.z; // the cell keeps its number format
    if (sameEntry(input, old)) return;
    setCell(ydoc, sheetId, name, input);
  }

  function startEditing(initial) {
    if (!writable || editor) return;
    const td = grid.querySelector(`td[data-cell="${selectedName()}"]`);
    if (!td) return;
    const cell = current() && current().cells.get(selectedName());
    editor = el("input", { class: "cell-editor", spellcheck: "false", "aria-label": selectedName() });
    editor.value = initial !== undefined ? initial
      : cell ? (typeof cell.f === "string" ? cell.f : display(cell.v)) : "";
    editor.style.top = `${td.offsetTop}px`;
    editor.style.left = `${td.offsetLeft}px`;
    editor.style.width = `${Math.max(td.offsetWidth, 120)}px`;
    editor.style.height = `${td.offsetHeight}px`;
    editor.addEventListener("keydown", (ev) => {
      const moves = { Enter: [1, 0], Tab: [0, 1] };
      if (ev.key in moves) {
        ev.preventDefault();
        finishEditing(true);
        const [dr, dc] = moves[ev.key];
        select(selected.row + (ev.shiftKey ? -dr : dr), selected.col + (ev.shiftKey ? -dc : dc));
        grid.focus();
      } else if (ev.key === "Escape") {
        finishEditing(false);
        grid.focus();
      }
    });
    editor.addEventListener("input", () => { bar.value = editor.value; });
    editor.addEventListener("blur", () => finishEditing(true));
    grid.append(editor);
    editor.focus();
  }

  function finishEditing(keep) {
    if (!editor) return;
    const input = editor;
    editor = null;
    input.remove();
    if (keep) commit(input.value);
  }

  grid.addEventListener("scroll", () => requestAnimationFrame(draw));
  grid.addEventListener("mousedown", (ev) => {
    const td = ev.target.closest && ev.target.closest("td[data-cell]");
    if (!td || ev.target === editor) return;
    finishEditing(true);
    const at = parseCell(td.dataset.cell);
    select(at.row, at.col);
  });
  grid.addEventListener("dblclick", (ev) => {
    if (ev.target.closest && ev.target.closest("td[data-cell]")) startEditing();
  });
  grid.addEventListener("keydown", (ev) => {
    if (editor) return;
    const moves = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1], Enter: [1, 0], Tab: [0, 1] };
    if (ev.key in moves) {
      ev.preventDefault();
      const [dr, dc] = moves[ev.key];
      select(selected.row + (ev.shiftKey ? -dr : dr), selected.col + (ev.shiftKey ? -dc : dc));
    } else if (ev.key === "F2") {
      ev.preventDefault();
      startEditing();
    } else if ((ev.key === "Delete" || ev.key === "Backspace") && writable) {
      ev.preventDefault();
      commit("");
    } else if (ev.key.length === 1 && !ev.ctrlKey && !ev.metaKey && !ev.altKey && writable) {
      ev.preventDefault();
      startEditing(ev.key);
    }
  });
  bar.readOnly = !writable;
  bar.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter") {
      ev.preventDefault();
      commit(bar.value);
      bar.blur();
      grid.focus();
    } else if (ev.key === "Escape") {
      bar.blur();
      showSelection();
      grid.focus();
    }
  });

  // Changes are drawn once per frame; a refresh in between (the first sync's) leaves
  // nothing for the frame to do.
  let pending = false;
  let dirty = false;
  const schedule = () => {
    dirty = true;
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      if (dirty) refresh();
    });
  };
  ydoc.getMap("sheets").observeDeep(schedule);

  let connections = 0;
  provider.on("status", ({ status: state }) => {
    status.dataset.status = state;
    status.textContent = state === "connected" ? "已连接" : "连接中…";
    if (state === "connected") status.dataset.connections = String(++connections);
    else delete status.dataset.synced;
  });
  provider.on("closed", ({ code }) => {
    status.dataset.status = "closed";
    status.textContent = CLOSED[code] || "连接已关闭";
    writable = false;
    bar.readOnly = true;
    finishEditing(false);
  });
  provider.on("sync", (synced) => {
    if (synced) {
      performance.mark("sheet-synced");
      refresh();
      announce();
      status.dataset.synced = "true";
      performance.mark("sheet-drawn");
    }
  });
  const showPeople = () => {
    const names = [...provider.awareness.getStates().values()]
      .map((s) => s.user && s.user.name).filter(Boolean);
    people.replaceChildren(...[...new Set(names)].sort().map((n) => el("li", {}, n)));
    showSelection();
  };
  provider.awareness.on("change", showPeople);
  refresh();
  showPeople();
  return () => {
    provider.destroy();
    ydoc.destroy();
  };
}
