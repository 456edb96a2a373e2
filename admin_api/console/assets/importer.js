// SPDX-License-Identifier: AGPL-3.0-or-later
// Import (CSV/XLSX upload with progress; a refused file's validation report as a table
// of row, column and reason; then the accounts' provisioning progress) and export.

import { ApiError, download, enc, get, upload } from "./api.js";
import { append, clear, dialog, field, h, table, toast } from "./dom.js";

const DIRECTORY = "/_jwwx/admin/v1/directory";
const KINDS = [["members", "成员"], ["departments", "部门"], ["tags", "标签"]];

export async function exportDirectory() {
  const saved = await download(`${DIRECTORY}/export`, "通讯录.xlsx");
  toast(`已导出 ${saved.name}`);
}

export function importDialog(done) {
  const d = dialog("导入通讯录", { wide: true });
  const kind = h("select", { name: "kind" }, KINDS.map(([v, t]) => h("option", { value: v, text: t })));
  const file = h("input", { type: "file", name: "file", accept: ".csv,.xlsx" });
  const bar = h("div", { class: "bar-fill" });
  const progress = h("div", { class: "progress", role: "progressbar", "aria-valuemin": "0", "aria-valuemax": "100", hidden: true }, bar);
  const status = h("p", { class: "muted", role: "status" });
  const report = h("div", { class: "report" });
  append(d.body,
    h("p", { class: "muted", text: "支持 CSV（UTF-8 或 GB18030）和 XLSX，第一行为列名。文件会先完整校验：有任何问题则整体不导入，并列出每一处问题。" }),
    field("导入内容", kind), field("文件", file), progress, status, report);
  const start = h("button", { type: "button", class: "primary", text: "开始导入" });
  const cancel = h("button", { type: "button", text: "关闭" });
  cancel.addEventListener("click", d.close);
  append(d.footer, cancel, start);

  const setProgress = (fraction) => {
    const percent = Math.round(fraction * 100);
    progress.hidden = false;
    bar.style.width = `${percent}%`;
    progress.setAttribute("aria-valuenow", String(percent));
  };

  start.addEventListener("click", async () => {
    const chosen = file.files && file.files[0];
    if (!chosen) return (status.textContent = "请选择文件");
    start.disabled = true;
    clear(report);
    status.textContent = "正在上传…";
    setProgress(0);
    try {
      const answer = await upload(`${DIRECTORY}/import/${kind.value}?filename=${enc(chosen.name)}`, chosen, (f) => {
        setProgress(f * 0.9);
        if (f >= 1) status.textContent = "正在校验和导入…";
      });
      setProgress(1);
      status.textContent = `导入成功：共 ${answer.rows} 行，新增 ${answer.created}，更新 ${answer.updated}，未变 ${answer.unchanged}`;
      if (answer.job_id) await followJob(answer.job_id, report);
      await done();
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      progress.hidden = true;
      showRefusal(e, status, report);
    } finally {
      start.disabled = false;
    }
  });
}

function showRefusal(e, status, report) {
  if (e.errcode === "CN_JWWX_IMPORT_REJECTED") {
    const errors = e.body.errors || [];
    status.textContent = `文件未导入：发现 ${errors.length} 处问题，请修改后重新导入。`;
    clear(report, table(["行", "列", "问题"], errors.map((x) => h("tr", {},
      h("td", { text: x.row }), h("td", { text: x.column || "" }), h("td", { text: x.message }))), { className: "grid report-table" }));
  } else if (e.errcode === "CN_JWWX_ADMIN_QUOTA_EXCEEDED" && e.body.units) {
    status.textContent = "文件未导入：超出授权人数。";
    clear(report, table(["单位", "授权人数", "现有人数", "导入后人数"], e.body.units.map((u) => h("tr", {},
      h("td", { text: u.unit_name || "全局总数" }), h("td", { text: u.quota }), h("td", { text: u.usage }), h("td", { text: u.usage_after }))),
    { className: "grid report-table" }));
  } else {
    status.textContent = `导入失败：${e.message}`;
  }
}

// Accounts are created in the background: show that job's progress until it ends.
async function followJob(jobId, report) {
  const bar = h("div", { class: "bar-fill" });
  const text = h("p", { class: "muted" });
  clear(report, h("h3", { text: "账号开通进度" }), h("div", { class: "progress" }, bar), text);
  for (let i = 0; i < 600; i += 1) {
    const job = await get(`${DIRECTORY}/jobs/${enc(jobId)}`);
    const doneCount = job.created + job.failed;
    bar.style.width = `${job.total ? Math.round((doneCount / job.total) * 100) : 100}%`;
    text.textContent = `共 ${job.total} 个账号：已开通 ${job.created}，失败 ${job.failed}，等待 ${job.pending}`;
    if (job.finished || !job.pending) return;
    await new Promise((r) => setTimeout(r, 1000));
  }
}
