// SPDX-License-Identifier: AGPL-3.0-or-later
// 通讯录: the department tree (loaded level by level, with member counts), the members
// of the chosen department page by page, department and member editing, import and
// export. All through /_jwwx/admin/v1/directory (scope-checked there).

import { ApiError, del, enc, get, post, put } from "./api.js";
import { append, clear, confirmDialog, dialog, errorBox, field, h, table, toast } from "./dom.js";
import { departmentPicker, editMember } from "./members.js";
import { exportDirectory, importDialog } from "./importer.js";
import { fieldsDialog, tagsDialog } from "./tags.js";

export const ADMIN = "/_jwwx/admin/v1/directory";
const CLIENT = "/_jwwx/client/v1/directory";
const TREE_PAGE = 200;

// All sub-departments of a department (null: the roots) and how many come before
// the members in its listing; the listing puts sub-departments first.
export async function subDepartments(id) {
  const departments = [];
  let from = 0;
  for (;;) {
    const path = id === null ? `${CLIENT}/roots?limit=${TREE_PAGE}&from=${from}` : `${ADMIN}/departments/${id}/children?limit=${TREE_PAGE}&from=${from}`;
    const page = await get(path);
    departments.push(...page.departments);
    if (page.members.length || !page.next_from || page.departments.length < TREE_PAGE) {
      return { departments, total: page.total };
    }
    from = Number(page.next_from);
  }
}

// The departments an admin starts from: the roots for an unrestricted admin, else the
// scope of its groups that grant directory.view.
async function startingDepartments(ctx) {
  if (ctx.isSuper) return (await subDepartments(null)).departments;
  const ids = new Set();
  for (const g of ctx.me.groups || []) {
    if ((g.rights || []).includes("directory.view")) for (const d of g.scope || []) ids.add(d);
  }
  const found = [];
  for (const id of ids) {
    try {
      found.push(await get(`${ADMIN}/departments/${id}`));
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
    }
  }
  return found;
}

