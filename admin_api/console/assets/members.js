// SPDX-License-Identifier: AGPL-3.0-or-later
// A member's form (the directory's validation messages shown as the server words them)
// and its account actions (modules/accounts' admin API: initial password, enable and
// disable, devices and kick-offline, unlock, MFA reset, login history).

import { ApiError, del, enc, get, post, put, submitting } from "./api.js";
import { append, clear, confirmDialog, dialog, errorBox, field, formatTime, h, table, toast } from "./dom.js";
import { subDepartments } from "./directory.js";

const DIRECTORY = "/_jwwx/admin/v1/directory";
const ACCOUNTS = "/_jwwx/admin/v1/accounts";

// Chips of departments, a search box that adds one by name and a directory tree to pick
// from, both through the admin API and kept to the admin's scope for `right` (the
// search: search/departments?right=; the tree starts at the roots for the super admin,
// else at the scope of the admin's groups holding `right`, and opens one level at a
// time), so a scoped admin sees no department name outside its scope. `max` limits how
// many may be chosen.
export function departmentPicker(label, initial, max = 20, right = "directory.view") {
  const chosen = new Map(initial.map((d) => [d.id, d.name]));
  const chips = h("div", { class: "chips" });
  const input = h("input", { type: "search", placeholder: "输入部门名称查找", "aria-label": label });
  const found = h("ul", { class: "plain picker-results" });
  const browse = h("button", { type: "button", class: "link picker-browse", text: "从组织架构选择" });
  const tree = h("ul", { class: "tree picker-tree", hidden: true, "aria-label": `${label}：组织架构` });
  const render = () => clear(chips, [...chosen].map(([id, name]) => {
    const x = h("button", { type: "button", class: "chip", title: "移除", dataset: { id } }, `${name} ×`);
    x.addEventListener("click", () => { chosen.delete(id); render(); });
    return x;
  }));
  const add = (d) => {
    if (max === 1) chosen.clear();
    if (chosen.size < max) chosen.set(d.id, d.name);
    render();
  };
  render();
  let timer = null;
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const q = input.value.trim();
      if (!q) return clear(found);
      try {
        const answer = await get(`${DIRECTORY}/search/departments?q=${enc(q)}&limit=20&right=${enc(right)}`);
        clear(found, (answer.results || []).map((d) => {
          const path = (d.path || []).map((p) => p.name).concat(d.name).join(" / ");
          const b = h("button", { type: "button", class: "link", text: path });
          b.addEventListener("click", () => {
            add(d);
            input.value = "";
            clear(found);
          });
          return h("li", {}, b);
        }));
      } catch (e) {
        clear(found, h("li", { class: "form-error", text: e.message }));
      }
    }, 250);
  });
  const node = (d) => {
    const twisty = h("button", { type: "button", class: "twisty", text: "▸", "aria-label": `展开 ${d.name}` });
    const pick = h("button", { type: "button", class: "link node-pick", text: d.name, title: "选择" });
    const li = h("li", { dataset: { id: d.id } }, twisty, pick);
    pick.addEventListener("click", () => add(d));
    twisty.addEventListener("click", async () => {
      const open = li.querySelector(":scope > ul");
      if (open) {
        open.remove();
        twisty.textContent = "▸";
        return;
      }
      try {
        const { departments } = await subDepartments(d.id);
        li.append(h("ul", {}, departments.length ? departments.map(node) : h("li", { class: "muted", text: "无下级部门" })));
        twisty.textContent = "▾";
      } catch (e) {
        li.append(h("ul", {}, h("li", { class: "form-error", text: e.message })));
      }
    });
    return li;
  };
  browse.addEventListener("click", async () => {
    tree.hidden = !tree.hidden;
    if (tree.hidden || tree.childElementCount) return;
    try {
      const starts = await pickerStarts(right);
      clear(tree, starts.length ? starts.map(node) : h("li", { class: "muted", text: "没有可选择的部门" }));
    } catch (e) {
      clear(tree, h("li", { class: "form-error", text: e.message }));
    }
  });
  return {
    el: h("div", { class: "field" }, h("span", { class: "field-label", text: label }), chips, h("div", { class: "picker-row" }, input, browse), found, tree),
    ids: () => [...chosen.keys()],
  };
}

// Where a picker's tree starts: the roots for the super admin, else the scope of the
// admin's groups that hold `right`.
async function pickerStarts(right) {
  const me = await get("/_jwwx/admin/v1/admins/me");
  if ((me.roles || []).includes("super")) return (await subDepartments(null)).departments;
  const ids = new Set();
  for (const g of me.groups || []) {
    if ((g.rights || []).includes(right)) for (const id of g.scope || []) ids.add(id);
  }
  const out = [];
  for (const id of ids) {
    try {
      out.push(await get(`${DIRECTORY}/departments/${id}`));
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
    }
  }
  return out;
}

