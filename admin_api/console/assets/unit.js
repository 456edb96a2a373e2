// SPDX-License-Identifier: AGPL-3.0-or-later
// 单位信息 (super admin): names, domain, logo and the clients' splash image, the counts,
// and which profile fields officers may edit. /_jwwx/admin/v1/organisation/ (admin_api);
// images go up through the ordinary media API first.

import { get, mediaUrl, put, submitting, upload } from "./api.js";
import { clear, errorBox, field, formatTime, h, toast } from "./dom.js";

const ORGANISATION = "/_jwwx/admin/v1/organisation";

function imageField(label, name, current) {
  const img = h("img", { class: "unit-image", alt: label, hidden: true });
  const input = h("input", { type: "file", name, accept: "image/png,image/jpeg" });
  const state = { mxc: current || null };
  mediaUrl(current).then((url) => { if (url) { img.src = url; img.hidden = false; } });
  input.addEventListener("change", () => {
    const file = input.files && input.files[0];
    if (file) { img.src = URL.createObjectURL(file); img.hidden = false; }
  });
  // Uploads the chosen file (if any) and answers the mxc URI to store.
  state.value = async () => {
    const file = input.files && input.files[0];
    if (!file) return state.mxc;
    const answer = await upload(`/_matrix/media/v3/upload?filename=${encodeURIComponent(file.name)}`, file, null, file.type || "image/png");
    state.mxc = answer.content_uri;
    return state.mxc;
  };
  return { el: field(label, h("div", { class: "image-row" }, img, input)), state };
}

export async function showUnit(content) {
  const [unit, profile] = await Promise.all([get(`${ORGANISATION}/unit`), get(`${ORGANISATION}/profile_fields`)]);
  const shortName = h("input", { name: "short_name", value: unit.short_name || "", maxlength: 32 });
  const fullName = h("input", { name: "full_name", value: unit.full_name || "", maxlength: 128 });
  const domain = h("input", { name: "domain", value: unit.domain || "", placeholder: "如 gat.example.cn" });
  const logo = imageField("单位标志", "logo", unit.logo);
  const splash = imageField("客户端启动页", "splash", unit.splash);
  const editable = [["displayname", "姓名（显示名）"], ["avatar_url", "头像"]].map(([f, t]) => h("label", { class: "check" },
    h("input", { type: "checkbox", name: "editable", value: f, checked: (profile.editable || []).includes(f) }), t));
  const error = errorBox();
  const save = h("button", { type: "button", class: "primary", text: "保存单位信息" });
  save.addEventListener("click", async () => {
    await submitting(save, error, async () => {
      const text = (input) => (input.value.trim() === "" ? null : input.value.trim());
      await put(`${ORGANISATION}/unit`, {
        short_name: text(shortName), full_name: text(fullName), domain: text(domain),
        logo: await logo.state.value(), splash: await splash.state.value(),
      });
      await put(`${ORGANISATION}/profile_fields`, { editable: [...content.querySelectorAll("input[name=editable]:checked")].map((x) => x.value) });
      toast("单位信息已保存");
      await showUnit(content);
    });
  });
  clear(content, h("div", { class: "page-head" }, h("h1", { text: "单位信息" })),
    h("p", { class: "muted", id: "unit-counts", text: `成员 ${unit.member_count} 人（启用 ${unit.enabled_member_count} 人），部门 ${unit.department_count} 个${unit.created_ts ? `，创建于 ${formatTime(unit.created_ts)}` : ""}` }),
    h("div", { class: "form-narrow" }, field("简称", shortName), field("全称", fullName), field("组织域名", domain), logo.el, splash.el,
      h("fieldset", {}, h("legend", { text: "成员可自行修改的资料" }), editable), error.el, h("div", { class: "actions" }, save)));
}
