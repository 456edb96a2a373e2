// SPDX-License-Identifier: AGPL-3.0-or-later
// 审计 (audit admins: search by keyword and time, by file name, by an uploaded image or
// video; the chain verification; export of the archive's records as a JSON Lines file)
// and 操作日志 (super admin: every admin write and the
// audit admins' actions, filtered, paged, exported as CSV). modules/audit's admin API.

import { ApiError, download, enc, get, post, submitting, upload } from "./api.js";
import { clear, errorBox, field, formatTime, h, table, toast } from "./dom.js";
import { tabbed } from "./settings.js";

const AUDIT = "/_jwwx/admin/v1/audit";

function timeRange() {
  const from = h("input", { type: "datetime-local", name: "from" });
  const to = h("input", { type: "datetime-local", name: "to" });
  const value = () => {
    const out = {};
    if (from.value) out.from_ts = new Date(from.value).getTime();
    if (to.value) out.to_ts = new Date(to.value).getTime();
    return out;
  };
  return { el: [field("开始时间", from), field("结束时间", to)], value };
}

function describe(content) {
  if (!content || typeof content !== "object") return "";
  if (content.body) return String(content.body);
  return JSON.stringify(content).slice(0, 200);
}

const FILE_STATUS = { present: "在", redacted: "已撤回", expired: "已删除" };

function fileText(f) {
  const match = f.match === "exact" ? "完全相同" : (f.match === "similar" ? `相似，距离 ${f.distance}` : "");
  return `${f.name}（${[FILE_STATUS[f.status] || f.status, match].filter(Boolean).join("，")}）`;
}

function results(box, answer) {
  const rows = (answer.results || []).map((r) => h("tr", {},
    h("td", { text: formatTime(r.ts) }), h("td", { text: r.sender }),
    h("td", { text: r.is_group ? `群聊 ${r.room_id}` : (r.recipients || []).join("、") }),
    h("td", { text: describe(r.content) }),
    h("td", { text: (r.files || []).map(fileText).join("、") })));
  clear(box,
    h("p", { class: "muted", text: `找到 ${rows.length} 条，检查了 ${answer.scanned} 条记录${answer.complete ? "" : "（未查完，请缩小时间范围）"}` }),
    table(["时间", "发送人", "接收人", "内容", "文件/匹配"], rows, { className: "grid audit-results", empty: "没有找到" }));
}

function searchForm(box, inputs, run) {
  const range = timeRange();
  const out = h("div", {});
  const error = errorBox();
  const go = h("button", { type: "button", class: "primary", text: "搜索" });
  go.addEventListener("click", async () => {
    await submitting(go, error, async () => {
      results(out, await run(range.value()));
    });
  });
  clear(box, h("div", { class: "search-row" }, inputs, range.el, h("div", { class: "field" }, h("span", { class: "field-label", text: " " }), go)), error.el, out);
}

async function messagesPanel(box) {
  const keyword = h("input", { name: "keyword", placeholder: "关键词" });
  searchForm(box, field("关键词", keyword), (range) => post(`${AUDIT}/search/messages`, { keyword: keyword.value.trim(), ...range }));
}

async function filesPanel(box) {
  const name = h("input", { name: "file_name", placeholder: "文件名的一部分" });
  searchForm(box, field("文件名", name), (range) => post(`${AUDIT}/search/files`, { name: name.value.trim(), ...range }));
}

async function mediaPanel(box) {
  const file = h("input", { type: "file", name: "media", accept: "image/*,video/*" });
  searchForm(box, field("图片或视频", file), (range) => {
    const chosen = file.files && file.files[0];
    if (!chosen) throw new ApiError(400, { error: "请选择要查找的图片或视频文件" });
    const query = Object.entries(range).map(([k, v]) => `${k}=${v}`).join("&");
    return upload(`${AUDIT}/search/media${query ? `?${query}` : ""}`, chosen);
  });
}

async function verifyPanel(box) {
  const run = h("button", { type: "button", class: "primary", text: "校验存证链" });
  const out = h("div", {});
  run.addEventListener("click", async () => {
    run.disabled = true;
    clear(out, h("p", { class: "muted", text: "正在校验…" }));
    try {
      const r = await get(`${AUDIT}/verify`);
      clear(out, r.ok
        ? h("p", { class: "ok-text", text: `存证链完整：已校验 ${r.checked} 条记录，最新序号 ${r.head_seq}` })
        : h("p", { class: "form-error", role: "alert", text: `存证链异常：序号 ${r.broken.seq}，${{ modified: "记录被修改", missing: "记录缺失", beyond_head: "存在链尾之后的记录" }[r.broken.reason] || r.broken.reason}` }));
    } catch (e) {
      clear(out, h("p", { class: "form-error", role: "alert", text: e.message }));
    } finally {
      run.disabled = false;
    }
  });
  clear(box, h("p", { class: "muted", text: "逐条核对审计记录的 SM3 哈希链，发现修改、删除或插入的记录。" }), run, out);
}

const EXPORT_KINDS = [["message", "消息"], ["group", "群操作"], ["app", "应用消息"], ["usage", "使用记录（登录）"], ["admin", "管理员操作"]];
const EXPORT_PAGE = 500;

