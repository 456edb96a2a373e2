// SPDX-License-Identifier: AGPL-3.0-or-later
// Rich content of a text document beyond StarterKit's (docs/documents.md "Rich
// content"): pictures of the media repository (inline `image`, what a Word import
// makes), an officer's contact card (`contactCard`), another document embedded as a
// card (`docEmbed`), a file of the media repository as a card (`fileEmbed`); to-do
// checklists are Tiptap's TaskList/TaskItem. Each is a node of the Y.XmlFragment with
// its fields as attributes, so two editors merge as for any node; the cards are atoms
// (edited as a whole: inserted, moved, deleted) and the same for readers, whose editor
// is read-only. A chart (`chart`) holds its type, title and data (a small table) as
// attributes and is drawn by the sheets' SVG renderer (sheet/chart.js, loaded when a
// chart is shown). Nothing here is drawn with inline styles (the page's CSP).
import { Node, mergeAttributes } from "@tiptap/core";
import { downloadFile, fileSize, mediaBlob, uploadMedia } from "./media.js";
import { parseCell } from "./sheet/cells.js";

const WEB_CLIENT = "/_jwwx/web/";
const EDITOR_PAGE = "/_jwwx/docs/app/";
const MAX_WIDTH = 624; // the text width of a Word page, as the export writes it

function attr(name, fallback = null) {
  return { default: fallback, parseHTML: (e) => e.getAttribute(`data-${name}`), renderHTML: (a) => (a[name] == null ? {} : { [`data-${name}`]: a[name] }) };
}

function node(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) if (v != null) e.setAttribute(k, v);
  e.append(...children);
  return e;
}

// Pictures: the mxc:// URI and the size in CSS pixels; shown from a blob: URL fetched
// with the officer's token (the media API is authenticated).
export function ImageNode(session) {
  return Node.create({
    name: "image",
    inline: true,
    group: "inline",
    atom: true,
    draggable: true,
    addAttributes() {
      return { src: attr("src"), name: attr("name"), width: attr("width"), height: attr("height") };
    },
    parseHTML() {
      return [{ tag: "img[data-src]" }];
    },
    renderHTML({ HTMLAttributes }) {
      return ["img", mergeAttributes(HTMLAttributes, { class: "doc-image" })];
    },
    addNodeView() {
      return ({ node: pm }) => {
        const img = node("img", { class: "doc-image", alt: pm.attrs.name || "图片", "data-src": pm.attrs.src });
        const { width, height } = pm.attrs;
        if (width && height) {
          img.width = Math.min(Number(width), MAX_WIDTH);
          img.height = Math.round((Number(height) * img.width) / Number(width));
        }
        mediaBlob(session, pm.attrs.src).then(({ url }) => {
          img.src = url;
          img.dataset.loaded = "true";
        }, () => img.classList.add("broken"));
        return { dom: img };
      };
    },
  });
}

function card(kind, ...children) {
  return node("div", { class: `doc-card ${kind}`, "data-type": kind, contenteditable: "false" }, ...children);
}

// An officer from the directory: name, unit, and 发消息, which opens a chat with him in
// the web client (its #dm= link).
export const ContactCard = Node.create({
  name: "contactCard",
  group: "block",
  atom: true,
  draggable: true,
  addAttributes() {
    return { userId: attr("user-id"), name: attr("name"), unit: attr("unit") };
  },
  parseHTML() {
    return [{ tag: "div[data-type=contactCard]" }];
  },
  renderHTML({ HTMLAttributes }) {
    return ["div", mergeAttributes(HTMLAttributes, { "data-type": "contactCard" })];
  },
  addNodeView() {
    return ({ node: pm }) => {
      const { userId, name, unit } = pm.attrs;
      const chat = node("a", { class: "card-action", href: `${WEB_CLIENT}#dm=${encodeURIComponent(userId || "")}`, target: "_blank", rel: "noopener" }, "发消息");
      const dom = card("contactCard",
        node("span", { class: "card-icon" }, "人"),
        node("span", { class: "card-body" }, node("strong", { class: "card-title" }, name || userId || ""),
          node("span", { class: "card-sub" }, [unit, userId].filter(Boolean).join(" · "))),
        chat);
      return { dom };
    };
  },
});

