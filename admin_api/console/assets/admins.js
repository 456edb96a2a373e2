// SPDX-License-Identifier: AGPL-3.0-or-later
// 管理员: the admin groups tree, a group's members, scope, rights and hidden fields
// (only rights the editing admin holds can be granted: the API refuses the others with
// CN_JWWX_ADMIN_RIGHTS_EXCEED, the form does not offer them), the separated roles and
// the unit quotas (super admin). Through /_jwwx/admin/v1/admins.

import { del, enc, get, post, put, submitting } from "./api.js";
import { append, clear, confirmDialog, errorBox, field, h, table, toast } from "./dom.js";
import { departmentNames, departmentPicker } from "./members.js";

const ADMINS = "/_jwwx/admin/v1/admins";

export const RIGHTS = [
  ["directory.view", "查看通讯录"],
  ["directory.edit_structure", "编辑组织架构"],
  ["directory.edit_members", "编辑成员"],
  ["directory.import_export", "导入导出"],
  ["directory.reset_password", "重置密码"],
  ["directory.enable_disable", "启用/停用成员"],
  ["apps.manage", "管理应用"],
  ["apps.create", "创建应用"],
  ["settings.keywords", "敏感词设置"],
  ["settings.watermark", "水印与分享设置"],
  ["settings.retention", "消息保存期限"],
  ["settings.group_caps", "群聊人数上限"],
  ["settings.mfa_device", "二次验证与设备策略"],
  ["groups.create_subgroups", "创建下级管理组"],
];
const FIELDS = [["gender", "性别"], ["mobile", "手机"], ["telephone", "座机"], ["email", "邮箱"], ["position", "职务"], ["avatar", "头像"]];
const ROLES = [["super", "超级管理员"], ["audit", "审计管理员"], ["security", "安全管理员"]];

export async function showAdmins(content, ctx) {
  const tabs = h("div", { class: "tabs" });
  const body = h("div", {});
  clear(content, h("div", { class: "page-head" }, h("h1", { text: "管理员" })), tabs, body);
  const pages = [["管理组", () => groupsPage(body, ctx)]];
  if (ctx.isSuper) pages.push(["三员角色", () => rolesPage(body)], ["单位授权人数", () => quotasPage(body)]);
  const buttons = pages.map(([label, show]) => {
    const b = h("button", { type: "button", class: "tab", text: label });
    b.addEventListener("click", () => {
      for (const x of buttons) x.classList.toggle("active", x === b);
      show().catch((e) => toast(e.message, "error"));
    });
    return b;
  });
  append(tabs, buttons);
  buttons[0].click();
}

async function groupsPage(body, ctx) {
  const { groups } = await get(`${ADMINS}/groups`);
  const byParent = new Map();
  const ids = new Set(groups.map((g) => g.id));
  for (const g of groups) {
    const parent = ids.has(g.parent_id) ? g.parent_id : null;
    if (!byParent.has(parent)) byParent.set(parent, []);
    byParent.get(parent).push(g);
  }
  const editor = h("section", { class: "detail" });
  const list = (parent) => h("ul", { role: parent === null ? "tree" : "group", class: parent === null ? "tree" : "" },
    (byParent.get(parent) || []).map((g) => {
      const label = h("button", { type: "button", class: "node-label", dataset: { group: g.id } },
        h("span", { class: "node-name", text: g.name }), h("span", { class: "count", text: `(${g.members.length})` }));
      label.addEventListener("click", () => {
        for (const x of body.querySelectorAll(".node-label")) x.classList.remove("selected");
        label.classList.add("selected");
        groupForm(editor, ctx, g, groups, () => groupsPage(body, ctx));
      });
      return h("li", { role: "treeitem" }, label, byParent.has(g.id) ? list(g.id) : null);
    }));
  const create = h("button", { type: "button", class: "primary", text: "新建管理组" });
  create.addEventListener("click", () => groupForm(editor, ctx, null, groups, () => groupsPage(body, ctx)));
  clear(body, h("div", { class: "split" },
    h("aside", { class: "tree-panel" }, h("div", { class: "actions" }, create),
      groups.length ? list(null) : h("p", { class: "muted", text: "还没有管理组" })),
    editor));
  clear(editor, h("p", { class: "muted", text: "选择左侧的管理组查看和修改，或新建管理组" }));
}

