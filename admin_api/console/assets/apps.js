// SPDX-License-Identifier: AGPL-3.0-or-later
// 应用: the open API's apps (modules/openapi's admin API): list, create (the secret and the
// callback's token and key shown once), edit (visible range on the directory, callback,
// IP allow-list, crypto mode), new secret, delete, statistics and the callback queue,
// the callback URL's verification run on demand, and pushes on behalf of an app; which
// apps may call the open API's OCR (/cgi-bin/ocr/*) and speech recognition
// (/cgi-bin/media/voice/*).

import { ApiError, del, get, post, put, submitting } from "./api.js";
import { append, clear, confirmDialog, dialog, errorBox, field, formatTime, h, table, toast } from "./dom.js";
import { departmentNames, departmentPicker } from "./members.js";

const APPS = "/_jwwx/admin/v1/openapi/apps";
// The apps' rights beyond messaging (one grant table in modules/openapi; each page is
// mounted by the capability's module, so a server without it answers 404).
const RIGHTS = [
  { name: "ocr", path: "/_jwwx/admin/v1/ocr/apps", title: "图片识别 (OCR)", what: "图片识别" },
  { name: "asr", path: "/_jwwx/admin/v1/asr/apps", title: "语音识别 (ASR)", what: "语音识别" },
];

// The apps granted a right, or null when the server has no such module.
async function grantsOf(right) {
  try {
    return new Set((await get(right.path)).agentids.map(String));
  } catch (e) {
    if (e instanceof ApiError && (e.status === 404 || e.errcode === "M_UNRECOGNIZED")) return null;
    throw e;
  }
}

function rightSwitch(right, app, granted) {
  const box = h("input", { type: "checkbox", name: right.name, checked: granted.has(String(app.agentid)), "aria-label": `允许“${app.name}”调用${right.what}` });
  box.addEventListener("change", async () => {
    box.disabled = true;
    try {
      if (box.checked) await put(`${right.path}/${app.agentid}`, {});
      else await del(`${right.path}/${app.agentid}`);
      toast(box.checked ? `已允许“${app.name}”调用${right.what}` : `已取消“${app.name}”的${right.what}`);
    } catch (e) {
      box.checked = !box.checked;
      toast(e.message, "error");
    } finally {
      box.disabled = false;
    }
  });
  return h("label", { class: "check" }, box, "允许");
}

export async function showApps(content, ctx) {
  const [{ apps }, ...granted] = await Promise.all([get(APPS), ...RIGHTS.map(grantsOf)]);
  const rights = RIGHTS.map((r, i) => ({ ...r, granted: granted[i] })).filter((r) => r.granted !== null);
  const create = ctx.can("apps.create") ? h("button", { type: "button", class: "primary", text: "创建应用" }) : null;
  if (create) create.addEventListener("click", () => appForm(null, ctx, () => showApps(content, ctx)));
  const rows = apps.map((a) => {
    const edit = h("button", { type: "button", class: "link", text: "设置" });
    edit.addEventListener("click", () => appForm(a, ctx, () => showApps(content, ctx)));
    const stats = h("button", { type: "button", class: "link", text: "统计" });
    stats.addEventListener("click", () => statistics(a).catch((e) => toast(e.message, "error")));
    const push = h("button", { type: "button", class: "link", text: "推送" });
    push.addEventListener("click", () => pushDialog(a));
    const range = a.visible_range;
    return h("tr", { dataset: { agentid: a.agentid } }, h("td", { text: a.agentid }), h("td", { text: a.name }),
      h("td", { text: `部门 ${range.department_ids.length} 个，成员 ${range.userids.length} 人，标签 ${range.tag_ids.length} 个` }),
      h("td", { text: a.callback ? a.callback.url : "未设置" }), h("td", { text: a.crypto_mode === "sm4" ? "国密 SM4" : "AES" }),
      ...rights.map((r) => h("td", { class: r.name }, rightSwitch(r, a, r.granted))),
      h("td", { text: formatTime(a.created_ts) }), h("td", {}, edit, stats, push));
  });
  clear(content, h("div", { class: "page-head" }, h("h1", { text: "应用" }), h("div", { class: "actions" }, create)),
    table(["AgentId", "名称", "可见范围", "回调地址", "加密方式", ...rights.map((r) => r.title), "创建时间", ""], rows, { empty: "还没有应用" }));
}

function shownOnce(title, pairs) {
  const d = dialog(title);
  append(d.body, h("p", { class: "form-error", text: "以下内容只显示这一次，请立即复制保存：" }),
    pairs.filter(([, v]) => v).map(([k, v]) => h("div", { class: "field" }, h("span", { class: "field-label", text: k }), h("code", { class: "mono secret", text: v }))));
  const done = h("button", { type: "button", class: "primary", text: "我已保存" });
  done.addEventListener("click", d.close);
  append(d.footer, done);
}