// Another document as a card: its title as the viewer may see it now (read with the
// viewer's own token: no role, "无权访问"), opened in a new tab with his own rights.
export function DocEmbed(session, api) {
  return Node.create({
    name: "docEmbed",
    group: "block",
    atom: true,
    draggable: true,
    addAttributes() {
      return { docId: attr("doc-id"), title: attr("title") };
    },
    parseHTML() {
      return [{ tag: "div[data-type=docEmbed]" }];
    },
    renderHTML({ HTMLAttributes }) {
      return ["div", mergeAttributes(HTMLAttributes, { "data-type": "docEmbed" })];
    },
    addNodeView() {
      return ({ node: pm }) => {
        const { docId } = pm.attrs; // cards of older pages may hold a title: never shown
        const name = node("strong", { class: "card-title" }, "文档");
        const sub = node("span", { class: "card-sub" }, "警务文档");
        const open = node("a", { class: "card-action", href: `${EDITOR_PAGE}#doc=${encodeURIComponent(docId || "")}`, target: "_blank", rel: "noopener" }, "打开");
        const dom = card("docEmbed", node("span", { class: "card-icon" }, "文"), node("span", { class: "card-body" }, name, sub), open);
        api(session, "GET", `/${encodeURIComponent(docId || "")}`).then((doc) => {
          name.textContent = doc.title;
          dom.dataset.access = "yes";
        }, () => {
          sub.textContent = "文档不存在或无权访问";
          dom.dataset.access = "no";
        });
        return { dom };
      };
    },
  });
}

// A file of the media repository: name, size, 下载 (fetched with the officer's token).
export function FileEmbed(session) {
  return Node.create({
    name: "fileEmbed",
    group: "block",
    atom: true,
    draggable: true,
    addAttributes() {
      return { src: attr("src"), name: attr("name"), size: attr("size"), mime: attr("mime") };
    },
    parseHTML() {
      return [{ tag: "div[data-type=fileEmbed]" }];
    },
    renderHTML({ HTMLAttributes }) {
      return ["div", mergeAttributes(HTMLAttributes, { "data-type": "fileEmbed" })];
    },
    addNodeView() {
      return ({ node: pm }) => {
        const fields = pm.attrs;
        const download = node("button", { type: "button", class: "card-action" }, "下载");
        download.addEventListener("click", (e) => {
          e.preventDefault();
          downloadFile(session, fields).catch(() => download.classList.add("broken"));
        });
        const dom = card("fileEmbed", node("span", { class: "card-icon" }, "附"),
          node("span", { class: "card-body" }, node("strong", { class: "card-title" }, fields.name || "文件"),
            node("span", { class: "card-sub" }, fileSize(Number(fields.size) || 0))),
          download);
        return { dom };
      };
    },
  });
}

// A chart: type, title, data (JSON {categories: [text], series: [{name, values:
// [number|null]}]}). One attribute holds the whole table, so two officers editing one
// chart at once: the last one wins; charts inserted at once merge as any node.
export const CHART_TYPES = { column: "柱形图", bar: "条形图", line: "折线图", pie: "饼图" };
const MAX_SERIES = 6;
const MAX_CATEGORIES = 50;
const CHART_W = 560;
const CHART_H = 280;

let charting = null;
const loadCharts = () => {
  charting = charting || import("./sheet/chart.js");
  return charting;
};

/** A chart's data from its attribute; anything malformed is an empty chart. */
export function chartDataOf(raw) {
  let data = null;
  try {
    data = JSON.parse(raw || "{}");
  } catch {
    data = null;
  }
  const categories = Array.isArray(data?.categories) ? data.categories.map((c) => String(c ?? "")) : [];
  const series = (Array.isArray(data?.series) ? data.series : []).filter((s) => s && Array.isArray(s.values)).map((s) => ({
    name: String(s.name ?? ""),
    values: categories.map((_, i) => (typeof s.values[i] === "number" && Number.isFinite(s.values[i]) ? s.values[i] : null)),
  }));
  return { categories, series };
}

/** Pasted cells (tab-separated, as Excel and WPS copy them; or commas) as chart data:
 * the first row names the series (its first cell is the categories' heading), each
 * other row is a category and its values. Throws a message for the officer. */
export function parseChartTable(text) {
  const lines = String(text).replace(/\r/g, "").split("\n").filter((l) => l.trim() !== "");
  const sep = lines.some((l) => l.includes("\t")) ? "\t" : ",";
  const rows = lines.map((l) => l.split(sep).map((c) => c.trim()));
  if (rows.length < 2 || rows[0].length < 2) throw new Error("数据至少两行两列：首行为系列名，首列为类别");
  const names = rows[0].slice(1);
  if (names.length > MAX_SERIES) throw new Error(`最多 ${MAX_SERIES} 个系列`);
  if (rows.length - 1 > MAX_CATEGORIES) throw new Error(`最多 ${MAX_CATEGORIES} 个类别`);
  const categories = rows.slice(1).map((r) => r[0]);
  const series = names.map((name, k) => ({
    name: name || `系列${k + 1}`,
    values: rows.slice(1).map((r) => {
      const cell = (r[k + 1] ?? "").replace(/,/g, "");
      if (cell === "") return null;
      const v = Number(cell);
      if (!Number.isFinite(v)) throw new Error(`不是数字：${r[k + 1]}`);
      return v;
    }),
  }));
  return { categories, series };
}