// The rights this admin may grant: every right for the super admin, else those its own
// groups hold (the server checks the exact rule).
function grantable(ctx) {
  return ctx.isSuper ? new Set(RIGHTS.map(([r]) => r)) : ctx.rights;
}

async function groupForm(editor, ctx, group, groups, done) {
  const creating = group === null;
  const error = errorBox();
  const name = h("input", { name: "name", value: creating ? "" : group.name, required: true });
  const parent = h("select", { name: "parent_id" },
    ctx.isSuper ? h("option", { value: "", text: "（无，顶级管理组）" }) : null,
    groups.filter((g) => !group || g.id !== group.id).map((g) => h("option", { value: g.id, text: g.name, selected: group && g.id === group.parent_id })));
  const members = h("textarea", { name: "members", rows: 3, placeholder: "每行一个账号，如 zhangsan" });
  members.value = creating ? "" : group.members.map((m) => m.replace(/^@/, "").replace(/:.*$/, "")).join("\n");
  const scope = departmentPicker("管理范围（部门及其所有下级）", await departmentNames(creating ? [] : group.scope), 500, "groups.create_subgroups");
  const allowed = grantable(ctx);
  const rights = RIGHTS.map(([right, label]) => {
    const box = h("input", { type: "checkbox", name: "right", value: right, checked: !creating && group.rights.includes(right), disabled: !allowed.has(right) });
    return h("label", { class: "check", title: allowed.has(right) ? right : "您自己没有这项权限，不能授予" }, box, label);
  });
  const hidden = FIELDS.map(([f, label]) => h("label", { class: "check" },
    h("input", { type: "checkbox", name: "hidden_field", value: f, checked: !creating && group.hidden_fields.includes(f) }), label));
  const apps = h("input", { name: "apps", value: creating ? "" : group.apps.join(","), placeholder: "应用ID，用逗号分隔；* 表示全部" });
  const save = h("button", { type: "button", class: "primary", text: creating ? "创建" : "保存" });
  const remove = creating ? null : h("button", { type: "button", class: "danger", text: "删除管理组" });
  clear(editor,
    h("h2", { text: creating ? "新建管理组" : group.name }),
    creating ? null : h("p", { class: "muted", text: `实际权限：${group.effective_rights.map(label).join("、") || "无"}` }),
    h("div", { class: "form-grid" }, field("名称", name), field("上级管理组", parent), field("管理员（账号）", members), scope.el,
      h("fieldset", {}, h("legend", { text: "权限" }), rights),
      h("fieldset", {}, h("legend", { text: "隐藏字段（本组管理员看不到）" }), hidden),
      field("可管理的应用", apps)),
    error.el, h("div", { class: "actions" }, remove, save));

  save.addEventListener("click", async () => {
    const body = {
      name: name.value.trim(),
      members: members.value.split(/[\s,，;；]+/).filter(Boolean).map((m) => (m.startsWith("@") ? m : `@${m}:${ctx.serverName}`)),
      scope: scope.ids(),
      rights: [...editor.querySelectorAll("input[name=right]:checked")].map((x) => x.value),
      hidden_fields: [...editor.querySelectorAll("input[name=hidden_field]:checked")].map((x) => x.value),
      apps: apps.value.split(/[\s,，]+/).filter(Boolean),
    };
    if (parent.value) body.parent_id = Number(parent.value);
    else if (!creating) body.parent_id = null;
    await submitting(save, error, async () => {
      if (creating) await post(`${ADMINS}/groups`, body);
      else await put(`${ADMINS}/groups/${group.id}`, body);
      toast(creating ? `已创建管理组“${body.name}”` : "管理组已保存");
      await done();
    }, groupError);
  });
  if (remove) {
    remove.addEventListener("click", async () => {
      if (!(await confirmDialog("删除管理组", `确定删除管理组“${group.name}”吗？`, "删除"))) return;
      try {
        await del(`${ADMINS}/groups/${group.id}`);
        toast("管理组已删除");
        await done();
      } catch (e) {
        error.show(e.message);
      }
    });
  }
}

