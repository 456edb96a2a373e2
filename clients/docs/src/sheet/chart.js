// SPDX-License-Identifier: AGPL-3.0-or-later
// Charts of a sheet drawn as SVG (docs/documents.md "Spreadsheets": column, bar, line,
// pie), from the live values of their range; loaded by view.js only when the sheet in
// view has charts. A range is read as Excel reads it: a first row with text (beyond
// the first column) names the series, a first column with text holds the categories,
// each other column is a series (a pie draws the first). sheet_export.py writes the
// same series into an .xlsx chart. drawChart also draws a text document's chart
// blocks (rich.js ChartNode, which loads this chunk when one is shown).
import { cellName } from "./cells.js";
import { display } from "./format.js";
import { parseRange } from "./model.js";

const COLOURS = ["#4472c4", "#ed7d31", "#a5a5a5", "#ffc000", "#5b9bd5", "#70ad47", "#264478", "#9e480e"];
const SVG = "http://www.w3.org/2000/svg";

/** {categories: [text], series: [{name, values: [number|null]}]} of a chart's range;
 * `valueAt(name)` is a cell's shown value. */
export function chartData(range, valueAt) {
  const r = parseRange(range);
  if (!r) return { categories: [], series: [] };
  const text = (row, col) => typeof valueAt(cellName(row, col)) === "string";
  const first = r.c1 > r.c0 ? r.c0 + 1 : r.c0;
  let header = false;
  for (let c = first; c <= r.c1 && r.r1 > r.r0; c++) header = header || text(r.r0, c);
  const top = header ? r.r0 + 1 : r.r0;
  let categories = false;
  for (let row = top; row <= r.r1 && r.c1 > r.c0; row++) categories = categories || text(row, r.c0);
  const labels = [];
  for (let row = top; row <= r.r1; row++) {
    labels.push(categories ? display(valueAt(cellName(row, r.c0))) : String(row - top + 1));
  }
  const series = [];
  for (let c = categories ? r.c0 + 1 : r.c0; c <= r.c1; c++) {
    const values = [];
    for (let row = top; row <= r.r1; row++) {
      const v = valueAt(cellName(row, c));
      values.push(typeof v === "number" && Number.isFinite(v) ? v : null);
    }
    series.push({ name: header ? display(valueAt(cellName(r.r0, c))) : `系列${series.length + 1}`, values });
  }
  return { categories: labels, series };
}

function node(name, attrs = {}, text = null) {
  const n = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, String(v));
  if (text !== null) n.textContent = text;
  return n;
}

// Round steps for an axis from lo to hi: [lo', hi', step].
function scale(lo, hi) {
  if (lo === hi) { lo = Math.min(0, lo); hi = hi === 0 ? 1 : Math.max(0, hi); }
  const raw = (hi - lo) / 5;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) || raw;
  return [Math.floor(lo / step) * step, Math.ceil(hi / step) * step, step];
}

const short = (n) => String(Number(n.toPrecision(6)));