const GENDERS = [["0", "未填写"], ["1", "男"], ["2", "女"]];
const TEXT_FIELDS = [["name", "姓名"], ["position", "职务"], ["mobile", "手机"], ["telephone", "座机"], ["email", "邮箱"]];

export async function editMember(userid, ctx, department, done) {
  const creating = userid === null;
  let member = { departments: department ? [{ id: department.id, name: department.name }] : [], enabled: true, hidden: false, gender: 0 };
  if (!creating) member = await get(`${DIRECTORY}/members/${enc(userid)}`);
  const d = dialog(creating ? "添加成员" : `成员：${member.name}`, { wide: true });
  const error = errorBox();
  const inputs = {};
  const idInput = h("input", { name: "userid", value: creating ? "" : member.userid, readOnly: !creating, required: true });
  const rows = [field("账号", idInput, creating ? "字母、数字、._-，创建后不能修改" : null)];
  for (const [key, label] of TEXT_FIELDS) {
    if (!creating && member[key] === undefined) continue;  // hidden from this admin's group
    inputs[key] = h("input", { name: key, value: member[key] || "" });
    rows.push(field(label, inputs[key]));
  }
  let gender = null;
  if (creating || member.gender !== undefined) {
    gender = h("select", { name: "gender" }, GENDERS.map(([v, t]) => h("option", { value: v, text: t, selected: String(member.gender) === v })));
    rows.push(field("性别", gender));
  }
  const picker = departmentPicker("所在部门", member.departments || [], 20, "directory.edit_members");
  const hidden = h("input", { type: "checkbox", name: "hidden", checked: Boolean(member.hidden) });
  const enabled = h("input", { type: "checkbox", name: "enable", checked: member.enabled !== false });
  const save = h("button", { type: "button", class: "primary", text: creating ? "添加" : "保存" });
  const cancel = h("button", { type: "button", text: "关闭" });
  cancel.addEventListener("click", d.close);
  const form = h("div", { class: "form-grid" }, rows, picker.el,
    h("label", { class: "check" }, hidden, "隐藏（普通成员看不到）"),
    h("label", { class: "check" }, enabled, "启用"));
  const tabs = h("div", { class: "tabs" });
  const panel = h("div", {});
  append(d.body, tabs, panel, error.el);
  append(d.footer, creating ? null : deleteButton(member, d, done), cancel, save);

  const showForm = () => { clear(panel, form); save.hidden = false; };
  if (creating) showForm();
  else {
    const tabInfo = h("button", { type: "button", class: "tab active", text: "基本信息" });
    const tabAccount = h("button", { type: "button", class: "tab", text: "账号与安全" });
    tabInfo.addEventListener("click", () => { tabInfo.classList.add("active"); tabAccount.classList.remove("active"); showForm(); });
    tabAccount.addEventListener("click", () => {
      tabAccount.classList.add("active"); tabInfo.classList.remove("active"); save.hidden = true;
      accountPanel(panel, member.userid, ctx).catch((e) => clear(panel, h("p", { class: "form-error", role: "alert", text: e.message })));
    });
    // The accounts admin API is scoped like the directory's: reading an account needs
    // directory.view on the member, each action its own right (docs/admin.md).
    append(tabs, tabInfo, ctx.can("directory.view") ? tabAccount : null);
    showForm();
  }

  save.addEventListener("click", async () => {
    const body = {};
    for (const [key, input] of Object.entries(inputs)) {
      if (creating || input.value !== (member[key] || "")) body[key] = input.value.trim();
    }
    if (gender && (creating || gender.value !== String(member.gender))) body.gender = Number(gender.value);
    const ids = picker.ids();
    const before = (member.departments || []).map((x) => x.id);
    if (creating || ids.join() !== before.join()) body.department = ids;
    if (creating || hidden.checked !== Boolean(member.hidden)) body.hidden = hidden.checked;
    if (creating || enabled.checked !== (member.enabled !== false)) body.enable = enabled.checked ? 1 : 0;
    if (creating) body.userid = idInput.value.trim();
    if (!Object.keys(body).length) return d.close();
    await submitting(save, error, async () => {
      if (creating) await post(`${DIRECTORY}/members`, body);
      else await put(`${DIRECTORY}/members/${enc(member.userid)}`, body);
      d.close();
      toast(creating ? `已添加成员 ${body.name}` : "成员信息已保存");
      await done();
    }, memberError);
  });
}

function memberError(e) {
  if (e.errcode === "CN_JWWX_ADMIN_QUOTA_EXCEEDED") return `${e.message}`;
  return e.message;
}

