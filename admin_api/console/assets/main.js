// SPDX-License-Identifier: AGPL-3.0-or-later
// The console's shell: the session (an HttpOnly cookie, api.js), the idle logout, the navigation
// and the hash routes (#/directory, #/admins, #/security). Each page is a module.

import { ApiError, get, session } from "./api.js";
import { clear, h, toast } from "./dom.js";
import { showLogin, showMfaEnrolment, showPasswordChange, showStepUp, signOutRequest } from "./login.js";
import { showDirectory } from "./directory.js";
import { showAdmins } from "./admins.js";
import { showSecurity } from "./security.js";
import { chatPanel, tabbed } from "./settings.js";
import { showApps } from "./apps.js";
import { showAudit, showOperations } from "./audit.js";
import { showUnit } from "./unit.js";
import { showStats } from "./stats.js";
import { showWorkbench } from "./workbench.js";
import { showPubAccounts } from "./pubaccounts.js";

const body = document.body;
const config = {
  title: body.dataset.title || "管理后台",
  idleMinutes: Number(body.dataset.idleMinutes) || 15,
  pageSize: Number(body.dataset.pageSize) || 50,
};
const root = document.getElementById("app");

const PAGES = [
  { route: "directory", label: "通讯录", show: showDirectory, allowed: (c) => c.isSuper || c.rights.has("directory.view") },
  { route: "admins", label: "管理员", show: showAdmins, allowed: (c) => c.isSuper || c.managesGroups },
  { route: "apps", label: "应用", show: showApps, allowed: (c) => c.can("apps.manage") },
  { route: "workbench", label: "工作台", show: showWorkbench, allowed: (c) => c.can("apps.workbench") },
  { route: "pubaccounts", label: "公众号", show: showPubAccounts, allowed: (c) => c.can("apps.manage") || c.can("apps.create") || c.pubStaff },
  { route: "security", label: "安全", show: showSecurity, allowed: (c) => c.isSuper || c.can("settings.keywords") || c.can("settings.watermark") || c.can("settings.mfa_device") },
  { route: "chat", label: "聊天设置", show: showChat, allowed: (c) => c.can("settings.group_caps") },
  { route: "audit", label: "审计", show: showAudit, allowed: (c) => c.roles.has("audit") },
  { route: "stats", label: "运营", show: showStats, allowed: (c) => c.isSuper || c.rights.has("directory.view") },
  { route: "operations", label: "操作日志", show: showOperations, allowed: (c) => c.isSuper },
  { route: "unit", label: "单位信息", show: showUnit, allowed: (c) => c.isSuper },
];

// Rights that come with a role rather than a group (docs/admin.md).
const ROLE_RIGHTS = {
  security: ["settings.keywords", "settings.watermark", "settings.mfa_device"],
  audit: ["audit.search", "audit.export", "audit.verify"],
};

async function showChat(content) {
  tabbed(content, "聊天设置", [["群聊与消息", chatPanel]]);
}

// Idle logout: any key press, click, scroll or touch counts as activity.
const idle = {
  timer: null,
  warnTimer: null,
  start() {
    const reset = () => this.reset();
    for (const name of ["keydown", "pointerdown", "wheel", "touchstart"]) {
      window.addEventListener(name, reset, { passive: true, capture: true });
    }
    this.reset();
  },
  reset() {
    if (!session.active()) return;
    clearTimeout(this.timer);
    clearTimeout(this.warnTimer);
    document.getElementById("idle-warning")?.remove();
    const ms = config.idleMinutes * 60000;
    this.warnTimer = setTimeout(() => {
      body.append(h("div", { id: "idle-warning", role: "alert", class: "toast toast-warn", text: "长时间未操作，1 分钟后将自动退出登录" }));
    }, Math.max(0, ms - 60000));
    this.timer = setTimeout(() => signOut(`已超过 ${config.idleMinutes} 分钟未操作，已自动退出登录`), ms);
  },
  stop() {
    clearTimeout(this.timer);
    clearTimeout(this.warnTimer);
    document.getElementById("idle-warning")?.remove();
  },
};

async function signOut(notice) {
  idle.stop();
  await signOutRequest();
  history.replaceState(null, "", location.pathname);
  showLogin(root, config.title, signedIn, notice);
}

