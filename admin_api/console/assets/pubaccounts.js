// SPDX-License-Identifier: AGPL-3.0-or-later
// 公众号: public accounts (modules/public_accounts' admin API): the accounts the signed-in
// admin manages, owns or edits; creating one (apps.create) with its owners, editors and
// subscribers; the article editor with a live preview (the sanitised HTML rebuilt from an
// inert parse, element by element, never innerHTML), the card sent to oneself, publishing
// now or at a time, cancelling, silent withdraw, edits after publishing; the statistics
// and their XLSX export.

import { del, download, get, post, put, submitting } from "./api.js";
import { append, clear, confirmDialog, dialog, errorBox, field, formatTime, h, table, toast } from "./dom.js";
import { departmentNames, departmentPicker } from "./members.js";

const ACCOUNTS = "/_jwwx/admin/v1/pubaccounts/accounts";
const ROLES = { admin: "管理员", owner: "负责人", editor: "编辑" };
const STATES = { draft: "草稿", scheduled: "定时发布", published: "已发布", withdrawn: "已撤回" };
const PUSH_STATES = { scheduled: "待发送", sending: "发送中", sent: "已发送", withdrawn: "已撤回" };
// A draft tied to a scheduled push shows as scheduled (the module keeps it a draft).
const stateOf = (a) => (a.state === "draft" && a.push_id !== null ? "scheduled" : a.state);
const split = (text) => text.split(/[\s,，]+/).filter(Boolean);

export async function showPubAccounts(content, ctx) {
  const { accounts } = await get(ACCOUNTS);
  const create = ctx.can("apps.create") ? h("button", { type: "button", class: "primary", text: "创建公众号" }) : null;
  if (create) create.addEventListener("click", () => accountForm(null, ctx, () => showPubAccounts(content, ctx)));
  const rows = accounts.map((a) => {
    const open = h("button", { type: "button", class: "link", text: "管理" });
    open.addEventListener("click", () => showAccount(content, ctx, a.id).catch((e) => toast(e.message, "error")));
    return h("tr", { dataset: { account: a.id } }, h("td", { text: a.name }), h("td", { text: a.description || "" }),
      h("td", { text: ROLES[a.role] || a.role || "" }), h("td", { text: a.subscribers.everyone ? "全员" : rangeText(a.subscribers) }),
      h("td", { text: formatTime(a.created_ts) }), h("td", {}, open));
  });
  clear(content, h("div", { class: "page-head" }, h("h1", { text: "公众号" }), h("div", { class: "actions" }, create)),
    table(["名称", "简介", "我的角色", "订阅范围", "创建时间", ""], rows, { empty: "还没有可管理的公众号" }));
}

function rangeText(r) {
  return `部门 ${r.department_ids.length} 个，成员 ${r.userids.length} 人，标签 ${r.tag_ids.length} 个`;
}

async function showAccount(content, ctx, id, tab = 0) {
  const account = await get(`${ACCOUNTS}/${id}`);
  const back = h("button", { type: "button", class: "link", text: "← 全部公众号" });
  back.addEventListener("click", () => showPubAccounts(content, ctx));
  const tabs = [["文章", articlesPanel], ["推送记录", pushesPanel], ["统计", statisticsPanel]];
  if (account.role !== "editor") tabs.push(["设置", settingsPanel]);
  const holder = h("div", {});
  const bar = h("div", { class: "tabs", role: "tablist" });
  let current = tab;
  const reload = () => showAccount(content, ctx, id, current);
  const select = (index) => {
    current = index;
    for (const [i, b] of [...bar.children].entries()) b.classList.toggle("active", i === index);
    // A fresh panel per click: a slower tab finishes into its detached panel.
    const panel = h("div", { class: "tab-panel" }, h("p", { class: "muted", text: "加载中…" }));
    clear(holder, panel);
    tabs[index][1](panel, account, ctx, reload).catch((e) => clear(panel, h("p", { class: "form-error", role: "alert", text: e.message })));
  };
  tabs.forEach(([label], i) => {
    const b = h("button", { type: "button", class: "tab", role: "tab", text: label });
    b.addEventListener("click", () => select(i));
    bar.append(b);
  });
  clear(content, back, h("div", { class: "page-head" }, h("h1", { text: `公众号：${account.name}` }),
    h("span", { class: "muted", text: `订阅 ${account.subscriber_count} 人 · 我的角色：${ROLES[account.role] || account.role}` })), bar, holder);
  select(Math.min(tab, tabs.length - 1));
}

