// SPDX-License-Identifier: AGPL-3.0-or-later
// 工作台: the officers' workbench entries (modules/workbench's admin API, right
// apps.workbench): the entries by category, each one's address or app, network zone and
// the risk prompt shown before opening another zone, its visible range (departments
// picked within the admin's scope, userids; empty = everyone), order and switch.

import { ApiError, del, get, post, put, submitting } from "./api.js";
import { append, clear, confirmDialog, dialog, errorBox, field, h, table, toast } from "./dom.js";
import { departmentNames, departmentPicker } from "./members.js";

const ENTRIES = "/_jwwx/admin/v1/workbench/entries";
const ZONES = [["internal", "本网络区域（公安网）"], ["external", "其他网络区域（需风险提示）"]];

export async function showWorkbench(content, ctx) {
  const { entries } = await get(ENTRIES);
  const add = h("button", { type: "button", class: "primary", text: "添加入口" });
  add.addEventListener("click", () => entryForm(null, () => showWorkbench(content, ctx)));
  const categories = new Map();
  for (const e of [...entries].sort((a, b) => a.position - b.position || a.id - b.id)) {
    const name = e.category || "未分类";
    if (!categories.has(name)) categories.set(name, []);
    categories.get(name).push(e);
  }
  const sections = [...categories].map(([name, list]) => h("section", { class: "bench-category" },
    h("h2", { text: `${name}（${list.length}）` }),
    table(["名称", "打开方式", "网络区域", "可见范围", "顺序", "状态", ""], list.map((e) => {
      const edit = h("button", { type: "button", class: "link", text: "编辑" });
      edit.addEventListener("click", () => entryForm(e, () => showWorkbench(content, ctx)));
      const remove = h("button", { type: "button", class: "link danger", text: "删除" });
      remove.addEventListener("click", async () => {
        if (!(await confirmDialog("删除入口", `确定删除工作台入口“${e.name}”吗？`, "删除"))) return;
        try {
          await del(`${ENTRIES}/${e.id}`);
          toast("已删除");
          await showWorkbench(content, ctx);
        } catch (err) {
          toast(err.message, "error");
        }
      });
      return h("tr", { dataset: { entry: e.id } }, h("td", { text: e.name }),
        h("td", { class: "mono", text: e.agentid ? `应用 ${e.agentid}（免登录）` : e.url }),
        h("td", {}, e.zone === "external" ? [h("span", { class: "badge warn", text: "其他区域" }),
          h("div", { class: "field-hint risk-prompt", text: `提示：${e.risk_prompt || "（默认提示）"}` })] : "本区域"),
        h("td", { text: rangeText(e.visible_range) }), h("td", { text: e.position }),
        h("td", { text: e.enabled ? "启用" : "停用" }), h("td", {}, edit, remove));
    }))));
  clear(content, h("div", { class: "page-head" }, h("h1", { text: "工作台" }), h("div", { class: "actions" }, add)),
    h("p", { class: "muted", text: "民警在客户端“工作台”看到的应用入口。打开其他网络区域的入口前，客户端先显示风险提示。" }),
    sections.length ? sections : h("p", { class: "muted", text: "还没有工作台入口" }));
}

function rangeText(range) {
  if (!range) return "全员";
  return `部门 ${range.department_ids.length} 个，成员 ${range.userids.length} 人，标签 ${range.tag_ids.length} 个`;
}

async function entryForm(entry, done) {
  const creating = entry === null;
  const d = dialog(creating ? "添加工作台入口" : `入口：${entry.name}`, { wide: true });
  const error = errorBox();
  const value = (key, fallback = "") => (creating || entry[key] === null || entry[key] === undefined ? fallback : String(entry[key]));
  const name = h("input", { name: "entry_name", value: value("name") });
  const category = h("input", { name: "category", value: value("category"), placeholder: "如：办公、执法、通知" });
  const description = h("input", { name: "description", value: value("description") });
  const url = h("input", { name: "url", value: value("url"), placeholder: "https://…" });
  const agentid = h("input", { name: "agentid", value: value("agentid"), inputmode: "numeric", placeholder: "留空：直接打开链接" });
  const zone = h("select", { name: "zone" }, ZONES.map(([v, t]) => h("option", { value: v, text: t, selected: value("zone", "internal") === v })));
  const prompt = h("textarea", { name: "risk_prompt", rows: 3, class: "wide-input", placeholder: "留空使用默认提示" }, value("risk_prompt"));
  const position = h("input", { name: "position", type: "number", min: 0, value: value("position", "0") });
  const enabled = h("input", { type: "checkbox", name: "enabled", checked: creating || entry.enabled });
  const range = creating ? null : entry.visible_range;
  const picker = departmentPicker("可见范围：部门（含下级）", range ? await departmentNames(range.department_ids) : [], 500, "apps.workbench");
  const users = h("input", { name: "range_users", value: range ? range.userids.join(",") : "", placeholder: "账号，用逗号分隔；部门和成员都不填则全员可见" });
  const promptRow = field("风险提示", prompt, "打开其他网络区域的入口前显示给民警");
  const showPrompt = () => { promptRow.hidden = zone.value !== "external"; };
  zone.addEventListener("change", showPrompt);
  showPrompt();
  append(d.body, h("div", { class: "form-grid" }, field("名称", name), field("分类", category), field("简介", description),
    field("链接", url, "应用入口填写应用首页，打开时附带免登录 code"), field("应用 AgentId", agentid), field("网络区域", zone), promptRow,
    picker.el, field("可见范围：成员", users), field("顺序", position, "数字小的在前"),
    h("label", { class: "check" }, enabled, "启用")), error.el);
  const save = h("button", { type: "button", class: "primary", text: "保存" });
  const cancel = h("button", { type: "button", text: "取消" });
  cancel.addEventListener("click", d.close);
  append(d.footer, cancel, save);
  save.addEventListener("click", async () => {
    const userids = users.value.split(/[\s,，]+/).filter(Boolean);
    const body = {
      name: name.value.trim(),
      url: url.value.trim(),
      description: description.value.trim(),
      zone: zone.value,
      risk_prompt: zone.value === "external" && prompt.value.trim() ? prompt.value.trim() : null,
      position: Number(position.value) || 0,
      enabled: enabled.checked,
      agentid: agentid.value.trim() ? Number(agentid.value.trim()) : null,
      visible_range: picker.ids().length || userids.length ? { department_ids: picker.ids(), userids, tag_ids: range ? range.tag_ids : [] } : null,
    };
    if (category.value.trim()) body.category = category.value.trim();
    await submitting(save, error, async () => {
      if (creating) await post(ENTRIES, body);
      else await put(`${ENTRIES}/${entry.id}`, body);
      d.close();
      toast("已保存");
      await done();
    });
  });
  name.focus();
}
