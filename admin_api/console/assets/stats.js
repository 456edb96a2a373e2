// SPDX-License-Identifier: AGPL-3.0-or-later
// 运营: active members per day / week / month and per unit, and the usage records
// (logins by platform), from modules/accounts' GET activity; charts drawn as SVG here
// (no chart library). A unit's admin sees its units only.

import { get } from "./api.js";
import { append, clear, h, table } from "./dom.js";

const ACTIVITY = "/_jwwx/admin/v1/accounts/activity";
const PERIODS = [["day", "按日", 30], ["week", "按周", 12], ["month", "按月", 12]];
const PLATFORMS = { mobile: "手机", desktop: "电脑客户端", web: "网页", other: "其他" };
const SVG = "http://www.w3.org/2000/svg";

// An SVG element; text only ever as a text node.
function s(tag, attrs, text) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = String(text);
  return el;
}

function label(start, period) {
  const [, m, d] = start.split("-");
  if (period === "month") return `${Number(m)}月`;
  return `${Number(m)}/${Number(d)}${period === "week" ? "起" : ""}`;
}

// Columns of active members per period, with the values on top and a few dates below.
export function barChart(series, period) {
  const width = 900, height = 260, left = 44, bottom = 28, top = 16;
  const max = Math.max(1, ...series.map((p) => p.active));
  const step = (width - left) / series.length;
  const y = (v) => top + (height - top - bottom) * (1 - v / max);
  const svg = s("svg", { viewBox: `0 0 ${width} ${height}`, class: "chart", role: "img", "aria-label": "活跃人数" });
  for (const tick of [0, 0.5, 1]) {
    const v = Math.round(max * tick);
    svg.append(s("line", { x1: left, x2: width, y1: y(v), y2: y(v), class: "grid-line" }),
      s("text", { x: left - 6, y: y(v) + 4, "text-anchor": "end", class: "axis" }, v));
  }
  const every = Math.ceil(series.length / 12);
  series.forEach((p, i) => {
    const x = left + i * step + step * 0.15;
    const bar = s("rect", { x, y: y(p.active), width: step * 0.7, height: Math.max(0, height - bottom - y(p.active)), class: "bar" });
    bar.append(s("title", {}, `${p.start}：${p.active} 人`));
    svg.append(bar);
    if (p.active && series.length <= 31) svg.append(s("text", { x: x + step * 0.35, y: y(p.active) - 4, "text-anchor": "middle", class: "value" }, p.active));
    if (i % every === 0) svg.append(s("text", { x: x + step * 0.35, y: height - 8, "text-anchor": "middle", class: "axis" }, label(p.start, period)));
  });
  return svg;
}

// A unit's active share as a horizontal bar.
function shareBar(active, members) {
  const share = members ? Math.min(1, active / members) : 0;
  const svg = s("svg", { viewBox: "0 0 200 14", class: "share", role: "img", "aria-label": `${Math.round(share * 100)}%` });
  svg.append(s("rect", { x: 0, y: 0, width: 200, height: 14, class: "share-bg" }), s("rect", { x: 0, y: 0, width: 200 * share, height: 14, class: "bar" }));
  return svg;
}

export async function showStats(content, ctx) {
  const tabs = h("div", { class: "tabs" });
  const body = h("div", { class: "stats" });
  clear(content, h("div", { class: "page-head" }, h("h1", { text: "运营" }),
    ctx.isSuper ? h("div", { class: "actions" }, h("a", { href: "#/operations", class: "button-link", text: "管理员操作日志" })) : null),
  tabs, body);
  const buttons = PERIODS.map(([period, text, count]) => {
    const b = h("button", { type: "button", class: "tab", text, dataset: { period } });
    b.addEventListener("click", async () => {
      for (const x of buttons) x.classList.toggle("active", x === b);
      const panel = h("div", {}, h("p", { class: "muted", text: "正在统计…" }));
      clear(body, panel);  // a slower earlier answer lands in its detached panel
      try {
        render(panel, await get(`${ACTIVITY}?period=${period}&count=${count}`));
      } catch (e) {
        clear(panel, h("p", { class: "form-error", role: "alert", text: e.message }));
      }
    });
    return b;
  });
  append(tabs, buttons);
  buttons[0].click();
}

function render(body, r) {
  const units = r.units.map((u) => h("tr", { dataset: { unit: u.id } }, h("td", { text: u.name }), h("td", { text: u.active }), h("td", { text: u.members }),
    h("td", { text: u.members ? `${Math.round((100 * u.active) / u.members)}%` : "—" }), h("td", {}, shareBar(u.active, u.members))));
  const usage = r.usage ? Object.entries(r.usage).map(([platform, results]) => h("tr", {}, h("td", { text: PLATFORMS[platform] || platform }),
    h("td", { text: results.ok || 0 }), h("td", { text: Object.entries(results).filter(([k]) => k !== "ok").reduce((n, [, v]) => n + v, 0) }))) : null;
  clear(body,
    h("p", { class: "muted", text: `${r.first_day} 至 ${r.last_day}：活跃成员共 ${r.total_active} 人（当天使用过客户端的成员，每人每天计一次）` }),
    barChart(r.series, r.period),
    h("h2", { text: "各单位活跃情况" }),
    table(["单位", "活跃人数", "成员数", "活跃率", ""], units, { className: "grid units-table", empty: "统计期内没有活跃的成员" }),
    usage ? [h("h2", { text: "使用记录（登录次数）" }), table(["设备类型", "成功登录", "失败或被拒"], usage, { empty: "统计期内没有登录记录" })] : null);
}
