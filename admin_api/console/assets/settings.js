// SPDX-License-Identifier: AGPL-3.0-or-later
// Policy settings: 敏感词 (modules/policy), 水印与分享 with a live preview
// (modules/watermark), 聊天设置 (modules/groups). Each form sends the whole section with
// PUT; the module checks every field and answers with the message naming a bad one.

import { get, post, put, submitting } from "./api.js";
import { append, clear, errorBox, field, formatTime, h, toast } from "./dom.js";

const KEYWORDS = "/_jwwx/admin/v1/policy/keywords";
const WATERMARK = "/_jwwx/admin/v1/watermark/settings";
const GROUPS = "/_jwwx/admin/v1/groups/settings";

function saveButton(text, run, error) {
  const b = h("button", { type: "button", class: "primary", text });
  b.addEventListener("click", async () => {
    await submitting(b, error, async () => {
      await run();
    });
  });
  return b;
}

export async function keywordsPanel(box) {
  const current = await get(KEYWORDS);
  const list = h("textarea", { name: "keywords", rows: 12, class: "wide-input", placeholder: "每行一个敏感词" });
  list.value = current.keywords.join("\n");
  const error = errorBox();
  const save = saveButton("保存敏感词", async () => {
    const keywords = list.value.split("\n").map((k) => k.trim()).filter(Boolean);
    const r = await put(KEYWORDS, { keywords });
    toast(`已保存 ${r.count} 个敏感词（版本 ${r.version}）`);
    await keywordsPanel(box);
  }, error);
  clear(box,
    h("p", { class: "muted", text: "含有敏感词的消息会被拦截（比对前做繁简、全半角、同形字等归一化）。" }),
    current.updated_ts ? h("p", { class: "muted", text: `最近修改：${current.updated_by || ""} ${formatTime(current.updated_ts)}，版本 ${current.version}` }) : null,
    field(`管理员维护的敏感词（${current.keywords.length} 个）`, list),
    current.config_keywords.length ? h("p", { class: "muted", text: `配置文件中的敏感词（不能在此删除）：${current.config_keywords.join("、")}` }) : null,
    error.el, h("div", { class: "actions" }, save),
    keywordTestBox());
}

// The test box: the server runs the filter's own normalisation and matching on the
// sample (POST …/keywords/test), against the saved list.
function keywordTestBox() {
  const sample = h("textarea", { name: "keyword_sample", rows: 3, class: "wide-input", placeholder: "输入一段消息文字，检测是否会被拦截" });
  const asHtml = h("input", { type: "checkbox", name: "keyword_sample_html" });
  const result = h("div", { class: "keyword-result", "aria-live": "polite" });
  const error = errorBox();
  const run = saveButton("检测", async () => {
    const text = sample.value;
    if (!text.trim()) return clear(result);
    const r = await post(`${KEYWORDS}/test`, { text, html: asHtml.checked });
    clear(result,
      r.blocked
        ? h("p", { class: "verdict blocked" }, "会被拦截，命中敏感词：", r.keywords.map((k, i) => [i ? "、" : "", h("mark", { text: k })]))
        : h("p", { class: "verdict passed", text: "不会被拦截" }),
      r.blocked ? h("p", { class: "muted", text: `发送者看到的提示：${r.message}` }) : null,
      h("p", { class: "muted" }, "比对时的文字（归一化后）：", h("code", { class: "normalised", text: r.normalised })));
  }, error);
  return h("section", { class: "keyword-test" },
    h("h3", { text: "敏感词检测" }),
    h("p", { class: "muted", text: "按已保存的敏感词列表检测（修改列表后请先保存）。" }),
    sample, h("label", { class: "check" }, asHtml, "按富文本（HTML）消息检测"),
    error.el, h("div", { class: "actions" }, run), result);
}

const SCREENS = [["chat_background", "聊天背景"], ["contact_list", "通讯录"], ["profile", "个人资料"], ["media", "图片和 PDF 文件"]];
const SHARING = [
  ["allow_save_to_device", "保存到手机"], ["allow_forward_messages", "转发/分享消息"], ["allow_forward_files", "转发文件"],
  ["allow_forward_favorites", "转发收藏"], ["allow_open_in_other_apps", "用其他应用打开"], ["allow_email", "通过邮件发送"],
];