function deleteButton(member, d, done) {
  const b = h("button", { type: "button", class: "danger", text: "删除成员" });
  b.addEventListener("click", async () => {
    if (!(await confirmDialog("删除成员", `确定删除成员“${member.name}”（${member.userid}）吗？账号将被注销，聊天记录保留。`, "删除"))) return;
    try {
      await del(`${DIRECTORY}/members/${enc(member.userid)}`);
      d.close();
      toast(`已删除成员 ${member.name}`);
      await done();
    } catch (e) {
      toast(e.message, "error");
    }
  });
  return b;
}

// The account behind a member: state, devices, actions, login history.
// Buttons follow the rights the admin's groups hold; the API decides per member.
async function accountPanel(panel, userid, ctx) {
  const user = await get(`${ACCOUNTS}/users/${enc(userid)}`);
  const base = `${ACCOUNTS}/users/${enc(userid)}`;
  const refresh = () => accountPanel(panel, userid, ctx);
  const credentials = ctx.can("directory.reset_password");
  const enabling = ctx.can("directory.enable_disable");
  const action = (text, run, kind) => {
    const b = h("button", { type: "button", class: kind || "", text });
    b.addEventListener("click", async () => {
      b.disabled = true;
      try {
        await run();
      } catch (e) {
        toast(e.message, "error");
      } finally {
        b.disabled = false;
      }
    });
    return b;
  };
  const actions = [
    credentials && action("重置初始密码", async () => {
      if (!(await confirmDialog("重置初始密码", "重置后该成员的所有登录将失效，须用新的初始密码登录并修改。确定吗？", "重置"))) return;
      const r = await post(`${base}/password_reset`, {});
      const shown = dialog("新的初始密码");
      append(shown.body, h("p", { text: "只显示这一次，请当面或通过安全渠道交给本人：" }), h("p", { class: "mono big", text: r.initial_password }),
        h("p", { class: "muted", text: r.mail_queued ? "已同时发送邮件。" : "" }));
      refresh();
    }),
    enabling && user.locked ? action("解除锁定", async () => { await del(`${ACCOUNTS}/lockouts/users/${enc(userid)}`); toast("已解除锁定"); refresh(); }) : null,
    enabling && action("全部下线", async () => { await post(`${base}/logout`, {}); toast("已将该账号的所有设备下线"); refresh(); }),
    credentials && action("重置二次验证", async () => {
      if (!(await confirmDialog("重置二次验证", "将清除该成员的身份验证器和恢复码，下次登录需重新设置。确定吗？", "重置"))) return;
      await del(`${base}/mfa`);
      toast("已重置二次验证");
    }),
    enabling && action("停用账号", async () => { await post(`${base}/disable`, {}); toast("账号已停用"); refresh(); }, "danger"),
    enabling && action("启用账号", async () => { await post(`${base}/enable`, {}); toast("账号已启用"); refresh(); }),
  ];
  const devices = (user.devices || []).map((dev) => h("tr", {},
    h("td", { text: dev.device_id }), h("td", { text: dev.display_name || "" }), h("td", { text: dev.platform || "" }),
    h("td", { text: formatTime(dev.last_seen_ts) }), h("td", { text: dev.last_seen_ip || "" }),
    h("td", {}, enabling && action("下线", async () => { await del(`${base}/devices/${enc(dev.device_id)}`); toast("设备已下线"); refresh(); }, "link"))));
  const logins = await get(`${base}/logins?limit=20`);
  const history = (logins.logins || []).map((l) => h("tr", {},
    h("td", { text: formatTime(l.ts) }), h("td", { text: l.kind }), h("td", { text: l.result }), h("td", { text: l.ip || "" }), h("td", { text: l.platform || "" })));
  clear(panel,
    h("p", {}, `账号状态：${user.locked ? "已锁定" : "正常"}`, user.must_change_password ? "，待修改初始密码" : ""),
    h("div", { class: "actions wrap" }, actions.filter(Boolean)),
    h("h3", { text: "登录设备" }), table(["设备ID", "名称", "类型", "最近使用", "IP", ""], devices, { empty: "没有登录中的设备" }),
    h("h3", { text: "最近登录记录" }), table(["时间", "类型", "结果", "IP", "平台"], history));
}

// Names of departments picked earlier, for a picker's initial chips (a department since
// deleted or out of the admin's view shows its id).
export async function departmentNames(ids) {
  const out = [];
  for (const id of ids) {
    try {
      out.push({ id, name: (await get(`/_jwwx/admin/v1/directory/departments/${id}`)).name });
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      out.push({ id, name: `部门 ${id}` });
    }
  }
  return out;
}