// Articles.

async function articlesPanel(panel, account, ctx, reload) {
  const base = `${ACCOUNTS}/${account.id}`;
  const { articles } = await get(`${base}/articles`);
  const write = h("button", { type: "button", class: "primary", text: "写文章" });
  write.addEventListener("click", () => articleEditor(account, null, reload));
  const chosen = new Set();
  const publish = h("button", { type: "button", text: "发布选中的文章" });
  publish.addEventListener("click", () => publishDialog(account, [...chosen], reload));
  const rows = articles.map((a) => {
    const state = stateOf(a);
    const pick = h("input", { type: "checkbox", name: "pick", disabled: state !== "draft", "aria-label": `选择“${a.title}”` });
    pick.addEventListener("change", () => (pick.checked ? chosen.add(a.id) : chosen.delete(a.id)));
    const edit = h("button", { type: "button", class: "link", text: "编辑" });
    edit.addEventListener("click", () => articleEditor(account, a.id, reload).catch((e) => toast(e.message, "error")));
    const preview = h("button", { type: "button", class: "link", text: "预览" });
    preview.addEventListener("click", async () => {
      try {
        await post(`${base}/articles/${a.id}/preview`, {});
        toast("预览卡片已发送到您的客户端");
      } catch (e) {
        toast(e.message, "error");
      }
    });
    const remove = state === "draft" ? h("button", { type: "button", class: "link danger", text: "删除" }) : null;
    if (remove) remove.addEventListener("click", async () => {
      if (!(await confirmDialog("删除草稿", `确定删除草稿“${a.title}”吗？`, "删除"))) return;
      try {
        await del(`${base}/articles/${a.id}`);
        toast("已删除");
        await reload();
      } catch (e) {
        toast(e.message, "error");
      }
    });
    return h("tr", { dataset: { article: a.id } }, h("td", {}, pick), h("td", { text: a.title }), h("td", { text: a.author || "" }),
      h("td", {}, h("span", { class: `badge state-${state}`, text: STATES[state] || state })),
      h("td", { text: formatTime(a.published_ts || a.updated_ts) }), h("td", {}, edit, a.state !== "withdrawn" ? preview : null, remove));
  });
  clear(panel, h("div", { class: "actions" }, write, publish),
    table(["", "标题", "作者", "状态", "时间", ""], rows, { empty: "还没有文章" }));
}

// The body as the article page will show it: an inert parse (DOMParser runs no script
// and loads nothing), rebuilt with only the elements and links the server keeps.
const KEEP = new Set(["p", "br", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "b", "strong", "i", "em", "u",
  "blockquote", "code", "pre", "table", "thead", "tbody", "tr", "th", "td", "a", "span", "div", "hr"]);

function rebuild(node) {
  if (node.nodeType === Node.TEXT_NODE) return document.createTextNode(node.textContent);
  if (node.nodeType !== Node.ELEMENT_NODE) return null;
  const tag = node.tagName.toLowerCase();
  if (["script", "style", "iframe", "object", "embed", "form", "svg", "template"].includes(tag)) return null;
  const children = [...node.childNodes].map(rebuild);
  if (tag === "img" || tag === "video" || tag === "audio") return h("span", { class: "media-placeholder", text: `［${tag === "img" ? "图片" : "音视频"}］` });
  if (!KEEP.has(tag)) return h("span", {}, children);
  const props = {};
  if (tag === "a") {
    const href = node.getAttribute("href") || "";
    if (/^(https?:|mailto:)/i.test(href)) Object.assign(props, { href, rel: "noopener noreferrer", target: "_blank" });
  }
  return h(tag, props, children);
}

