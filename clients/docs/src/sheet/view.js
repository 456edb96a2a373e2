// SPDX-License-Identifier: AGPL-3.0-or-later
// One open spreadsheet: a grid over the Yjs document that y-websocket keeps in sync
// with the server (connection.js, as for the text editor). Opening is quick for a
// large sheet: only the rows in view are in the page, and they show the values stored
// in the document (each formula's last computed value) as soon as it is synced; the
// formula engine (recalc.js, engine.js: most of the page's script) loads after that
// first screen and then computes the formulas in view. The formula bar shows the selected cell's formula;
// sheets are tabs; a range is selected with the mouse or Shift, and copied, cut and
// pasted as tab-separated text (what Excel and WPS put on the clipboard); the toolbar
// inserts and deletes rows and columns, merges cells and sets styles. Every officer's
// selected cell is shown to the others (awareness). Readers and commenters see the
// sheet without an editor (the server refuses their updates anyway).
import { connect } from "../connection.js";
import { cellName, columnName, parseCell } from "./cells.js";
import { display, entryText, parseInput } from "./format.js";
import { addSheet, chartsOf, extentOf, mergesOf, orderedSheets, parseRange, plainMap, rangeText } from "./model.js";

const ROW_HEIGHT = 24; // style.css .grid td
const MIN_ROWS = 200;
const MIN_COLS = 26;
const ALIGN = { left: "左对齐", center: "居中", right: "右对齐" };
const CHART_TYPES = { column: "柱形图", bar: "条形图", line: "折线图", pie: "饼图" };
const AGGREGATES = { sum: "求和", count: "计数", average: "平均值", min: "最小值", max: "最大值" };

// What the officer typed is what the cell holds already (a formula's cached value aside).
function sameEntry(input, old) {
  if (!input || !old) return !input && !old;
  if (typeof old.f === "string") return input.f === old.f;
  return input.f === undefined && input.v === old.v;
}

