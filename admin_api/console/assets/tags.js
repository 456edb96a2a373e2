// SPDX-License-Identifier: AGPL-3.0-or-later
// 通讯录's whole-directory settings (unrestricted admins): tags (name, members, departments)
// and which profile fields officers may see. /_jwwx/admin/v1/directory/tags, settings.

import { del, get, post, put, submitting } from "./api.js";
import { append, clear, confirmDialog, dialog, errorBox, field, h, table, toast } from "./dom.js";
import { departmentNames, departmentPicker } from "./members.js";

const DIRECTORY = "/_jwwx/admin/v1/directory";

export async function tagsDialog() {
  const d = dialog("标签", { wide: true });
  const render = async () => {
    const { tags } = await get(`${DIRECTORY}/tags`);
    const create = h("button", { type: "button", class: "primary", text: "新建标签" });
    create.addEventListener("click", () => tagForm(d, null, render));
    clear(d.body, h("div", { class: "actions" }, create), table(["ID", "名称", ""], tags.map((t) => {
      const edit = h("button", { type: "button", class: "link", text: "编辑" });
      edit.addEventListener("click", async () => tagForm(d, await get(`${DIRECTORY}/tags/${t.id}`), render));
      return h("tr", { dataset: { tag: t.id } }, h("td", { text: t.id }), h("td", { text: t.name }), h("td", {}, edit));
    }), { empty: "还没有标签" }));
  };
  await render();
}

async function tagForm(d, tag, done) {
  const creating = tag === null;
  const error = errorBox();
  const name = h("input", { name: "tag_name", value: creating ? "" : tag.name });
  const users = h("textarea", { name: "tag_userids", rows: 3, placeholder: "成员账号，每行一个" });
  users.value = creating ? "" : (tag.userids || []).join("\n");
  const picker = departmentPicker("部门", await departmentNames(creating ? [] : tag.department_ids || []), 500);
  const save = h("button", { type: "button", class: "primary", text: creating ? "创建" : "保存" });
  const back = h("button", { type: "button", text: "返回" });
  back.addEventListener("click", done);
  const remove = creating ? null : h("button", { type: "button", class: "danger", text: "删除标签" });
  if (remove) {
    remove.addEventListener("click", async () => {
      if (!(await confirmDialog("删除标签", `确定删除标签“${tag.name}”吗？`, "删除"))) return;
      try {
        await del(`${DIRECTORY}/tags/${tag.id}`);
        toast("标签已删除");
        await done();
      } catch (e) {
        error.show(e.message);
      }
    });
  }
  save.addEventListener("click", async () => {
    const body = { name: name.value.trim(), userids: users.value.split(/[\s,，]+/).filter(Boolean), department_ids: picker.ids() };
    await submitting(save, error, async () => {
      if (creating) await post(`${DIRECTORY}/tags`, body);
      else await put(`${DIRECTORY}/tags/${tag.id}`, body);
      toast(creating ? `已创建标签“${body.name}”` : "标签已保存");
      await done();
    });
  });
  clear(d.body, h("h3", { text: creating ? "新建标签" : `标签：${tag.name}` }), field("名称", name), field("成员", users), picker.el, error.el,
    h("div", { class: "actions" }, back, remove, save));
}

const FIELDS = [["gender", "性别"], ["mobile", "手机"], ["telephone", "座机"], ["email", "邮箱"], ["position", "职务"], ["avatar", "头像"], ["departments", "所在部门"]];

export async function fieldsDialog() {
  const current = await get(`${DIRECTORY}/settings`);
  const d = dialog("成员资料对普通成员的可见字段");
  const boxes = FIELDS.map(([f, t]) => h("label", { class: "check" },
    h("input", { type: "checkbox", name: "visible_field", value: f, checked: (current.visible_fields || []).includes(f) }), t));
  const error = errorBox();
  append(d.body, h("p", { class: "muted", text: "账号和姓名总是可见；管理员在自己的管理范围内看到全部字段（管理组隐藏的除外）。" }), h("div", {}, boxes), error.el);
  const save = h("button", { type: "button", class: "primary", text: "保存" });
  save.addEventListener("click", async () => {
    try {
      await put(`${DIRECTORY}/settings`, { visible_fields: [...d.body.querySelectorAll("input[name=visible_field]:checked")].map((x) => x.value) });
      d.close();
      toast("可见字段已保存");
    } catch (e) {
      error.show(e.message);
    }
  });
  const cancel = h("button", { type: "button", text: "取消" });
  cancel.addEventListener("click", d.close);
  append(d.footer, cancel, save);
}