/** The data as the form shows it: tab-separated rows. */
export function chartTable(data) {
  const head = ["类别", ...data.series.map((s) => s.name)].join("\t");
  const rows = data.categories.map((c, i) => [c, ...data.series.map((s) => (s.values[i] === null ? "" : String(s.values[i])))].join("\t"));
  return [head, ...rows].join("\n");
}

/** The small form of a chart: type, title, data; `onSave(attrs)` with the new
 * attributes; `source(fill, say)`, if given, adds a row that fills the data. */
export function chartForm(el, attrs, onSave, onCancel, source = null) {
  const type = el("select", { name: "chart-type", "aria-label": "图表类型" },
    ...Object.entries(CHART_TYPES).map(([k, label]) => el("option", { value: k }, label)));
  type.value = attrs.type in CHART_TYPES ? attrs.type : "column";
  const title = el("input", { name: "chart-title", "aria-label": "标题", placeholder: "标题", maxlength: "200" });
  title.value = attrs.title || "";
  const table = el("textarea", { name: "chart-data", rows: "6", "aria-label": "数据", placeholder: "从 Excel 粘贴：首行为系列名，首列为类别" });
  table.value = attrs.data ? chartTable(chartDataOf(attrs.data)) : "类别\t系列1\n一月\t10\n二月\t20";
  const say = el("span", { class: "form-message", role: "status" });
  const save = el("button", { type: "button", name: "chart-save" }, attrs.data ? "保存" : "插入");
  const cancel = el("button", { type: "button", name: "chart-cancel" }, "取消");
  save.addEventListener("click", () => {
    try {
      const data = parseChartTable(table.value);
      onSave({ type: type.value, title: title.value.trim().slice(0, 200), data: JSON.stringify(data) });
    } catch (e) {
      say.textContent = e.message;
    }
  });
  cancel.addEventListener("click", onCancel);
  const fill = (text) => {
    table.value = text;
    say.textContent = "";
  };
  const extra = source ? [source(fill, (m) => { say.textContent = m; })] : [];
  return el("div", { class: "chart-form" }, el("div", { class: "chart-form-row" }, type, title), ...extra, table,
    el("div", { class: "chart-form-row" }, save, cancel, say));
}

/** Rows of a CSV text (RFC 4180: quoted fields, doubled quotes, CRLF). */
export function parseCsv(text) {
  const rows = [];
  let row = [];
  let cell = "";
  let quoted = false;
  const src = text.replace(/^\ufeff/, "");
  for (let i = 0; i < src.length; i++) {
    const ch = src[i];
    if (quoted) {
      if (ch === '"' && src[i + 1] === '"') { cell += '"'; i++; } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") { row.push(cell); cell = ""; } else if (ch === "\n" || ch === "\r") {
      if (ch === "\r" && src[i + 1] === "\n") i++;
      row.push(cell);
      rows.push(row);
      row = [];
      cell = "";
    } else cell += ch;
  }
  if (cell !== "" || row.length) { row.push(cell); rows.push(row); }
  return rows;
}