// What a client would draw for the signed-in admin, from the template as typed.
function previewText(template, me) {
  const now = new Date();
  const pad = (n) => String(n).padStart(2, "0");
  const date = `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
  const userid = me.user_id.slice(1, me.user_id.indexOf(":"));
  const values = { name: userid, userid, user_id: me.user_id, date, time: `${date} ${pad(now.getHours())}:${pad(now.getMinutes())}` };
  return template.replace(/\{(\w+)\}/g, (all, key) => (key in values ? values[key] : all));
}

export async function watermarkPanel(box, ctx) {
  const current = await get(WATERMARK);
  const w = current.watermark;
  const enabled = h("input", { type: "checkbox", name: "enabled", checked: w.enabled });
  const screens = SCREENS.map(([k, t]) => h("label", { class: "check" }, h("input", { type: "checkbox", name: k, checked: w[k] }), t));
  const template = h("input", { name: "template", value: w.template, maxlength: 80 });
  const opacity = h("input", { type: "range", name: "opacity", min: 0.02, max: 0.8, step: 0.01, value: w.opacity });
  const opacityText = h("span", { class: "muted" });
  const preview = h("div", { class: "wm-preview", "aria-label": "水印预览" });
  const sharing = SHARING.map(([k, t]) => h("label", { class: "check" }, h("input", { type: "checkbox", name: k, checked: current.sharing[k] }), t));
  const render = () => {
    const text = previewText(template.value, ctx.me);
    opacityText.textContent = `透明度 ${Number(opacity.value).toFixed(2)}`;
    const tiles = [];
    for (let i = 0; i < 12; i += 1) tiles.push(h("span", { class: "wm-tile", text }));
    clear(preview, h("div", { class: "wm-chat" }, h("p", { class: "wm-bubble", text: "收到，马上处理。" }), h("p", { class: "wm-bubble mine", text: "请于 18:00 前上报。" })),
      enabled.checked && screens[0].querySelector("input").checked ? h("div", { class: "wm-layer" }, tiles) : null);
    const layer = preview.querySelector(".wm-layer");
    if (layer) layer.style.opacity = opacity.value;
  };
  for (const el of [template, opacity]) el.addEventListener("input", render);
  const error = errorBox();
  const save = saveButton("保存水印与分享设置", async () => {
    const checked = (name) => panel.querySelector(`input[name=${name}]`).checked;
    const body = {
      watermark: { enabled: enabled.checked, template: template.value, opacity: Number(opacity.value) },
      sharing: Object.fromEntries(SHARING.map(([k]) => [k, checked(k)])),
    };
    for (const [k] of SCREENS) body.watermark[k] = checked(k);
    await put(WATERMARK, body);
    toast("水印与分享设置已保存");
  }, error);
  const panel = h("div", { class: "split-even" },
    h("div", {},
      h("label", { class: "check" }, enabled, "启用水印"),
      h("fieldset", {}, h("legend", { text: "显示水印的位置" }), screens),
      field("水印内容", template, "可用占位符：{name} 姓名、{userid} 账号、{user_id} 完整账号、{date} 日期、{time} 时间"),
      h("div", { class: "field" }, opacityText, opacity),
      h("fieldset", {}, h("legend", { text: "分享与转发" }), sharing),
      error.el, h("div", { class: "actions" }, save)),
    h("div", {}, h("h3", { text: "预览（以当前登录的管理员为例）" }), preview));
  clear(box, panel);
  panel.addEventListener("change", render);
  render();
}

export async function chatPanel(box) {
  const current = await get(GROUPS);
  const maxMembers = h("input", { type: "number", name: "max_members", min: 2, value: current.max_members });
  const whitelist = h("textarea", { name: "whitelist", rows: 4, placeholder: "每行一个完整账号，如 @zhangsan:server" });
  whitelist.value = (current.whitelist || []).join("\n");
  const readStatus = h("input", { type: "checkbox", name: "read_status_enabled", checked: current.read_status_enabled });
  const retention = h("input", { type: "number", name: "retention_days", min: 0, step: "any", value: current.retention_days ?? "", placeholder: "永久保存" });
  const error = errorBox();
  const save = saveButton("保存聊天设置", async () => {
    await put(GROUPS, {
      max_members: Number(maxMembers.value),
      whitelist: whitelist.value.split(/\s+/).filter(Boolean),
      read_status_enabled: readStatus.checked,
      retention_days: retention.value.trim() === "" ? null : Number(retention.value),
    });
    toast("聊天设置已保存");
  }, error);
  clear(box, h("div", { class: "form-narrow" },
    field("群聊人数上限", maxMembers),
    field("不受人数上限限制的账号（白名单）", whitelist),
    h("label", { class: "check" }, readStatus, "显示消息已读状态（已读回执）"),
    field("消息保存天数", retention, "留空表示永久保存；到期的消息从服务器删除"),
    error.el, h("div", { class: "actions" }, save)));
}

export function tabbed(content, title, tabs) {
  const bar = h("div", { class: "tabs" });
  const body = h("div", {});
  clear(content, h("div", { class: "page-head" }, h("h1", { text: title })), bar, body);
  const buttons = tabs.map(([label, show]) => {
    const b = h("button", { type: "button", class: "tab", text: label });
    b.addEventListener("click", () => {
      for (const x of buttons) x.classList.toggle("active", x === b);
      // Each activation draws into its own panel: a slower tab clicked before still
      // finishes into its detached panel, never over this one.
      const panel = h("div", {});
      clear(body, panel);
      show(panel).catch((e) => clear(panel, h("p", { class: "form-error", role: "alert", text: e.message })));
    });
    return b;
  });
  append(bar, buttons);
  if (buttons.length) buttons[0].click();
}