export async function showDirectory(content, ctx) {
  const state = { current: null, page: 0, departmentCount: 0, memberTotal: 0, nodes: new Map() };
  const tree = h("ul", { class: "tree", role: "tree", "aria-label": "组织架构" });
  const search = h("input", { type: "search", placeholder: "搜索成员：姓名、拼音或首字母", "aria-label": "搜索成员" });
  const results = h("div", { class: "search-results" });
  const detail = h("section", { class: "detail", "aria-live": "polite" }, h("p", { class: "muted", text: "请在左侧选择部门" }));
  const importButton = h("button", { type: "button", text: "导入" });
  const exportButton = h("button", { type: "button", text: "导出" });
  importButton.addEventListener("click", () => importDialog(() => reloadAll()));
  exportButton.addEventListener("click", () => exportDirectory().catch((e) => toast(e.message, "error")));
  const tagsButton = h("button", { type: "button", text: "标签" });
  tagsButton.addEventListener("click", () => tagsDialog().catch((e) => toast(e.message, "error")));
  const fieldsButton = h("button", { type: "button", text: "可见字段" });
  fieldsButton.addEventListener("click", () => fieldsDialog().catch((e) => toast(e.message, "error")));
  const rootAdd = ctx.isSuper ? h("button", { type: "button", text: "新建顶级部门" }) : null;
  if (rootAdd) rootAdd.addEventListener("click", () => departmentDialog(null, null, () => reloadAll()));
  clear(content,
    h("div", { class: "page-head" }, h("h1", { text: "通讯录" }),
      h("div", { class: "actions" }, rootAdd, ctx.isSuper ? [tagsButton, fieldsButton, importButton, exportButton] : null)),
    h("div", { class: "split" },
      h("aside", { class: "tree-panel" }, search, results, tree),
      detail));

  let searchTimer = null;
  search.addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => searchMembers(search.value.trim(), results, ctx, () => selectCurrent()), 250);
  });

  function node(department) {
    const toggle = h("button", { type: "button", class: "twisty", "aria-label": "展开", text: "▸" });
    const label = h("button", { type: "button", class: "node-label" },
      h("span", { class: "node-name", text: department.name }),
      h("span", { class: "count", text: `(${department.total_member_count})` }),
      department.hidden ? h("span", { class: "badge", text: "隐藏" }) : null,
      department.restricted ? h("span", { class: "badge", text: "仅看本部门" }) : null);
    const children = h("ul", { role: "group", hidden: true });
    const item = h("li", { role: "treeitem", "aria-expanded": "false", dataset: { id: department.id } }, toggle, label, children);
    const entry = { department, item, children, loaded: false, label };
    state.nodes.set(department.id, entry);
    toggle.addEventListener("click", () => expand(entry, children.hidden));
    label.addEventListener("click", () => select(entry));
    return item;
  }

  async function expand(entry, open) {
    entry.children.hidden = !open;
    entry.item.setAttribute("aria-expanded", String(open));
    entry.item.querySelector(".twisty").textContent = open ? "▾" : "▸";
    if (open && !entry.loaded) {
      entry.loaded = true;
      clear(entry.children);
      await loadChildren(entry, 0);
    }
  }

  // A level of the tree one page at a time (a department may have thousands of
  // sub-departments): the rest behind 显示更多.
  async function loadChildren(entry, from) {
    const page = await get(`${ADMIN}/departments/${entry.department.id}/children?limit=${TREE_PAGE}&from=${from}`);
    const shown = from + page.departments.length;
    append(entry.children, page.departments.map(node));
    if (!shown) append(entry.children, h("li", { class: "muted leaf", text: "无下级部门" }));
    if (shown < page.department_total) {
      const more = h("button", { type: "button", class: "link more", text: `显示更多（还有 ${page.department_total - shown} 个）` });
      const item = h("li", { class: "leaf" }, more);
      more.addEventListener("click", async () => {
        more.disabled = true;
        item.remove();
        await loadChildren(entry, shown);
      });
      append(entry.children, item);
    }
  }

  async function select(entry) {
    for (const n of state.nodes.values()) n.label.classList.remove("selected");
    entry.label.classList.add("selected");
    state.current = entry;
    state.page = 0;
    await showDepartment();
  }

  async function selectCurrent() {
    if (state.current) await showDepartment();
  }

  async function showDepartment() {
    const entry = state.current;
    const id = entry.department.id;
    // One row of the listing tells how many sub-departments come before the members.
    const [department, head] = await Promise.all([get(`${ADMIN}/departments/${id}`), get(`${ADMIN}/departments/${id}/children?limit=1`)]);
    entry.department = department;
    state.departmentCount = head.department_total;
    state.memberTotal = head.total - head.department_total;
    const size = ctx.config.pageSize;
    const from = state.departmentCount + state.page * size;
    const listing = state.memberTotal ? await get(`${ADMIN}/departments/${id}/children?from=${from}&limit=${size}`) : { members: [] };
    renderDetail(department, listing.members);
  }

  function renderDetail(department, members) {
    const pages = Math.max(1, Math.ceil(state.memberTotal / ctx.config.pageSize));
    const breadcrumb = (department.path || []).map((p) => p.name).concat(department.name).join(" / ");
    // Offered by the rights the admin's groups hold; the API still decides per target.
    const structure = ctx.can("directory.edit_structure");
    const buttons = [
      ctx.can("directory.edit_members") && ["添加成员", () => editMember(null, ctx, department, () => showDepartment())],
      structure && ["添加子部门", () => departmentDialog(null, department, () => refreshNode(department.id))],
      structure && ["修改部门", () => departmentDialog(department, null, () => refreshNode(department.parent_id, department.id))],
      structure && ["删除部门", () => deleteDepartment(department)],
      structure && state.departmentCount > 1 && ["下级部门排序", () => orderDialog(department, () => refreshNode(department.id))],
    ].filter(Boolean).map(([text, action]) => {
      const b = h("button", { type: "button", text });
      b.addEventListener("click", action);
      return b;
    });
    const ordering = ctx.can("directory.edit_members");
    const first = state.page * ctx.config.pageSize;
    const rows = members.map((m, i) => {
      const edit = h("button", { type: "button", class: "link edit", text: ordering ? "编辑" : "查看" });
      edit.addEventListener("click", () => editMember(m.userid, ctx, department, () => showDepartment()));
      const status = m.enabled === false ? "已停用" : accountState(m.account_state);
      const row = h("tr", { dataset: { userid: m.userid, position: first + i } },
        h("td", { text: m.name }), h("td", { text: m.userid }), h("td", { text: m.position || "" }),
        h("td", { text: m.mobile === undefined ? "（无权查看）" : m.mobile }),
        h("td", {}, status, m.hidden ? h("span", { class: "badge", text: "隐藏" }) : null),
        h("td", {}, edit),
        ordering ? h("td", { class: "order-cell" }, orderButtons(first + i, state.memberTotal, (to) => moveMember(department, m, to))) : null);
      if (ordering) draggableRow(row, (to) => moveMember(department, m, to));
      return row;
    });
    const prev = h("button", { type: "button", text: "上一页", disabled: state.page === 0 });
    const next = h("button", { type: "button", text: "下一页", disabled: state.page + 1 >= pages });
    prev.addEventListener("click", () => { state.page -= 1; showDepartment(); });
    next.addEventListener("click", () => { state.page += 1; showDepartment(); });
    clear(detail,
      h("div", { class: "detail-head" },
        h("div", {}, h("h2", { id: "department-name", text: department.name }), h("p", { class: "muted", text: breadcrumb }),
          h("p", { class: "muted", text: `直属成员 ${department.member_count} 人，含下级共 ${department.total_member_count} 人；下级部门 ${state.departmentCount} 个` })),
        h("div", { class: "actions" }, buttons)),
      table(["姓名", "账号", "职务", "手机", "状态", ""].concat(ordering ? ["排序"] : []), rows, { empty: "该部门没有直属成员" }),
      h("div", { class: "pager" }, prev, h("span", { text: `第 ${state.page + 1} / ${pages} 页，共 ${state.memberTotal} 人` }), next));
  }

  // Ordering: one member moved to a position among the department's members (the
  // server renumbers the others); `to` counts from the first member of the first page.
  async function moveMember(department, member, to) {
    try {
      await post(`${ADMIN}/departments/${department.id}/order`, { member: member.userid, position: to });
      toast(`已调整“${member.name}”的顺序`);
      state.page = Math.floor(to / ctx.config.pageSize);
      await showDepartment();
    } catch (e) {
      toast(e.message, "error");
    }
  }

  async function refreshNode(id, selectId) {
    const entry = id === null || id === undefined ? null : state.nodes.get(id);
    if (!entry) return reloadAll();
    entry.loaded = false;
    await expand(entry, true);
    if (selectId && state.nodes.get(selectId)) await select(state.nodes.get(selectId));
    else await select(entry);
  }

  async function deleteDepartment(department) {
    if (!(await confirmDialog("删除部门", `确定删除部门“${department.name}”吗？部门下不能有成员或下级部门。`, "删除"))) return;
    try {
      await del(`${ADMIN}/departments/${department.id}`);
      toast(`已删除部门“${department.name}”`);
      await refreshNode(department.parent_id);
    } catch (e) {
      toast(e.message, "error");
    }
  }

  async function reloadAll() {
    state.nodes.clear();
    const roots = await startingDepartments(ctx);
    clear(tree, roots.length ? roots.map(node) : h("li", { class: "muted", text: "没有可管理的部门" }));
    const first = state.nodes.values().next().value;
    if (first) {
      await expand(first, true);
      await select(first);
    }
  }
  await reloadAll();
}