// Any admin call may find the session's second factor missing or expired on the server:
// the step-up page, then the shell again.
const STEP_UP = new Set(["CN_JWWX_ADMIN_SECOND_FACTOR_REQUIRED", "CN_JWWX_ADMIN_SESSION_EXPIRED"]);
window.addEventListener("console:second-factor", (event) => {
  if (!session.active() || document.querySelector("form.login-form")) return;
  idle.stop();
  showStepUp(root, event.detail.errcode === "CN_JWWX_ADMIN_SESSION_EXPIRED", enter, () => signOut("已退出登录"));
});

window.addEventListener("console:signed-out", async () => {
  if (session.active()) {
    idle.stop();
    await session.end();
    showLogin(root, config.title, signedIn, "登录已失效，请重新登录");
  }
});

async function signedIn(credentials) {
  try {
    await session.begin(credentials.token, credentials.userId);
  } catch (e) {
    return showLogin(root, config.title, signedIn, e.message);
  }
  await enter();
}

// Who is this, and may they use the console? The admin API decides (GET me).
async function enter() {
  let me;
  try {
    me = await get("/_jwwx/admin/v1/admins/me");
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    if (e.errcode === "CN_JWWX_PASSWORD_CHANGE_REQUIRED") return showPasswordChange(root, session.userId(), enter);
    if (e.errcode === "CN_JWWX_MFA_ENROLMENT_REQUIRED") return showMfaEnrolment(root, enter);
    if (STEP_UP.has(e.errcode)) {
      return showStepUp(root, e.errcode === "CN_JWWX_ADMIN_SESSION_EXPIRED", enter, () => signOut("已退出登录"));
    }
    if (e.status === 401) return signOut("登录已失效，请重新登录");
    const text = e.errcode === "CN_JWWX_ADMIN_NETWORK" ? `当前网络不允许使用管理后台（${e.body.ip || ""}）` : e.message;
    return signOut(text);
  }
  const ctx = context(me);
  if (!PAGES.some((p) => p.allowed(ctx))) {
    // A public account's owner or editor needs no admin right for its account.
    ctx.pubStaff = await get("/_jwwx/admin/v1/pubaccounts/accounts").then((r) => r.accounts.length > 0, () => false);
  }
  if (!PAGES.some((p) => p.allowed(ctx))) {
    return signOut("该账号不是管理员，不能使用管理后台");
  }
  idle.start();
  shell(ctx);
}

function context(me) {
  const roles = new Set(me.roles || []);
  const rights = new Set();
  for (const group of me.groups || []) for (const r of group.rights || []) rights.add(r);
  for (const role of roles) for (const r of ROLE_RIGHTS[role] || []) rights.add(r);
  return {
    me,
    config,
    roles,
    rights,
    isSuper: roles.has("super"),
    can: (right) => roles.has("super") || rights.has(right),
    managesGroups: roles.has("super") || rights.has("groups.create_subgroups") || Boolean(me.manages_groups && me.manages_groups.length),
    serverName: me.user_id.slice(me.user_id.indexOf(":") + 1),
  };
}

function shell(ctx) {
  const pages = PAGES.filter((p) => p.allowed(ctx));
  const content = h("main", { class: "content", id: "content" });
  const nav = h("nav", { class: "nav", "aria-label": "主菜单" },
    pages.map((p) => h("a", { href: `#/${p.route}`, dataset: { route: p.route }, text: p.label })));
  const roleNames = { super: "超级管理员", audit: "审计管理员", security: "安全管理员" };
  const who = [...ctx.roles].map((r) => roleNames[r] || r).concat((ctx.me.groups || []).map((g) => g.name));
  const logout = h("button", { type: "button", class: "link", text: "退出" });
  logout.addEventListener("click", () => signOut("已退出登录"));
  clear(root, h("div", { class: "shell" },
    h("header", { class: "top" }, h("span", { class: "brand", text: config.title }),
      h("span", { class: "who" }, h("span", { id: "whoami", text: ctx.me.user_id }), who.length ? ` · ${who.join("、")}` : ""),
      logout),
    nav, content));

  const route = () => {
    const wanted = (location.hash.replace(/^#\//, "").split("/")[0]) || pages[0].route;
    const page = pages.find((p) => p.route === wanted) || pages[0];
    for (const overlay of document.querySelectorAll(".overlay")) overlay.remove();
    for (const a of nav.querySelectorAll("a")) a.classList.toggle("active", a.dataset.route === page.route);
    clear(content);
    page.show(content, ctx).catch((e) => {
      toast(e.message || String(e), "error");
    });
  };
  window.onhashchange = route;
  route();
}

session.resume().then((resumed) => (resumed ? enter() : showLogin(root, config.title, signedIn)));