function renderPreview(target, title, author, digest, html) {
  const doc = new DOMParser().parseFromString(`<body>${html}</body>`, "text/html");
  clear(target, h("h2", { class: "article-title", text: title || "（无标题）" }),
    h("p", { class: "muted", text: [author, "预览"].filter(Boolean).join(" · ") }),
    digest ? h("p", { class: "digest", text: digest }) : null,
    h("div", { class: "article-body" }, [...doc.body.childNodes].map(rebuild)));
}

async function articleEditor(account, articleId, reload) {
  const base = `${ACCOUNTS}/${account.id}/articles`;
  const article = articleId === null ? null : await get(`${base}/${articleId}`);
  const d = dialog(article ? `编辑文章：${article.title}` : "写文章", { wide: true });
  const error = errorBox();
  const title = h("input", { name: "title", value: article ? article.title : "", maxlength: 64 });
  const author = h("input", { name: "author", value: article ? article.author || "" : "", maxlength: 32 });
  const digest = h("input", { name: "digest", value: article ? article.digest || "" : "", maxlength: 120 });
  const cover = h("input", { name: "cover", value: article ? article.cover || "" : "", placeholder: "封面图片链接（https://… 或 mxc://…）" });
  const body = h("textarea", { name: "body", rows: 12, class: "wide-input mono", placeholder: "<p>正文（HTML）</p>" }, article ? article.body || "" : "");
  const preview = h("div", { class: "article-preview", "aria-label": "预览" });
  const refresh = () => renderPreview(preview, title.value, author.value, digest.value, body.value);
  for (const input of [title, author, digest, body]) input.addEventListener("input", refresh);
  refresh();
  const note = article && article.state === "published" ? h("p", { class: "notice", text: "这篇文章已发布：保存后文章页面立即更新，标题、摘要、作者或封面的修改会同步到已发出的卡片。" }) : null;
  append(d.body, note, h("div", { class: "editor" },
    h("div", { class: "form-grid" }, field("标题", title), field("作者", author), field("摘要", digest), field("封面", cover), field("正文", body)),
    h("div", { class: "preview-pane" }, h("span", { class: "field-label", text: "预览" }), preview)), error.el);
  const save = h("button", { type: "button", class: "primary", text: "保存" });
  const cancel = h("button", { type: "button", text: "取消" });
  cancel.addEventListener("click", d.close);
  append(d.footer, cancel, save);
  save.addEventListener("click", async () => {
    const payload = { title: title.value.trim(), author: author.value.trim(), digest: digest.value.trim(), body: body.value };
    if (cover.value.trim()) payload.cover = cover.value.trim();
    await submitting(save, error, async () => {
      if (article) await put(`${base}/${article.id}`, payload);
      else await post(base, payload);
      d.close();
      toast("已保存");
      await reload();
    });
  });
  title.focus();
}

function publishDialog(account, ids, reload) {
  if (!ids.length) return toast("请先勾选要发布的草稿", "error");
  const d = dialog("发布文章");
  const error = errorBox();
  const when = h("select", { name: "when" }, h("option", { value: "now", text: "立即发布" }), h("option", { value: "later", text: "定时发布" }));
  const at = h("input", { type: "datetime-local", name: "publish_at" });
  const atRow = field("发布时间", at);
  atRow.hidden = true;
  when.addEventListener("change", () => { atRow.hidden = when.value !== "later"; });
  append(d.body, h("p", { text: `共 ${ids.length} 篇文章，合为一张卡片推送给全部订阅者。` }), field("方式", when), atRow, error.el);
  const ok = h("button", { type: "button", class: "primary", text: "发布" });
  const cancel = h("button", { type: "button", text: "取消" });
  cancel.addEventListener("click", d.close);
  append(d.footer, cancel, ok);
  ok.addEventListener("click", async () => {
    const body = { article_ids: ids };
    if (when.value === "later") {
      const ms = at.value ? new Date(at.value).getTime() : NaN;
      if (!Number.isFinite(ms)) return error.show("请选择发布时间");
      body.publish_at = ms;
    }
    await submitting(ok, error, async () => {
      await post(`${ACCOUNTS}/${account.id}/pushes`, body);
      d.close();
      toast(body.publish_at ? "已定时，到时自动发布" : "已发布");
      await reload();
    });
  });
}

