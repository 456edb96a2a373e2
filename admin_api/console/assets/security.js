// SPDX-License-Identifier: AGPL-3.0-or-later
// 安全: keywords, watermark and sharing (settings.js), accounts and IPs locked after
// repeated failures and the new-network / new-device login alerts (modules/accounts).

import { del, enc, get } from "./api.js";
import { clear, formatTime, h, table, toast } from "./dom.js";
import { keywordsPanel, tabbed, watermarkPanel } from "./settings.js";

const ACCOUNTS = "/_jwwx/admin/v1/accounts";

export async function showSecurity(content, ctx) {
  const tabs = [];
  if (ctx.can("settings.keywords")) tabs.push(["敏感词", (box) => keywordsPanel(box)]);
  if (ctx.can("settings.watermark")) tabs.push(["水印与分享", (box) => watermarkPanel(box, ctx)]);
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