// 从表格取数: one of the officer's sheets (his own and shared), a sheet of it and a
// range; the values shown there now (the sheet's .csv export, read with his token)
// are copied into the form, so the chart keeps them and does not follow the sheet.
function sheetSource(el, session, api) {
  return (fill, say) => {
    const docs = el("select", { name: "chart-sheet", "aria-label": "表格文档" }, el("option", { value: "" }, "从表格取数…"));
    const tab = el("input", { name: "chart-sheet-tab", "aria-label": "工作表", placeholder: "工作表（默认第一个）" });
    const range = el("input", { name: "chart-range", "aria-label": "区域", placeholder: "区域，如 A1:C5" });
    const take = el("button", { type: "button", name: "chart-take" }, "取数");
    Promise.all([api(session, "GET", "?filter=mine&limit=200"), api(session, "GET", "?filter=shared&limit=200")]).then(([mine, shared]) => {
      const seen = new Set();
      for (const d of [...mine.documents, ...shared.documents]) {
        if (d.kind !== "sheet" || seen.has(d.doc_id)) continue;
        seen.add(d.doc_id);
        docs.append(el("option", { value: d.doc_id }, d.title));
      }
      docs.dataset.loaded = "true";
    }, (e) => say(e.message));
    take.addEventListener("click", () => {
      const [from, to = from] = range.value.trim().toUpperCase().split(":");
      const a = parseCell(from || "");
      const b = parseCell(to || "");
      if (!docs.value) return say("请选择表格文档");
      if (!a || !b) return say("区域应如 A1:C5");
      const sheet = tab.value.trim() ? `&sheet=${encodeURIComponent(tab.value.trim())}` : "";
      fetch(`/_jwwx/client/v1/docs/${encodeURIComponent(docs.value)}/export?format=csv${sheet}`, {
        headers: { Authorization: `Bearer ${session.token}` },
      }).then(async (response) => {
        const text = await response.text();
        if (!response.ok) {
          let message = `取数失败（${response.status}）`;
          try { message = JSON.parse(text).error || message; } catch { /* not JSON */ }
          throw new Error(message);
        }
        const grid = parseCsv(text);
        const [r0, r1] = [Math.min(a.row, b.row), Math.max(a.row, b.row)];
        const [c0, c1] = [Math.min(a.col, b.col), Math.max(a.col, b.col)];
        const lines = [];
        for (let r = r0; r <= r1; r++) {
          const cells = [];
          for (let c = c0; c <= c1; c++) cells.push((grid[r] || [])[c] ?? "");
          lines.push(cells.join("\t"));
        }
        fill(lines.join("\n"));
      }).catch((e) => say(e.message));
    });
    return el("div", { class: "chart-form-row chart-source" }, docs, tab, range, take);
  };
}

function formEl(tag, attrs, ...children) {
  return node(tag, attrs, ...children);
}

export const ChartNode = Node.create({
  name: "chart",
  group: "block",
  atom: true,
  draggable: true,
  addAttributes() {
    return { type: attr("type", "column"), title: attr("title", ""), data: attr("data", "{}") };
  },
  parseHTML() {
    return [{ tag: "div[data-type=chart]" }];
  },
  renderHTML({ HTMLAttributes }) {
    return ["div", mergeAttributes(HTMLAttributes, { "data-type": "chart" })];
  },
  addNodeView() {
    return ({ node: first, editor, getPos }) => {
      let current = first;
      const title = node("span", { class: "doc-chart-name" });
      const head = node("div", { class: "doc-chart-title" }, title);
      const drawing = node("div", { class: "doc-chart-svg" });
      const dom = node("div", { class: "doc-chart", "data-type": "chart", contenteditable: "false" }, head, drawing);
      let form = null;
      const draw = () => {
        const { type, title: name, data } = current.attrs;
        title.textContent = name || "图表";
        const kind = type in CHART_TYPES ? type : "column";
        dom.dataset.chartType = kind;
        loadCharts().then(({ drawChart }) => {
          drawing.replaceChildren(drawChart(kind, chartDataOf(data), CHART_W, CHART_H));
          dom.dataset.drawn = "true";
        });
      };
      if (editor.isEditable) {
        const edit = node("button", { type: "button", class: "chart-edit" }, "编辑");
        edit.addEventListener("click", () => {
          if (form || !editor.isEditable) return;
          form = chartForm(formEl, current.attrs, (attrs) => {
            const pos = getPos();
            if (typeof pos === "number") {
              editor.view.dispatch(editor.state.tr.setNodeMarkup(pos, undefined, { ...current.attrs, ...attrs }));
            }
            form.remove();
            form = null;
          }, () => {
            form.remove();
            form = null;
          });
          dom.append(form);
        });
        head.append(edit);
      }
      draw();
      return {
        dom,
        update(next) {
          if (next.type !== current.type) return false;
          const changed = next.attrs !== current.attrs;
          current = next;
          if (changed) draw();
          return true;
        },
        stopEvent: (event) => Boolean(form && form.contains(event.target)),
        ignoreMutation: () => true,
      };
    };
  },
});

