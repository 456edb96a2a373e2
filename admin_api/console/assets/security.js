// SPDX-License-Identifier: AGPL-3.0-or-later
// 安全: keywords, watermark and sharing (settings.js), the login-security policy (MFA,
// devices per platform, lockout; modules/accounts' security_policy), accounts and IPs
// locked after repeated failures and the new-network / new-device login alerts.

import { del, enc, get, put, submitting } from "./api.js";
import { clear, errorBox, field, formatTime, h, table, toast } from "./dom.js";
import { departmentPicker } from "./members.js";
import { keywordsPanel, tabbed, watermarkPanel } from "./settings.js";

const ACCOUNTS = "/_jwwx/admin/v1/accounts";

export async function showSecurity(content, ctx) {
  const tabs = [];
  if (ctx.can("settings.keywords")) tabs.push(["敏感词", (box) => keywordsPanel(box)]);
  if (ctx.can("settings.watermark")) tabs.push(["水印与分享", (box) => watermarkPanel(box, ctx)]);
  if (ctx.can("settings.mfa_device")) tabs.push(["二次验证与设备", (box) => policyPanel(box)]);
  if (ctx.isSuper) tabs.push(["锁定与登录提醒", (box) => locksPanel(box)]);
  tabbed(content, "安全", tabs);
}

async function locksPanel(box) {
  const locks = h("section", {});
  const alerts = h("section", {});
  clear(box, h("h2", { text: "锁定列表" }), locks, h("h2", { text: "异常登录提醒" }), alerts);
  await Promise.all([lockouts(locks), loginAlerts(alerts)]);
}

async function lockouts(box) {
  const answer = await get(`${ACCOUNTS}/lockouts?limit=200`);
  const rows = (answer.lockouts || []).map((l) => {
    const release = h("button", { type: "button", class: "link", text: "解除" });
    release.addEventListener("click", async () => {
      try {
        await del(l.scope === "ip" ? `${ACCOUNTS}/lockouts/ips/${enc(l.subject)}` : `${ACCOUNTS}/lockouts/users/${enc(l.subject)}`);
        toast("已解除锁定");
        await lockouts(box);
      } catch (e) {
        toast(e.message, "error");
      }
    });
    return h("tr", {}, h("td", { text: l.scope === "ip" ? "IP 地址" : "账号" }), h("td", { text: l.subject }), h("td", { text: l.failures }),
      h("td", { text: formatTime(l.locked_ts) }), h("td", { text: l.locked_until_ts ? formatTime(l.locked_until_ts) : "直到解除" }), h("td", {}, release));
  });
  clear(box, table(["类型", "对象", "失败次数", "锁定时间", "解锁时间", ""], rows, { empty: "当前没有被锁定的账号或 IP" }));
}

async function loginAlerts(box) {
  const answer = await get(`${ACCOUNTS}/alerts?limit=50`);
  const reasons = { new_network: "新的网络位置", new_device: "新的设备" };
  const rows = (answer.alerts || []).map((a) => h("tr", {}, h("td", { text: formatTime(a.ts) }), h("td", { text: a.user_id }),
    h("td", { text: a.ip || "" }), h("td", { text: a.platform || "" }), h("td", { text: (a.reasons || []).map((r) => reasons[r] || r).join("、") })));
  clear(box, table(["时间", "账号", "IP", "设备类型", "原因"], rows, { empty: "暂无提醒" }));
}

const MFA_MODES = [["none", "不强制"], ["all", "所有账号"], ["admins", "管理员"], ["departments", "指定部门（含下级部门）"]];
const PLATFORMS = [["mobile", "手机"], ["desktop", "电脑客户端"], ["web", "网页"], ["other", "其他"]];
const LOCKOUT = [
  ["max_failures", "连续输错密码次数", "达到后锁定账号"],
  ["window_seconds", "统计时长（秒）", "在这段时间内累计输错"],
  ["lock_seconds", "锁定时长（秒）", "0 表示直到管理员解除"],
  ["ip_max_failures", "同一 IP 输错次数", "达到后锁定该 IP，0 表示不锁定 IP"],
];

// The login-security policy admins set at run time; the config's values are the defaults.
async function policyPanel(box) {
  const POLICY = `${ACCOUNTS}/security_policy`;
  const current = await get(POLICY);
  const defaults = current.config;
  const mode = h("select", { name: "mfa_required_for", disabled: !current.mfa.available },
    MFA_MODES.map(([v, t]) => h("option", { value: v, text: t, selected: current.mfa.required_for === v })));
  const named = await Promise.all(current.mfa.departments.map((id) => get(`/_jwwx/admin/v1/directory/departments/${id}`)
    .then((d) => ({ id, name: d.name }), () => ({ id, name: `部门 ${id}` }))));
  const picker = departmentPicker("须使用二次验证的部门", named, 20, "settings.mfa_device");
  const showPicker = () => { picker.el.hidden = mode.value !== "departments"; };
  mode.addEventListener("change", showPicker);
  showPicker();
  const number = (name, value, min) => h("input", { type: "number", name, min, step: 1, value, class: "narrow" });
  const limits = PLATFORMS.map(([k, label]) => [k, label, number(`limit_${k}`, current.device_limits[k], 0)]);
  const lockout = LOCKOUT.map(([k, label, hint]) => [k, label, hint, number(k, current.lockout[k], 0)]);
  const alerts = h("input", { type: "checkbox", name: "new_login_alerts", checked: current.new_login_alerts });
  const error = errorBox();
  const save = h("button", { type: "button", class: "primary", text: "保存安全策略" });
  save.addEventListener("click", async () => {
    await submitting(save, error, async () => {
      const body = {
        device_limits: Object.fromEntries(limits.map(([k, , input]) => [k, Number(input.value)])),
        lockout: Object.fromEntries(lockout.map(([k, , , input]) => [k, Number(input.value)])),
        new_login_alerts: alerts.checked,
      };
      if (current.mfa.available) body.mfa = { required_for: mode.value, departments: mode.value === "departments" ? picker.ids() : [] };
      await put(POLICY, body);
      toast("安全策略已保存");
      await policyPanel(box);
    });
  });
  const was = (value) => `配置文件默认：${value}`;
  clear(box, h("div", { class: "form-narrow policy-form" },
    current.updated_ts ? h("p", { class: "muted", text: `最近修改：${current.updated_by || ""} ${formatTime(current.updated_ts)}` }) : null,
    h("fieldset", {}, h("legend", { text: "二次验证（动态验证码）" }),
      field("强制使用二次验证", mode, current.mfa.available ? was(MFA_MODES.find(([v]) => v === defaults.mfa.required_for)?.[1] || defaults.mfa.required_for) : "服务器未配置二次验证密钥（mfa.secret_path），不能强制"),
      picker.el),
    h("fieldset", {}, h("legend", { text: "每类设备同时登录数（0 表示不限）" }),
      h("div", { class: "inline-fields" }, limits.map(([k, label, input]) => field(label, input, was(defaults.device_limits[k]))))),
    h("fieldset", {}, h("legend", { text: "密码错误锁定" }),
      h("div", { class: "inline-fields" }, lockout.map(([k, label, hint, input]) => field(label, input, `${hint}；${was(defaults.lockout[k])}`)))),
    h("label", { class: "check" }, alerts, "新网络或新设备登录时提醒本人并记录"),
    error.el, h("div", { class: "actions" }, save)));
}