// Pushes: cancel a scheduled one, withdraw a sent one (silently).

async function pushesPanel(panel, account, ctx, reload) {
  const base = `${ACCOUNTS}/${account.id}/pushes`;
  const [{ pushes }, { articles }] = await Promise.all([get(base), get(`${ACCOUNTS}/${account.id}/articles`)]);
  const titles = new Map(articles.map((a) => [a.id, a.title]));
  const rows = pushes.map((p) => {
    const act = (label, confirmText, run) => {
      const b = h("button", { type: "button", class: "link danger", text: label });
      b.addEventListener("click", async () => {
        if (!(await confirmDialog(label, confirmText, label))) return;
        try {
          await run();
          toast(`已${label}`);
          await reload();
        } catch (e) {
          toast(e.message, "error");
        }
      });
      return b;
    };
    const actions = [];
    if (p.state === "scheduled") actions.push(act("取消发布", "取消这次定时发布？文章回到草稿，这条记录删除。", () => del(`${base}/${p.id}`)));
    if (p.state === "sent") actions.push(act("撤回", "撤回后文章页面立即失效，已发出的卡片被静默删除（不留撤回提示）。确定吗？", () => post(`${base}/${p.id}/withdraw`, {})));
    return h("tr", { dataset: { push: p.id } }, h("td", { text: p.article_ids.map((a) => titles.get(a) || `#${a}`).join("、") }),
      h("td", { text: PUSH_STATES[p.state] || p.state }), h("td", { text: formatTime(p.sent_ts || p.publish_at) }),
      h("td", { text: p.delivered }), h("td", { text: p.created_by }), h("td", {}, actions));
  });
  clear(panel, table(["文章", "状态", "时间", "送达人数", "发布人", ""], rows, { empty: "还没有推送" }));
}

// Statistics, and the XLSX export of the same.

async function statisticsPanel(panel, account) {
  const base = `${ACCOUNTS}/${account.id}/statistics`;
  const s = await get(base);
  const exportButton = h("button", { type: "button", text: "导出 Excel" });
  exportButton.addEventListener("click", async () => {
    try {
      const r = await download(`${base}.xlsx`, `${account.name}-统计.xlsx`);
      toast(`已导出：${r.name}`);
    } catch (e) {
      toast(e.message, "error");
    }
  });
  const seconds = (ms) => Math.round((ms || 0) / 1000);
  clear(panel, h("div", { class: "actions" }, exportButton),
    table(["订阅人数", "已发推送", "已发布文章", "已撤回文章", "送达人次", "阅读人数", "阅读时长(秒)"],
      [h("tr", { class: "totals" }, [s.subscribers, s.pushes_sent, s.articles_published, s.articles_withdrawn, s.delivered, s.opened, seconds(s.read_ms)].map((v) => h("td", { text: v })))]),
    h("h3", { text: "文章" }),
    table(["标题", "状态", "发布时间", "送达", "阅读人数", "阅读次数", "平均阅读(秒)"], s.articles.map((a) => h("tr", { dataset: { article: a.article_id } },
      h("td", { text: a.title }), h("td", { text: STATES[a.state] || a.state }), h("td", { text: formatTime(a.published_ts) }),
      h("td", { text: a.delivered }), h("td", { text: a.opened }), h("td", { text: a.opens }), h("td", { text: seconds(a.mean_read_ms) })))),
    h("h3", { text: "各单位阅读" }),
    table(["文章", "单位", "订阅人数", "阅读人数"], s.articles.flatMap((a) => (a.units || []).map((u) => h("tr", {},
      h("td", { text: a.title }), h("td", { text: u.unit_name }), h("td", { text: u.subscribers }), h("td", { text: u.opened }))))));
}