// ↑ / ↓ for the item at `position` of `count`; `move(to)` does the request.
function orderButtons(position, count, move) {
  const up = h("button", { type: "button", class: "order-up", title: "上移", "aria-label": "上移", text: "↑", disabled: position === 0 });
  const down = h("button", { type: "button", class: "order-down", title: "下移", "aria-label": "下移", text: "↓", disabled: position + 1 >= count });
  up.addEventListener("click", () => move(position - 1));
  down.addEventListener("click", () => move(position + 1));
  return [up, down];
}

// A table row that can be dragged onto another row of the same table: dropped on a
// row, it takes that row's position.
function draggableRow(row, move) {
  row.draggable = true;
  row.addEventListener("dragstart", (e) => {
    e.dataTransfer.setData("text/plain", row.dataset.position);
    e.dataTransfer.effectAllowed = "move";
    row.classList.add("dragging");
  });
  row.addEventListener("dragend", () => row.classList.remove("dragging"));
  row.addEventListener("dragover", (e) => {
    if (!row.parentElement.querySelector("tr.dragging") || row.classList.contains("dragging")) return;
    e.preventDefault();
    row.classList.add("drop-before");
  });
  row.addEventListener("dragleave", () => row.classList.remove("drop-before"));
  row.addEventListener("drop", (e) => {
    e.preventDefault();
    row.classList.remove("drop-before");
    const dragged = row.parentElement.querySelector("tr.dragging");
    if (dragged) dragged.dispatchEvent(new CustomEvent("console:dropped", { detail: Number(row.dataset.position) }));
  });
  row.addEventListener("console:dropped", (e) => move(e.detail));
}