function label(right) {
  const found = RIGHTS.find(([r]) => r === right);
  return found ? found[1] : right;
}

function groupError(e) {
  const x = e.body.exceeding;
  if (e.errcode === "CN_JWWX_ADMIN_RIGHTS_EXCEED" && x) {
    const parts = [];
    if (x.rights) parts.push(`权限：${x.rights.map(label).join("、")}`);
    if (x.scope) parts.push(`范围：部门 ${x.scope.join("、")}`);
    if (x.apps) parts.push(`应用：${x.apps.join("、")}`);
    if (x.hidden_fields) parts.push(`须隐藏字段：${x.hidden_fields.join("、")}`);
    return `${e.message}（${parts.join("；")}）`;
  }
  return e.message;
}

async function rolesPage(body) {
  const { roles } = await get(`${ADMINS}/roles`);
  const names = Object.fromEntries(ROLES);
  const user = h("input", { name: "role_user", placeholder: "完整账号，如 @zhangsan:server" });
  const boxes = ROLES.map(([r, t]) => h("label", { class: "check" }, h("input", { type: "checkbox", name: "role", value: r }), t));
  const error = errorBox();
  const save = h("button", { type: "button", class: "primary", text: "设置角色" });
  save.addEventListener("click", async () => {
    error.hide();
    try {
      const chosen = [...body.querySelectorAll("input[name=role]:checked")].map((x) => x.value);
      await put(`${ADMINS}/roles/${enc(user.value.trim())}`, { roles: chosen });
      toast("角色已设置");
      await rolesPage(body);
    } catch (e) {
      error.show(e.message);
    }
  });
  clear(body,
    h("p", { class: "muted", text: "超级管理员、审计管理员、安全管理员三员分立：同一账号只能担任其中一种。" }),
    table(["账号", "角色", "设置人", "设置时间"], roles.map((r) => h("tr", {},
      h("td", { text: r.user_id }), h("td", { text: names[r.role] || r.role }), h("td", { text: r.assigned_by || "" }),
      h("td", { text: r.assigned_ts ? new Date(r.assigned_ts).toLocaleString("zh-CN") : "" })))),
    h("h3", { text: "设置某个账号的角色（替换其现有角色）" }),
    h("div", { class: "form-grid" }, field("账号", user), h("div", {}, boxes)), error.el, save);
}

async function quotasPage(body) {
  const answer = await get(`${ADMINS}/quotas`);
  const row = (id, name, q) => {
    const input = h("input", { type: "number", min: 0, value: q.quota ?? "", placeholder: "不限", "aria-label": `${name}授权人数` });
    const save = h("button", { type: "button", class: "link", text: "保存" });
    save.addEventListener("click", async () => {
      try {
        const value = input.value.trim() === "" ? null : Number(input.value);
        const r = await put(`${ADMINS}/quotas/${id}`, { quota: value });
        toast(r.warning || "授权人数已保存", r.warning ? "warn" : "ok");
        await quotasPage(body);
      } catch (e) {
        toast(e.message, "error");
      }
    });
    return h("tr", { class: q.over_quota ? "over" : "" }, h("td", { text: name }), h("td", {}, input), h("td", { text: q.usage }),
      h("td", { text: q.over_quota ? "已超出" : "" }), h("td", {}, save));
  };
  clear(body,
    h("p", { class: "muted", text: "二级单位（顶级部门的直属下级）的授权人数：主部门在该单位的启用成员数不能超过它。" }),
    table(["单位", "授权人数", "已用", "", ""], [row("total", "全局总数", answer.total), ...answer.units.map((u) => row(u.id, u.name, u))]));
}