// Tab-separated text as Excel writes it: a field with a tab, a line break or a quote
// is quoted ("" inside).
export function toTsv(rows) {
  const field = (t) => (/[\t\n\r"]/.test(t) ? `"${t.replace(/"/g, "\"\"")}"` : t);
  return rows.map((row) => row.map(field).join("\t")).join("\r\n");
}

export function fromTsv(text) {
  const rows = [];
  let row = [];
  let i = 0;
  let field = "";
  const body = text.replace(/\r\n?$/, "");
  while (i <= body.length) {
    const ch = body[i];
    if (field === "" && ch === "\"") {
      let j = i + 1;
      let quoted = "";
      for (; j < body.length; j++) {
        if (body[j] === "\"" && body[j + 1] === "\"") { quoted += "\""; j++; } else if (body[j] === "\"") break;
        else quoted += body[j];
      }
      if (j < body.length && (j + 1 === body.length || /[\t\r\n]/.test(body[j + 1]))) {
        field = quoted;
        i = j + 1;
        continue;
      }
    }
    if (ch === undefined || ch === "\t" || ch === "\n" || ch === "\r") {
      row.push(field);
      field = "";
      if (ch !== "\t") {
        rows.push(row);
        row = [];
        if (ch === "\r" && body[i + 1] === "\n") i++;
      }
      i++;
      continue;
    }
    field += ch;
    i++;
  }
  return rows;
}

// A cell's style (`s`: bold, italic, font colour, fill, alignment) on its td.
function styleCell(td, s) {
  if (!s || typeof s !== "object") return;
  if (s.b) td.style.fontWeight = "bold";
  if (s.i) td.style.fontStyle = "italic";
  if (typeof s.c === "string" && /^#[0-9a-f]{6}$/i.test(s.c)) td.style.color = s.c;
  if (typeof s.bg === "string" && /^#[0-9a-f]{6}$/i.test(s.bg)) td.style.backgroundColor = s.bg;
  if (s.a in ALIGN) td.style.textAlign = s.a;
}

// The chart drawer (chart.js): loaded when a sheet with charts is shown, not before.
let charting = null;
const loadCharts = () => {
  charting = charting || import("./chart.js");
  return charting;
};

// The copied cells of this page (formulas and all); pasting the same text pastes them.
let copied = null;

export function openSheet(app, session, doc, el) {
  performance.mark("sheet-open"); // benchmarks/sheet_open.py reads these marks
  // The engine is loaded once the first screen is drawn (or at the first change): the
  // grid does not wait for it, and its script does not hold up the sync.
  let recalc = null;
  let engine = null;
  const loadEngine = () => {
    engine = engine || import("./recalc.js").then((module) => {
      recalc = module;
      performance.mark("sheet-engine");
      if (synced) refresh();
      return module;
    });
    return engine;
  };
  let synced = false;
  const link = connect(session, doc, el, {
    onSynced: () => {
      performance.mark("sheet-synced");
      synced = true;
      refresh();
      announce();
      performance.mark("sheet-drawn");
      requestAnimationFrame(() => setTimeout(loadEngine, 0)); // after the frame is shown
    },
    onClosed: () => {
      bar.readOnly = true;
      finishEditing(false);
      tools.hidden = true;
    },
    onPeople: () => showSelection(),
  });
  const { ydoc, provider } = link;
  provider.on("status", ({ status: state }) => {
    if (state === "connected") performance.mark("sheet-connected");
  });
  const writable = () => link.writable;
  const nameBox = el("span", { class: "name-box" }, "A1");
  const bar = el("input", { class: "formula-bar", "aria-label": "编辑栏", spellcheck: "false" });
  const grid = el("div", { class: "grid", tabindex: "0" });
  const tabs = el("nav", { class: "sheet-tabs", "aria-label": "工作表" });
  const tools = toolbar();
  app.replaceChildren(
    link.header(),
    el("main", { class: "sheet" }, tools, el("div", { class: "bar" }, nameBox, bar, link.people), grid, tabs),
  );

  let sheetId = null;
  let anchor = { row: 0, col: 0 }; // where a range selection started
  let selected = { row: 0, col: 0 }; // the active cell (the range's other corner)
  let comp = null; // computes the formulas in view, from the values stored for the rest
  let inView = new Set(); // those formulas ("sheet!A1", the sheet's name in lower case)
  let editor = null; // the input over a cell while it is edited
  let extent = { rows: 0, cols: 0 };
  let drawn = null;

  const current = () => orderedSheets(ydoc).find((s) => s.id === sheetId);
  const selectedName = () => cellName(selected.row, selected.col);
  const selection = () => ({
    r0: Math.min(anchor.row, selected.row), c0: Math.min(anchor.col, selected.col),
    r1: Math.max(anchor.row, selected.row), c1: Math.max(anchor.col, selected.col),
  });

  function toolbar() {
    const button = (label, title, action) => el("button", {
      type: "button", class: "tool", title, "data-tool": title,
      onclick: () => { if (writable()) action(); grid.focus(); },
    }, label);
    const color = (title, key) => {
      const input = el("input", { type: "color", class: "tool", title, "data-tool": title });
      input.addEventListener("change", () => { if (writable()) styleRange({ [key]: input.value }); });
      return input;
    };
    const box = el("div", { class: "tools", role: "toolbar", "aria-label": "表格工具" },
      button("B", "加粗", () => toggleStyle("b")),
      button("I", "斜体", () => toggleStyle("i")),
      color("字体颜色", "c"),
      color("填充颜色", "bg"),
      ...Object.entries(ALIGN).map(([a, title]) => button(title.slice(0, 2), title, () => styleRange({ a }))),
      button("合并", "合并单元格", toggleMerge),
      button("+行", "插入行", () => lines("row", 1)),
      button("−行", "删除行", () => lines("row", -1)),
      button("+列", "插入列", () => lines("col", 1)),
      button("−列", "删除列", () => lines("col", -1)),
      button("图表", "插入图表", chartDialog),
      button("透视", "数据透视表", pivotDialog));
    if (doc.role !== "owner" && doc.role !== "editor") box.hidden = true;
    return box;
  }

  function refresh() {
    dirty = false;
    const sheets = orderedSheets(ydoc);
    if (!sheets.some((s) => s.id === sheetId)) sheetId = sheets.length ? sheets[0].id : null;
    inView = new Set();
    comp = recalc && synced ? recalc.computation(ydoc, inView) : null;
    const sheet = current();
    extent = sheet ? extentOf(sheet.cells) : { rows: 0, cols: 0 };
    drawn = null;
    drawTabs(sheets);
    draw();
    drawCharts();
    showSelection();
  }

  function drawTabs(sheets) {
    const buttons = sheets.map((s) => {
      const tab = el("button", { type: "button", class: s.id === sheetId ? "tab active" : "tab", "data-sheet": s.name }, s.name);
      tab.addEventListener("click", () => {
        if (s.id === sheetId) return; // (a double click renames it)
        sheetId = s.id;
        anchor = selected = { row: 0, col: 0 };
        grid.scrollTop = 0;
        refresh();
        announce();
      });
      if (writable()) {
        tab.addEventListener("dblclick", async () => {
          const name = window.prompt("工作表名称", s.name);
          if (name === null || name.trim() === s.name) return;
          const { renameSheet } = await loadEngine();
          if (!renameSheet(ydoc, s.id, name)) window.alert("名称无效或已被其他工作表使用");
        });
      }
      return tab;
    });
    if (writable()) {
      buttons.push(el("button", {
        type: "button", class: "tab add", title: "添加工作表",
        onclick: () => {
          const names = new Set(sheets.map((s) => s.name.toLowerCase()));
          let n = sheets.length + 1;
          while (names.has(`sheet${n}`)) n++;
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

  function valueOf(sheet, name, cell) {
    if (typeof cell.f !== "string") return cell.v;
    if (!comp) return cell.v; // the stored value until the engine is in
    inView.add(`${sheet.name.toLowerCase()}!${name}`);
    return comp.valueAt(sheet.name, name);
  }

  // Only the rows in view (and a few around) are in the table; spacer rows keep the
  // scroll height of the whole sheet. A merged range's first cell spans it; the cells
  // under it are left out (drawn empty when that first cell is not in view).
  function draw() {
    const sheet = current();
    const { rows, cols } = dimensions();
    const first = Math.max(0, Math.floor(grid.scrollTop / ROW_HEIGHT) - 10);
    const count = Math.ceil((grid.clientHeight || 600) / ROW_HEIGHT) + 20;
    const last = Math.min(rows, first + count);
    const key = `${sheetId}:${first}:${last}:${cols}`;
    if (drawn === key) return;
    drawn = key;
    const covered = new Map();
    for (const m of sheet ? mergesOf(sheet) : []) {
      for (let r = m.r0; r <= m.r1; r++) {
        for (let c = m.c0; c <= m.c1; c++) covered.set(cellName(r, c), m);
      }
    }
    const head = el("tr", {}, el("th", { class: "corner" }));
    for (let c = 0; c < cols; c++) head.append(el("th", { class: "col" }, columnName(c)));
    const body = [spacer(first, cols)];
    for (let r = first; r < last; r++) {
      const tr = el("tr", {}, el("th", { class: "row" }, String(r + 1)));
      for (let c = 0; c < cols; c++) {
        const name = cellName(r, c);
        const merge = covered.get(name);
        const td = document.createElement("td");
        if (merge) {
          const top = Math.max(merge.r0, first);
          if (r !== top || c !== merge.c0) continue;
          td.className = "merged";
          td.rowSpan = Math.min(merge.r1, last - 1) - top + 1;
          td.colSpan = merge.c1 - merge.c0 + 1;
          if (r !== merge.r0) { // its first cell is above the drawn rows
            td.dataset.cell = name;
            tr.append(td);
            continue;
          }
        }
        td.dataset.cell = name;
        const cell = sheet ? sheet.cells.get(name) : undefined;
        if (cell) {
          const value = valueOf(sheet, name, cell);
          td.textContent = display(value, cell.z);
          if (typeof value === "number") td.classList.add("num");
          styleCell(td, cell.s);
        }
        tr.append(td);
      }
      body.push(tr);
    }
    body.push(spacer(rows - last, cols));
    grid.replaceChildren(el("table", {}, el("thead", {}, head), el("tbody", {}, ...body)), chartLayer);
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
    for (const old of grid.querySelectorAll("td.selected, td.peer, td.in-range")) {
      old.classList.remove("selected", "peer", "in-range");
      old.style.outlineColor = "";
      delete old.dataset.peer;
      old.removeAttribute("title");
    }
    const range = selection();
    if (range.r0 !== range.r1 || range.c0 !== range.c1) {
      for (const td of grid.querySelectorAll("td[data-cell]")) {
        const at = parseCell(td.dataset.cell);
        if (at.row >= range.r0 && at.row <= range.r1 && at.col >= range.c0 && at.col <= range.c1) {
          td.classList.add("in-range");
        }
      }
    }
    const name = selectedName();
    const td = grid.querySelector(`td[data-cell="${name}"]`);
    if (td) td.classList.add("selected");
    nameBox.textContent = range.r0 === range.r1 && range.c0 === range.c1 ? name : rangeText(range);
    if (document.activeElement !== bar) {
      const sheet = current();
      bar.value = entryText(sheet && sheet.cells.get(name));
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

  function select(row, col, extend = false) {
    selected = { row: Math.max(0, row), col: Math.max(0, col) };
    if (!extend) anchor = selected;
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

  // Every change to the document goes through the engine (recalc.js), which computes
  // what the change reaches; it is loaded by the time an officer acts, or awaited.
  // A pivot table whose source the change reaches is rewritten in the same transaction.
  async function change(fn) {
    if (!writable() || !sheetId) return;
    const module = recalc || (await loadEngine());
    ydoc.transact(() => {
      fn(module, current());
      module.updatePivots(ydoc);
    });
  }

  // Charts: a layer over the grid's table (it scrolls with it); each chart is drawn
  // from the shown values of its range, at every change of the document. A writer
  // moves one by its title bar, resizes it by its corner and deletes it (×).
  const chartLayer = el("div", { class: "chart-layer" });
  let chartsDrawn = 0;
  function drawCharts() {
    const sheet = current();
    const charts = sheet ? chartsOf(sheet) : [];
    const turn = ++chartsDrawn;
    if (!charts.length) {
      chartLayer.replaceChildren();
      chartBoxes = new Map();
      return;
    }
    loadCharts().then(({ chartData, drawChart }) => {
      if (turn !== chartsDrawn || !current()) return;
      const valueAt = (name) => {
        const cell = sheet.cells.get(name);
        const v = cell ? valueOf(sheet, name, cell) : null;
        return v && typeof v === "object" ? null : v;
      };
      // A chart whose definition and values are unchanged keeps its element (a
      // click or a drag on it is not cut short by someone else's edit).
      const next = new Map();
      const boxes = charts.map(([id, c]) => {
        const data = chartData(c.range, valueAt);
        const key = JSON.stringify([sheet.id, c, data, writable()]);
        const old = chartBoxes.get(id);
        const box = old && old.key === key ? old.box : chartBox(sheet, id, c, drawChart(c.type, data, c.w, c.h - 26));
        next.set(id, { key, box });
        return box;
      });
      chartBoxes = next;
      chartLayer.replaceChildren(...boxes);
    });
  }
  let chartBoxes = new Map();

  function chartBox(sheet, id, c, svg) {
    const box = el("div", { class: "chart", "data-chart": id, "data-range": c.range });
    box.style.left = `${c.x + origin().left}px`;
    box.style.top = `${c.y + origin().top}px`;
    box.style.width = `${c.w}px`;
    box.style.height = `${c.h}px`;
    const head = el("div", { class: "chart-title" }, el("span", {}, c.title || ""));
    box.append(head, svg);
    if (!writable()) return box;
    const remove = el("button", { type: "button", class: "chart-delete", title: "删除图表" }, "×");
    remove.addEventListener("click", () => { if (writable()) plainMap(sheet, "charts").delete(id); });
    const handle = el("div", { class: "chart-resize", title: "调整大小" });
    head.append(remove);
    box.append(handle);
    const drag = (ev, resize) => {
      if (ev.button !== 0 || ev.target === remove) return;
      ev.preventDefault();
      ev.stopPropagation();
      const start = { x: ev.clientX, y: ev.clientY };
      let moved = { ...c };
      const move = (e) => {
        const dx = e.clientX - start.x;
        const dy = e.clientY - start.y;
        moved = resize
          ? { ...c, w: Math.max(160, Math.round(c.w + dx)), h: Math.max(120, Math.round(c.h + dy)) }
          : { ...c, x: Math.max(0, Math.round(c.x + dx)), y: Math.max(0, Math.round(c.y + dy)) };
        box.style.left = `${moved.x + origin().left}px`;
        box.style.top = `${moved.y + origin().top}px`;
        box.style.width = `${moved.w}px`;
        box.style.height = `${moved.h}px`;
      };
      const up = () => {
        document.removeEventListener("mousemove", move);
        document.removeEventListener("mouseup", up);
        const charts = plainMap(sheet, "charts");
        if (writable() && charts.has(id) && (moved.x !== c.x || moved.y !== c.y || moved.w !== c.w || moved.h !== c.h)) {
          charts.set(id, { ...charts.get(id), x: moved.x, y: moved.y, w: moved.w, h: moved.h });
        }
      };
      document.addEventListener("mousemove", move);
      document.addEventListener("mouseup", up);
    };
    head.addEventListener("mousedown", (ev) => drag(ev, false));
    handle.addEventListener("mousedown", (ev) => drag(ev, true));
    return box;
  }

  // Where cell A1's top-left corner is in the grid (past the row and column headings).
  function origin() {
    const th = grid.querySelector("thead th.col");
    return th ? { left: th.offsetLeft, top: th.offsetTop + th.offsetHeight } : { left: 49, top: 25 };
  }

  // A small form over the grid (insert a chart, a pivot table); `fields` are its
  // labelled inputs, `ok` gets the form's values.
  function dialog(title, fields, ok) {
    if (!writable()) return;
    const error = el("p", { class: "error", role: "alert" });
    const form = el("form", { class: "sheet-dialog", "aria-label": title }, el("h2", {}, title),
      ...fields.map(([label, input]) => el("label", {}, label, input)), error,
      el("div", { class: "actions" },
        el("button", { type: "submit", "data-action": "ok" }, "确定"),
        el("button", { type: "button", "data-action": "cancel", onclick: () => form.remove() }, "取消")));
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const values = Object.fromEntries(new FormData(form).entries());
      const problem = ok(values);
      if (problem) error.textContent = problem;
      else {
        form.remove();
        grid.focus();
      }
    });
    for (const old of app.querySelectorAll(".sheet-dialog")) old.remove();
    app.querySelector("main.sheet").append(form);
    const first = form.querySelector("input, select");
    if (first) first.focus();
  }

  const choice = (name, options, chosen) => {
    const box = el("select", { name });
    for (const [value, label] of options) {
      const option = el("option", { value }, label);
      if (value === chosen) option.selected = true;
      box.append(option);
    }
    return box;
  };

  function chartDialog() {
    const range = selection();
    dialog("插入图表", [
      ["类型", choice("type", Object.entries(CHART_TYPES), "column")],
      ["数据区域", el("input", { name: "range", value: rangeText(range) })],
      ["标题", el("input", { name: "title", value: "" })],
    ], (v) => {
      const found = parseRange(String(v.range).trim().toUpperCase());
      const sheet = current();
      if (!found || !sheet) return "数据区域无效（如 A1:C5）";
      if (!(v.type in CHART_TYPES)) return "图表类型无效";
      // Below the range (its cells stay in view), from its first column.
      const td = grid.querySelector(`td[data-cell="${cellName(found.r1, found.c0)}"]`);
      const o = origin();
      const x = td ? td.offsetLeft - o.left : found.c0 * 105;
      const y = td ? td.offsetTop + td.offsetHeight + 12 - o.top : (found.r1 + 1) * 25 + 12;
      const id = `c${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
      plainMap(sheet, "charts").set(id, {
        type: v.type, range: rangeText(found), title: String(v.title || "").slice(0, 255),
        x: Math.max(0, Math.round(x)), y: Math.max(0, Math.round(y)), w: 480, h: 300,
      });
      return null;
    });
  }

  function pivotDialog() {
    const range = selection();
    const sheet = current();
    if (!sheet) return;
    const fieldsOf = (text) => {
      const r = parseRange(String(text).trim().toUpperCase());
      if (!r) return [];
      const names = [];
      for (let c = r.c0; c <= r.c1; c++) {
        const cell = sheet.cells.get(cellName(r.r0, c));
        names.push([String(c - r.c0), cell ? display(cell.v) || columnName(c) : columnName(c)]);
      }
      return names;
    };
    const source = el("input", { name: "range", value: rangeText(range) });
    const rows = choice("rows", fieldsOf(source.value), "0");
    const cols = choice("cols", [["", "（无）"], ...fieldsOf(source.value)], "");
    const val = choice("val", fieldsOf(source.value), String(Math.min(1, range.c1 - range.c0)));
    source.addEventListener("change", () => {
      const fields = fieldsOf(source.value);
      rows.replaceChildren(...choice("rows", fields, "0").children);
      cols.replaceChildren(...choice("cols", [["", "（无）"], ...fields], "").children);
      val.replaceChildren(...choice("val", fields, "1").children);
    });
    dialog("数据透视表", [
      ["数据区域（首行为字段名）", source],
      ["行", rows],
      ["列", cols],
      ["值", val],
      ["汇总方式", choice("agg", Object.entries(AGGREGATES), "sum")],
      ["放置于", choice("place", [["here", "本工作表"], ["new", "新工作表"]], "here")],
      ["起始单元格", el("input", { name: "at", value: cellName(range.r0, range.c1 + 2) })],
    ], (v) => {
      const r = parseRange(String(v.range).trim().toUpperCase());
      if (!r || r.r1 <= r.r0) return "数据区域无效（至少两行，首行为字段名）";
      const at = parseCell(String(v.at).trim().toUpperCase());
      if (v.place !== "new" && !at) return "起始单元格无效（如 F1）";
      const field = (x) => (x === "" || x === undefined ? null : Number(x));
      const def = {
        sheet: sheetId, range: rangeText(r), rows: field(v.rows), cols: field(v.cols),
        val: field(v.val), agg: v.agg in AGGREGATES ? v.agg : "sum",
        at: v.place === "new" ? "A1" : cellName(at.row, at.col),
      };
      if (v.place !== "new") {
        const target = parseCell(def.at);
        if (target.row >= r.r0 && target.row <= r.r1 && target.col >= r.c0 && target.col <= r.c1) {
          return "起始单元格不能在数据区域内";
        }
      }
      change(({ addPivot }) => {
        let target = sheetId;
        if (v.place === "new") {
          const names = new Set(orderedSheets(ydoc).map((s) => s.name.toLowerCase()));
          let n = 1;
          while (names.has(`数据透视表${n}`)) n++;
          target = addSheet(ydoc, `数据透视表${n}`);
        }
        addPivot(ydoc, target, def);
        if (v.place === "new") sheetId = target;
      });
      return null;
    });
  }

  function commit(text) {
    const name = selectedName();
    change(({ setCell }, sheet) => {
      const old = sheet.cells.get(name);
      const input = parseInput(text);
      if (input && old && old.z) input.z = old.z; // the cell keeps its number format
      if (input && old && old.s) input.s = old.s; // and its style
      if (sameEntry(input, old)) return;
      setCell(ydoc, sheetId, name, input || (old && old.s ? { s: old.s } : null));
    });
  }

  function eachSelected(fn) {
    const r = selection();
    for (let row = r.r0; row <= r.r1; row++) {
      for (let col = r.c0; col <= r.c1; col++) fn(cellName(row, col));
    }
  }

  // Styles change no value: written straight into the cells, without the engine.
  function styleRange(changes) {
    const sheet = current();
    if (!writable() || !sheet) return;
    ydoc.transact(() => {
      eachSelected((name) => {
        const cell = sheet.cells.get(name) || {};
        const s = { ...(cell.s || {}), ...changes };
        for (const [k, v] of Object.entries(s)) if (v === false || v === null) delete s[k];
        const next = { ...cell, s };
        if (!Object.keys(s).length) delete next.s;
        if (Object.keys(next).length) sheet.cells.set(name, next);
        else sheet.cells.delete(name);
      });
    });
  }

  function toggleStyle(key) {
    const sheet = current();
    const cell = sheet && sheet.cells.get(selectedName());
    styleRange({ [key]: !(cell && cell.s && cell.s[key]) });
  }

  function toggleMerge() {
    const sheet = current();
    if (!sheet) return;
    const range = selection();
    const merges = mergesOf(sheet);
    const overlaps = (m) => m.r0 <= range.r1 && m.r1 >= range.r0 && m.c0 <= range.c1 && m.c1 >= range.c0;
    const kept = merges.filter((m) => !overlaps(m));
    if (kept.length === merges.length && (range.r0 !== range.r1 || range.c0 !== range.c1)) kept.push(range);
    sheet.map.set("merges", kept.map(rangeText));
  }

  function lines(axis, sign) {
    const range = selection();
    const at = axis === "row" ? range.r0 : range.c0;
    const count = axis === "row" ? range.r1 - range.r0 + 1 : range.c1 - range.c0 + 1;
    change(({ changeLines }) => changeLines(ydoc, sheetId, axis, at, sign * count));
  }

  function startEditing(initial) {
    if (!writable() || editor) return;
    const td = grid.querySelector(`td[data-cell="${selectedName()}"]`);
    if (!td) return;
    const cell = current() && current().cells.get(selectedName());
    editor = el("input", { class: "cell-editor", spellcheck: "false", "aria-label": selectedName() });
    editor.value = initial !== undefined ? initial : entryText(cell);
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

  // Copy and cut put the range's shown values on the clipboard as tab-separated text
  // (Excel and WPS paste it); this page also keeps the cells themselves, so pasting
  // them here moves formulas' relative references by as far as they were moved.
  function copyRange(ev, cut) {
    const sheet = current();
    if (!sheet) return;
    const range = selection();
    const block = [];
    const shown = [];
    for (let r = range.r0; r <= range.r1; r++) {
      const row = [];
      const texts = [];
      for (let c = range.c0; c <= range.c1; c++) {
        const name = cellName(r, c);
        const cell = sheet.cells.get(name);
        row.push(cell ? { ...cell } : null);
        texts.push(cell ? display(valueOf(sheet, name, cell), cell.z) : "");
      }
      block.push(row);
      shown.push(texts);
    }
    const text = toTsv(shown);
    ev.clipboardData.setData("text/plain", text);
    ev.preventDefault();
    copied = { text, block, from: { row: range.r0, col: range.c0 }, sheetId, cut: cut ? range : null };
  }

  function pasteText(ev) {
    const text = ev.clipboardData.getData("text/plain");
    ev.preventDefault();
    if (!text) return;
    const range = selection();
    const own = copied && copied.text === text ? copied : null;
    const block = own ? own.block : fromTsv(text).map((row) => row.map((t) => parseInput(t)));
    const from = own ? own.from : null;
    const cut = own && own.cut && own.sheetId === sheetId ? own.cut : null;
    if (own && own.cut) copied = null; // a cut is pasted once
    change(({ paste }) => paste(ydoc, sheetId, range.r0, range.c0, block, from, cut));
  }

  const onClipboard = (ev) => {
    if (document.activeElement !== grid || editor) return;
    if (ev.type === "paste") {
      if (writable()) pasteText(ev);
    } else {
      copyRange(ev, ev.type === "cut" && writable());
    }
  };
  for (const type of ["copy", "cut", "paste"]) document.addEventListener(type, onClipboard);

  grid.addEventListener("scroll", () => requestAnimationFrame(draw));
  let dragging = false;
  grid.addEventListener("mousedown", (ev) => {
    const td = ev.target.closest && ev.target.closest("td[data-cell]");
    if (!td || ev.target === editor) return;
    finishEditing(true);
    const at = parseCell(td.dataset.cell);
    select(at.row, at.col, ev.shiftKey);
    dragging = true;
  });
  grid.addEventListener("mouseover", (ev) => {
    if (!dragging || !(ev.buttons & 1)) {
      dragging = false;
      return;
    }
    const td = ev.target.closest && ev.target.closest("td[data-cell]");
    if (!td) return;
    const at = parseCell(td.dataset.cell);
    if (at.row !== selected.row || at.col !== selected.col) select(at.row, at.col, true);
  });
  document.addEventListener("mouseup", () => { dragging = false; });
  grid.addEventListener("dblclick", (ev) => {
    if (ev.target.closest && ev.target.closest("td[data-cell]")) startEditing();
  });
  grid.addEventListener("keydown", (ev) => {
    if (editor) return;
    const moves = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1], Enter: [1, 0], Tab: [0, 1] };
    if (ev.key in moves) {
      ev.preventDefault();
      const [dr, dc] = moves[ev.key];
      const arrow = ev.key.startsWith("Arrow");
      const back = !arrow && ev.shiftKey;
      select(selected.row + (back ? -dr : dr), selected.col + (back ? -dc : dc), arrow && ev.shiftKey);
    } else if (ev.key === "F2") {
      ev.preventDefault();
      startEditing();
    } else if ((ev.key === "Delete" || ev.key === "Backspace") && writable()) {
      ev.preventDefault();
      const names = [];
      eachSelected((name) => names.push(name));
      change(({ writeCells }, sheet) => {
        const entries = names.filter((n) => sheet.cells.has(n)).map((n) => {
          const old = sheet.cells.get(n);
          return [n, old.s || old.z ? { ...(old.s ? { s: old.s } : {}), ...(old.z ? { z: old.z } : {}) } : null];
        });
        if (entries.length) writeCells(ydoc, sheetId, entries);
      });
    } else if (ev.key.length === 1 && !ev.ctrlKey && !ev.metaKey && !ev.altKey && writable()) {
      ev.preventDefault();
      startEditing(ev.key);
    }
  });
  bar.readOnly = !writable();
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
  refresh();
  return () => {
    for (const type of ["copy", "cut", "paste"]) document.removeEventListener(type, onClipboard);
    link.close();
  };
}