// The toolbar of writers: 待办, 图片, 附件, 联系人, 文档, 图表.
export function richToolbar(el, editor, session, api) {
  const say = el("span", { class: "toolbar-message", role: "status" });
  const button = (label, name, run) => {
    const b = el("button", { type: "button", name }, label);
    b.addEventListener("click", () => {
      say.textContent = "";
      Promise.resolve(run()).catch((e) => { say.textContent = e.message; });
    });
    return b;
  };
  const picker = (name, accept, onFile) => {
    const input = el("input", { type: "file", class: "hidden-input", name, ...(accept ? { accept } : {}) });
    input.addEventListener("change", () => {
      const file = input.files[0];
      input.value = "";
      if (file) onFile(file).catch((e) => { say.textContent = e.message; });
    });
    return input;
  };
  const imageInput = picker("image-file", "image/*", async (file) => {
    const size = await naturalSize(file);
    const src = await uploadMedia(session, file);
    insertAfter(editor, { type: "image", attrs: { src, name: file.name, ...size } });
  });
  const fileInput = picker("attach-file", "", async (file) => {
    const src = await uploadMedia(session, file);
    insertAfter(editor, { type: "fileEmbed", attrs: { src, name: file.name, size: file.size, mime: file.type || "application/octet-stream" } });
  });
  const panel = el("div", { class: "pick-panel", hidden: "" });
  const bar = el("div", { class: "rich-toolbar", role: "toolbar", "aria-label": "插入" },
    button("☑ 待办", "todo", () => editor.chain().focus().toggleTaskList().run()),
    button("图片", "image", () => imageInput.click()),
    button("附件", "file", () => fileInput.click()),
    button("联系人", "contact", () => contactPicker(el, panel, editor, session)),
    button("文档", "doc-embed", () => docPicker(el, panel, editor, session, api)),
    button("图表", "chart", () => {
      panel.replaceChildren(chartForm(el, {}, (attrs) => {
        panel.hidden = true;
        insertAfter(editor, { type: "chart", attrs });
      }, () => { panel.hidden = true; }, sheetSource(el, session, api)));
      panel.hidden = false;
    }),
    imageInput, fileInput, say, panel);
  return bar;
}

// Inserted after the selection, never over it (a card just inserted is selected).
function insertAfter(editor, content) {
  editor.chain().focus().insertContentAt(editor.state.selection.to, content).run();
}

async function naturalSize(file) {
  try {
    const bitmap = await createImageBitmap(file);
    const scale = Math.min(1, MAX_WIDTH / bitmap.width);
    const size = { width: Math.round(bitmap.width * scale), height: Math.round(bitmap.height * scale) };
    bitmap.close();
    return size;
  } catch {
    return {};
  }
}

function showPanel(el, panel, label, onSearch) {
  const input = el("input", { type: "search", name: "pick-search", "aria-label": label, placeholder: label });
  const list = el("ul", { class: "pick-results" });
  const close = el("button", { type: "button", class: "pick-close" }, "关闭");
  close.addEventListener("click", () => { panel.hidden = true; });
  panel.replaceChildren(input, close, list);
  panel.hidden = false;
  let seq = 0;
  const run = () => {
    const mine = ++seq;
    onSearch(input.value.trim()).then((items) => {
      if (mine === seq) list.replaceChildren(...items);
    }, (e) => { if (mine === seq) list.replaceChildren(el("li", { class: "error" }, e.message)); });
  };
  input.addEventListener("input", run);
  input.focus();
  run();
}

function choice(el, label, sub, onPick) {
  const b = el("button", { type: "button", class: "pick-item" }, el("strong", {}, label), el("span", {}, sub));
  b.addEventListener("click", onPick);
  return el("li", {}, b);
}

// The directory's member search (the web client's: name, pinyin, initials).
function contactPicker(el, panel, editor, session) {
  showPanel(el, panel, "搜索联系人：姓名、拼音或首字母", async (q) => {
    if (!q) return [];
    const response = await fetch(`/_jwwx/client/v1/directory/search/members?limit=20&q=${encodeURIComponent(q)}`, {
      headers: { Authorization: `Bearer ${session.token}` },
    });
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(answer.error || `搜索失败（${response.status}）`);
    return (answer.members || answer.results || []).map((m) => {
      const unit = (m.departments || []).map((d) => d.name).filter(Boolean)[0] || "";
      return choice(el, m.name || m.userid, [unit, m.user_id].filter(Boolean).join(" · "), () => {
        panel.hidden = true;
        insertAfter(editor, { type: "contactCard", attrs: { userId: m.user_id, name: m.name || m.userid, unit } });
      });
    });
  });
}

// The officer's own and shared documents, filtered by title.
function docPicker(el, panel, editor, session, api) {
  let all = null;
  showPanel(el, panel, "按标题查找文档", async (q) => {
    if (all === null) {
      const [mine, shared] = await Promise.all([api(session, "GET", "?filter=mine&limit=200"), api(session, "GET", "?filter=shared&limit=200")]);
      all = [...mine.documents, ...shared.documents];
    }
    return all.filter((d) => !q || d.title.includes(q)).slice(0, 30).map((d) =>
      choice(el, d.title, d.doc_id, () => {
        panel.hidden = true;
        insertAfter(editor, { type: "docEmbed", attrs: { docId: d.doc_id } }); // no title kept: each reader sees what he may
      }));
  });
}