/** The chart as an <svg> of `w` × `h` pixels. */
export function drawChart(type, data, w, h) {
  const svg = node("svg", { width: w, height: h, viewBox: `0 0 ${w} ${h}`, class: "chart-svg", "data-type": type });
  const { categories, series } = data;
  if (type === "pie") return pie(svg, categories, series[0], w, h);
  const legend = series.length > 1 || (series[0] && !series[0].name.startsWith("系列"));
  const left = 48;
  const right = legend ? 96 : 12;
  const top = 10;
  const bottom = 28;
  const pw = Math.max(10, w - left - right);
  const ph = Math.max(10, h - top - bottom);
  const all = series.flatMap((s) => s.values).filter((v) => v !== null);
  const [lo, hi, step] = scale(Math.min(0, ...all), Math.max(0, ...all, all.length ? -Infinity : 1));
  const horizontal = type === "bar";
  const at = (v) => (horizontal ? left + ((v - lo) / (hi - lo)) * pw : top + ph - ((v - lo) / (hi - lo)) * ph);
  const axis = node("g", { class: "axis", fill: "#555", "font-size": 10 });
  for (let v = lo; v <= hi + step / 2; v += step) {
    const p = at(v);
    if (horizontal) {
      axis.append(node("line", { x1: p, x2: p, y1: top, y2: top + ph, stroke: "#e5e5e5" }));
      axis.append(node("text", { x: p, y: top + ph + 12, "text-anchor": "middle" }, short(v)));
    } else {
      axis.append(node("line", { x1: left, x2: left + pw, y1: p, y2: p, stroke: "#e5e5e5" }));
      axis.append(node("text", { x: left - 4, y: p + 3, "text-anchor": "end" }, short(v)));
    }
  }
  svg.append(axis);
  const n = Math.max(1, categories.length);
  const band = (horizontal ? ph : pw) / n;
  const base = at(Math.max(lo, Math.min(0, hi)));
  categories.forEach((name, i) => {
    const mid = (horizontal ? top : left) + band * (i + 0.5);
    const attrs = horizontal
      ? { x: left - 4, y: mid + 3, "text-anchor": "end" }
      : { x: mid, y: top + ph + 14, "text-anchor": "middle" };
    svg.append(node("text", { ...attrs, class: "category", fill: "#555", "font-size": 10 }, name));
  });
  series.forEach((s, k) => {
    const colour = COLOURS[k % COLOURS.length];
    const g = node("g", { class: "series", "data-series": s.name, fill: colour, stroke: colour });
    if (type === "line") {
      const points = s.values.map((v, i) => (v === null ? null : [left + band * (i + 0.5), at(v)]));
      const path = points.filter(Boolean).map((p, i) => `${i ? "L" : "M"}${p[0].toFixed(1)},${p[1].toFixed(1)}`).join("");
      g.append(node("path", { d: path, fill: "none", "stroke-width": 2 }));
      points.forEach((p, i) => {
        if (p) g.append(node("circle", { cx: p[0], cy: p[1], r: 3, "data-value": s.values[i] }));
      });
    } else {
      const width = (band * 0.7) / series.length;
      s.values.forEach((v, i) => {
        if (v === null) return;
        const start = (horizontal ? top : left) + band * (i + 0.15) + width * k;
        const p = at(v);
        const [a, b] = [Math.min(p, base), Math.abs(p - base)];
        g.append(node("rect", horizontal
          ? { x: a, y: start, width: b, height: width, stroke: "none", "data-value": v }
          : { x: start, y: a, width, height: b, stroke: "none", "data-value": v }));
      });
    }
    svg.append(g);
  });
  if (legend) legendOf(svg, series.map((s) => s.name), w - right + 8, top);
  return svg;
}

function legendOf(svg, names, x, y) {
  names.forEach((name, k) => {
    svg.append(node("rect", { x, y: y + k * 16, width: 10, height: 10, fill: COLOURS[k % COLOURS.length] }));
    svg.append(node("text", { x: x + 14, y: y + k * 16 + 9, "font-size": 11, fill: "#333" }, name));
  });
}

function pie(svg, categories, s, w, h) {
  if (!s) return svg;
  const values = s.values.map((v) => (v !== null && v > 0 ? v : 0));
  const total = values.reduce((a, b) => a + b, 0);
  const r = Math.max(10, Math.min(w - 110, h) / 2 - 10);
  const cx = r + 10;
  const cy = h / 2;
  let angle = -Math.PI / 2;
  values.forEach((v, i) => {
    if (!total || !v) return;
    const next = angle + (v / total) * 2 * Math.PI;
    const [x0, y0] = [cx + r * Math.cos(angle), cy + r * Math.sin(angle)];
    const [x1, y1] = [cx + r * Math.cos(next), cy + r * Math.sin(next)];
    const d = v === total
      ? `M${cx - r},${cy}a${r},${r} 0 1,0 ${2 * r},0a${r},${r} 0 1,0 ${-2 * r},0`
      : `M${cx},${cy}L${x0},${y0}A${r},${r} 0 ${next - angle > Math.PI ? 1 : 0},1 ${x1},${y1}Z`;
    svg.append(node("path", { d, fill: COLOURS[i % COLOURS.length], stroke: "#fff", class: "slice", "data-value": v }));
    angle = next;
  });
  legendOf(svg, categories, 2 * r + 30, 10);
  return svg;
}