async function appForm(app, ctx, done) {
  const creating = app === null;
  const d = dialog(creating ? "创建应用" : `应用：${app.name}`, { wide: true });
  const error = errorBox();
  const name = h("input", { name: "app_name", value: creating ? "" : app.name });
  const description = h("input", { name: "description", value: creating ? "" : app.description });
  const range = creating ? { userids: [], department_ids: [], tag_ids: [] } : app.visible_range;
  const picker = departmentPicker("可见范围：部门（含下级）", await departmentNames(range.department_ids), 500, "apps.manage");
  const users = h("input", { name: "visible_users", value: range.userids.join(","), placeholder: "账号，用逗号分隔" });
  const callback = h("input", { name: "callback_url", value: !creating && app.callback ? app.callback.url : "", placeholder: "https://…" });
  const token = h("input", { name: "callback_token", placeholder: creating ? "留空自动生成" : "留空不修改" });
  const aesKey = h("input", { name: "encoding_aes_key", placeholder: creating ? "留空自动生成（43 位）" : "留空不修改" });
  const ips = h("textarea", { name: "ip_allowlist", rows: 3, placeholder: "每行一个 IP 或网段，如 10.1.0.0/16；留空不限制" });
  ips.value = creating ? "" : app.ip_allowlist.join("\n");
  const crypto = h("select", { name: "crypto_mode" }, h("option", { value: "aes", text: "AES（与企业微信相同）" }),
    h("option", { value: "sm4", text: "国密 SM4", selected: !creating && app.crypto_mode === "sm4" }));
  append(d.body, h("div", { class: "form-grid" }, field("名称", name), field("简介", description), picker.el,
    field("可见范围：成员", users), field("回调地址", callback), field("回调 Token", token), field("EncodingAESKey", aesKey),
    field("IP 白名单", ips), field("消息加密", crypto)), error.el);
  const save = h("button", { type: "button", class: "primary", text: creating ? "创建" : "保存" });
  const close = h("button", { type: "button", text: "关闭" });
  close.addEventListener("click", d.close);
  if (!creating) {
    const secret = h("button", { type: "button", text: "重置 Secret" });
    secret.addEventListener("click", async () => {
      if (!(await confirmDialog("重置 Secret", "重置后旧的 Secret 和它换取的 access_token 立即失效。确定吗？", "重置"))) return;
      try {
        const r = await post(`${APPS}/${app.agentid}/secret`, {});
        shownOnce("新的 Secret", [["Secret", r.secret]]);
      } catch (e) {
        error.show(e.message);
      }
    });
    const remove = h("button", { type: "button", class: "danger", text: "删除应用" });
    remove.addEventListener("click", async () => {
      if (!(await confirmDialog("删除应用", `确定删除应用“${app.name}”吗？它的 access_token 立即失效。`, "删除"))) return;
      try {
        await del(`${APPS}/${app.agentid}`);
        d.close();
        toast("应用已删除");
        await done();
      } catch (e) {
        error.show(e.message);
      }
    });
    append(d.footer, remove, secret);
  }
  append(d.footer, close, save);
  save.addEventListener("click", async () => {
    const body = {
      name: name.value.trim(),
      description: description.value.trim(),
      visible_range: { department_ids: picker.ids(), userids: users.value.split(/[\s,，]+/).filter(Boolean), tag_ids: range.tag_ids },
      ip_allowlist: ips.value.split(/\s+/).filter(Boolean),
      crypto_mode: crypto.value,
    };
    if (callback.value.trim()) {
      body.callback = { url: callback.value.trim() };
      if (token.value.trim()) body.callback.token = token.value.trim();
      if (aesKey.value.trim()) body.callback.encoding_aes_key = aesKey.value.trim();
    } else if (!creating && app.callback) {
      body.callback = null;
    }
    await submitting(save, error, async () => {
      const r = creating ? await post(APPS, body) : await put(`${APPS}/${app.agentid}`, body);
      d.close();
      toast(creating ? `已创建应用“${r.name}”（AgentId ${r.agentid}）` : "应用已保存");
      // A callback is saved only once it passed WeCom's URL verification.
      if (body.callback) toast("回调地址已通过验证");
      if (r.secret || (r.callback && r.callback.token)) {
        shownOnce("应用凭据", [["AgentId", String(r.agentid)], ["Secret", r.secret],
          ["回调 Token", r.callback && r.callback.token], ["EncodingAESKey", r.callback && r.callback.encoding_aes_key]]);
      }
      await done();
    });
  });
}