// The account itself: name, description, owners and editors; admins also the subscriber
// range and whether officers may unfollow, and deleting it.

async function settingsPanel(panel, account, ctx, reload) {
  await accountForm(account, ctx, reload, panel);
}

async function accountForm(account, ctx, done, into = null) {
  const creating = account === null;
  const admin = creating || account.role === "admin";
  const d = into ? null : dialog("创建公众号", { wide: true });
  const error = errorBox();
  const name = h("input", { name: "account_name", value: creating ? "" : account.name });
  const description = h("input", { name: "account_description", value: creating ? "" : account.description || "" });
  const owners = h("input", { name: "owners", value: creating ? "" : account.owners.join(","), placeholder: "账号，用逗号分隔", disabled: !admin });
  const editors = h("input", { name: "editors", value: creating ? "" : account.editors.join(","), placeholder: "账号，用逗号分隔" });
  const range = creating ? { userids: [], department_ids: [], tag_ids: [], everyone: false } : account.subscribers;
  const everyone = h("input", { type: "checkbox", name: "everyone", checked: range.everyone, disabled: !admin });
  const picker = departmentPicker("订阅范围：部门（含下级）", await departmentNames(range.department_ids), 500, creating ? "apps.create" : "apps.manage");
  const users = h("input", { name: "subscriber_users", value: range.userids.join(","), placeholder: "账号，用逗号分隔", disabled: !admin });
  const unfollow = h("input", { type: "checkbox", name: "allow_unfollow", checked: creating ? true : account.allow_unfollow, disabled: !admin });
  const grid = h("div", { class: "form-grid" }, field("名称", name), field("简介", description), field("负责人", owners), field("编辑", editors),
    admin ? [h("label", { class: "check" }, everyone, "全员订阅"), picker.el, field("订阅范围：成员", users),
      h("label", { class: "check" }, unfollow, "允许民警取消关注")] : null);
  const save = h("button", { type: "button", class: "primary", text: creating ? "创建" : "保存" });
  const remove = !creating && admin ? h("button", { type: "button", class: "danger", text: "删除公众号" }) : null;
  if (d) {
    const cancel = h("button", { type: "button", text: "取消" });
    cancel.addEventListener("click", d.close);
    append(d.body, grid, error.el);
    append(d.footer, cancel, save);
  } else {
    clear(into, grid, error.el, h("div", { class: "actions" }, save, remove));
  }
  if (remove) remove.addEventListener("click", async () => {
    if (!(await confirmDialog("删除公众号", `确定删除公众号“${account.name}”吗？它的会话保留为历史。`, "删除"))) return;
    try {
      await del(`${ACCOUNTS}/${account.id}`);
      toast("已删除");
      location.hash = "#/pubaccounts";
      window.dispatchEvent(new HashChangeEvent("hashchange"));
    } catch (e) {
      toast(e.message, "error");
    }
  });
  save.addEventListener("click", async () => {
    const body = { name: name.value.trim(), description: description.value.trim(), editors: split(editors.value) };
    if (admin) {
      body.owners = split(owners.value);
      body.subscribers = { everyone: everyone.checked, department_ids: picker.ids(), userids: split(users.value), tag_ids: range.tag_ids };
      body.allow_unfollow = unfollow.checked;
    }
    await submitting(save, error, async () => {
      if (creating) await post(ACCOUNTS, body);
      else await put(`${ACCOUNTS}/${account.id}`, body);
      if (d) d.close();
      toast(creating ? "已创建" : "已保存");
      await done();
    });
  });
  name.focus();
}