// 导出: the archive's decrypted records of one kind after a sequence number, page by
// page (each page is itself archived as an audit operation), saved as JSON Lines.
async function exportPanel(box) {
  const kind = h("select", { name: "export_kind" }, EXPORT_KINDS.map(([v, t]) => h("option", { value: v, text: t })));
  const after = h("input", { type: "number", name: "after_seq", min: 0, value: 0, class: "narrow" });
  const most = h("input", { type: "number", name: "export_max", min: 1, max: 100000, value: 10000, class: "narrow" });
  const progress = h("progress", { max: 1, value: 0, hidden: true });
  const status = h("p", { class: "muted export-status", "aria-live": "polite" });
  const error = errorBox();
  const run = h("button", { type: "button", class: "primary", text: "导出" });
  run.addEventListener("click", async () => {
    const limit = Math.max(1, Number(most.value) || 1);
    const lines = [];
    let position = Math.max(0, Number(after.value) || 0);
    progress.hidden = false;
    progress.max = limit;
    await submitting(run, error, async () => {
      for (;;) {
        const page = await get(`${AUDIT}/export/${kind.value}?after_seq=${position}&limit=${Math.min(EXPORT_PAGE, limit - lines.length)}`);
        for (const record of page.records) lines.push(JSON.stringify(record));
        progress.value = lines.length;
        status.textContent = `已读取 ${lines.length} 条…`;
        if (!page.more || !page.records.length || lines.length >= limit) {
          position = page.records.length ? page.records[page.records.length - 1].seq : position;
          break;
        }
        position = page.records[page.records.length - 1].seq;
      }
      const blob = new Blob([lines.join("\n") + (lines.length ? "\n" : "")], { type: "application/x-ndjson" });
      const url = URL.createObjectURL(blob);
      const a = h("a", { href: url, download: `audit-${kind.value}-${after.value || 0}-${position}.jsonl` });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
      status.textContent = `已导出 ${lines.length} 条记录（序号到 ${position}）；下次可从序号 ${position} 之后继续导出。`;
      after.value = position;
    });
  });
  clear(box, h("p", { class: "muted", text: "导出存证记录（已解密的原文，含已撤回的内容）。每次导出都会记入审计管理员操作日志。" }),
    h("div", { class: "search-row" }, field("记录类型", kind), field("从序号之后", after), field("最多条数", most),
      h("div", { class: "field" }, h("span", { class: "field-label", text: " " }), run)),
    progress, status, error.el);
}

export async function showAudit(content) {
  tabbed(content, "审计", [["消息搜索", messagesPanel], ["文件搜索", filesPanel], ["图片/视频搜索", mediaPanel], ["存证校验", verifyPanel], ["导出", exportPanel]]);
}

// 操作日志 (super admin).
export async function showOperations(content) {
  const log = h("select", { name: "log" }, h("option", { value: "admin", text: "管理员操作" }), h("option", { value: "audit", text: "审计管理员操作" }));
  const action = h("input", { name: "action", placeholder: "如 directory.member" });
  const actor = h("input", { name: "actor", placeholder: "@账号:服务器" });
  const target = h("input", { name: "target", placeholder: "如 member:zhangsan" });
  const out = h("div", {});
  const error = errorBox();
  const query = (extra) => {
    const params = { log: log.value, action: action.value.trim(), actor: actor.value.trim(), target: target.value.trim(), ...extra };
    return Object.entries(params).filter(([, v]) => v !== "" && v !== undefined).map(([k, v]) => `${k}=${enc(v)}`).join("&");
  };
  let pages = [];
  const show = async (after) => {
    error.hide();
    try {
      const answer = await get(`${AUDIT}/operations?${query({ limit: 100, after_seq: after })}`);
      const rows = answer.operations.map((o) => {
        const r = o.record || {};
        return h("tr", {}, h("td", { text: o.seq }), h("td", { text: formatTime(o.ts) }), h("td", { text: r.actor || "" }),
          h("td", { text: r.action || "" }), h("td", { text: r.target || (r.query ? JSON.stringify(r.query) : "") }),
          h("td", { text: (r.detail && r.detail.ip) || "" }));
      });
      const more = h("button", { type: "button", text: "下一页", disabled: answer.complete || !answer.next_seq });
      more.addEventListener("click", () => { pages.push(after); show(answer.next_seq); });
      clear(out, table(["序号", "时间", "操作人", "操作", "对象", "IP"], rows, { className: "grid operations", empty: "没有记录" }),
        h("div", { class: "pager" }, h("span", { class: "muted", text: `检查了 ${answer.scanned} 条记录` }), more));
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      error.show(e.message);
    }
  };
  const search = h("button", { type: "button", class: "primary", text: "查询" });
  search.addEventListener("click", () => { pages = []; show(undefined); });
  const csv = h("button", { type: "button", text: "导出 CSV" });
  csv.addEventListener("click", () => download(`${AUDIT}/operations?${query({ format: "csv", limit: 10000 })}`, "operations.csv").catch((e) => toast(e.message, "error")));
  clear(content, h("div", { class: "page-head" }, h("h1", { text: "操作日志" })),
    h("div", { class: "search-row" }, field("日志", log), field("操作类型", action), field("操作人", actor), field("对象", target),
      h("div", { class: "field" }, h("span", { class: "field-label", text: " " }), h("div", { class: "actions" }, search, csv))),
    error.el, out);
  await show(undefined);
}