async function statistics(app) {
  const [s, q] = await Promise.all([get(`${APPS}/${app.agentid}/statistics`), get(`${APPS}/${app.agentid}/callbacks?state=failed&limit=20`)]);
  const d = dialog(`应用统计：${app.name}`, { wide: true });
  const retry = h("button", { type: "button", text: "重新投递失败的回调" });
  retry.addEventListener("click", async () => {
    try {
      const r = await post(`${APPS}/${app.agentid}/callbacks/retry`, {});
      toast(`已重新排队 ${r.requeued} 条回调`);
    } catch (e) {
      toast(e.message, "error");
    }
  });
  append(d.body,
    table(["消息", "接收人次", "已送达", "失败", "已读", "会话"], [h("tr", {}, [s.messages, s.recipients, s.delivered, s.failed, s.read, s.conversations].map((v) => h("td", { text: v })))]),
    h("h3", { text: "最近消息" }),
    table(["时间", "类型", "状态", "接收", "送达", "已读"], (s.recent || []).map((m) => h("tr", {},
      h("td", { text: formatTime(m.created_ts) }), h("td", { text: m.msgtype }), h("td", { text: m.state }), h("td", { text: m.recipients }),
      h("td", { text: m.delivered }), h("td", { text: m.read })))),
    h("h3", { text: `回调：待投递 ${q.counts.pending}，已投递 ${q.counts.sent}，失败 ${q.counts.failed}` }), q.counts.failed ? retry : null,
    app.callback ? verifyBox(app) : null);
}

// WeCom's URL verification of the callback, run now by the server.
function verifyBox(app) {
  const result = h("p", { class: "verify-result", "aria-live": "polite" });
  const run = h("button", { type: "button", text: "验证回调地址" });
  run.addEventListener("click", async () => {
    run.disabled = true;
    clear(result, h("span", { class: "muted", text: "正在验证…" }));
    try {
      const r = await get(`${APPS}/${app.agentid}/callback/verification`);
      clear(result, r.verified
        ? h("span", { class: "verdict passed", text: `验证通过（${formatTime(r.checked_ts)}）：${r.url}` })
        : h("span", { class: "verdict blocked", text: `未通过验证：${r.error}` }));
    } catch (e) {
      clear(result, h("span", { class: "verdict blocked", text: e.message }));
    } finally {
      run.disabled = false;
    }
  });
  return h("div", { class: "verify-box" }, run, result);
}

// A push on behalf of the app: message/send's body, sent by the server as the app.
function pushDialog(app) {
  const d = dialog(`以“${app.name}”推送消息`, { wide: true });
  const error = errorBox();
  const users = h("input", { name: "push_users", placeholder: "账号，用逗号分隔" });
  const parties = departmentPicker("接收部门（含下级）", [], 100, "apps.manage");
  const all = h("input", { type: "checkbox", name: "push_all" });
  const title = h("input", { name: "push_title", placeholder: "留空发送文本消息；填写则发送卡片消息" });
  const url = h("input", { name: "push_url", placeholder: "卡片点击后打开的链接（https://…）" });
  const text = h("textarea", { name: "push_text", rows: 4, class: "wide-input" });
  const result = h("div", { class: "push-result", "aria-live": "polite" });
  append(d.body, h("div", { class: "form-grid" }, field("接收人", users), parties.el,
    h("label", { class: "check" }, all, "应用可见范围内的所有人（@all）"),
    field("标题", title), field("链接", url), field("内容", text)), error.el, result);
  const send = h("button", { type: "button", class: "primary", text: "发送" });
  const close = h("button", { type: "button", text: "关闭" });
  close.addEventListener("click", d.close);
  append(d.footer, close, send);
  send.addEventListener("click", async () => {
    const body = {};
    if (all.checked) body.touser = "@all";
    else {
      const ids = users.value.split(/[\s,，|]+/).filter(Boolean);
      if (ids.length) body.touser = ids.join("|");
      if (parties.ids().length) body.toparty = parties.ids().join("|");
    }
    if (title.value.trim()) {
      body.msgtype = "textcard";
      body.textcard = { title: title.value.trim(), description: text.value, url: url.value.trim() || undefined };
    } else {
      body.msgtype = "text";
      body.text = { content: text.value };
    }
    clear(result);
    await submitting(send, error, async () => {
      const r = await post(`${APPS}/${app.agentid}/messages`, body);
      const invalid = [["无效接收人", r.invaliduser], ["无效部门", r.invalidparty], ["无效标签", r.invalidtag]].filter(([, v]) => v);
      clear(result, h("p", { class: "verdict passed", text: `已发送，消息 ID：${r.msgid}` }),
        invalid.map(([k, v]) => h("p", { class: "muted", text: `${k}（不在应用可见范围内或不存在）：${v}` })));
      toast("消息已推送");
    });
  });
  users.focus();
}