// 下级部门排序: the sub-departments with ↑ / ↓ and drag.
async function orderDialog(department, done) {
  const d = dialog(`“${department.name}”的下级部门排序`, { onClose: done });
  const list = h("tbody", {});
  append(d.body, h("p", { class: "muted", text: "用 ↑ ↓ 或拖动调整顺序，立即生效。" }),
    h("table", { class: "grid order-table" }, h("thead", {}, h("tr", {}, h("th", { text: "部门" }), h("th", { text: "人数" }), h("th", { text: "排序" }))), list));
  const close = h("button", { type: "button", class: "primary", text: "完成" });
  close.addEventListener("click", d.close);
  append(d.footer, close);
  const render = async () => {
    const { departments } = await subDepartments(department.id);
    const move = (sub) => async (to) => {
      try {
        await post(`${ADMIN}/departments/${department.id}/order`, { department: sub.id, position: to });
        await render();
      } catch (e) {
        toast(e.message, "error");
      }
    };
    clear(list, departments.map((sub, i) => {
      const row = h("tr", { dataset: { id: sub.id, position: i } }, h("td", { text: sub.name }),
        h("td", { text: sub.total_member_count }), h("td", { class: "order-cell" }, orderButtons(i, departments.length, move(sub))));
      draggableRow(row, move(sub));
      return row;
    }));
  };
  await render();
}

function accountState(value) {
  return { created: "正常", pending: "开通中", failed: "开通失败", deactivated: "已注销" }[value] || value || "";
}

async function searchMembers(query, results, ctx, refresh) {
  if (!query) return clear(results);
  try {
    // The admin API's search: only members within this admin's scope.
    const found = await get(`${ADMIN}/search/members?q=${enc(query)}&limit=20`);
    const items = (found.results || []).map((m) => {
      const b = h("button", { type: "button", class: "link" }, m.name, h("span", { class: "muted", text: ` ${m.userid}` }));
      b.addEventListener("click", () => editMember(m.userid, ctx, null, refresh));
      return h("li", {}, b);
    });
    clear(results, h("ul", { class: "plain" }, items.length ? items : h("li", { class: "muted", text: "没有找到成员" })));
  } catch (e) {
    clear(results, h("p", { class: "form-error", text: e.message }));
  }
}

// Create (department null) under `parent`, or edit `department` (name, order, flags, move).
function departmentDialog(department, parent, done) {
  const editing = Boolean(department);
  const d = dialog(editing ? "修改部门" : (parent ? `在“${parent.name}”下添加子部门` : "新建顶级部门"));
  const error = errorBox();
  const name = h("input", { name: "name", value: editing ? department.name : "", required: true });
  const order = h("input", { name: "order", type: "number", value: editing ? department.order : 0 });
  const hidden = h("input", { type: "checkbox", name: "hidden", checked: editing && department.hidden });
  const restricted = h("input", { type: "checkbox", name: "restricted", checked: editing && department.restricted });
  const move = editing && department.parent_id !== null ? departmentPicker("移动到（新的上级部门）", [], 1, "directory.edit_structure") : null;
  append(d.body, field("部门名称", name), field("排序（数字越小越靠前）", order),
    h("label", { class: "check" }, hidden, "隐藏（普通成员看不到）"),
    h("label", { class: "check" }, restricted, "仅看本部门（成员只能看到本部门）"),
    move ? move.el : null, error.el);
  const save = h("button", { type: "button", class: "primary", text: "保存" });
  const cancel = h("button", { type: "button", text: "取消" });
  cancel.addEventListener("click", d.close);
  append(d.footer, cancel, save);
  name.focus();
  save.addEventListener("click", async () => {
    const body = { name: name.value.trim(), order: Number(order.value) || 0, hidden: hidden.checked, restricted: restricted.checked };
    if (move && move.ids().length) body.parent_id = move.ids()[0];
    save.disabled = true;
    try {
      if (editing) await put(`${ADMIN}/departments/${department.id}`, body);
      else await post(`${ADMIN}/departments`, { ...body, parent_id: parent ? parent.id : null });
      d.close();
      toast(editing ? "部门已保存" : `已添加部门“${body.name}”`);
      await done();
    } catch (e) {
      error.show(e.message);
    } finally {
      save.disabled = false;
    }
  });
}
