// SPDX-License-Identifier: AGPL-3.0-or-later
// 工作台 (docs/workbench.md): the entries the admins put in this officer's range, by
// category, searched by name or pinyin. An internal link opens at once and its use is
// reported with the server's jump; every other entry is opened through the jump (an app
// gets its single-use code); another zone's jump shows
// the risk prompt (数据安全风险提示) and opens only after the officer confirms; a public
// account's entry opens its conversation (following the account first if need be).
import { html } from "htm/preact";
import { useEffect, useState } from "preact/hooks";
import { workbench } from "./api.js";
import { AuthedImage } from "./media.js";

function open(url) {
  window.open(url, "_blank", "noopener,noreferrer");
}

export function Workbench({ client, token, onOpenRoom }) {
  const [query, setQuery] = useState("");
  const [answer, setAnswer] = useState(null);
  const [error, setError] = useState("");
  const [prompt, setPrompt] = useState(null);
  const [notice, setNotice] = useState("");

  useEffect(() => {
    let live = true;
    const timer = setTimeout(() => {
      workbench.list(token, query.trim()).then((a) => live && setAnswer(a), (e) => live && setError(e.message));
    }, query ? 250 : 0);
    return () => { live = false; clearTimeout(timer); };
  }, [query]);

  async function openAccount(account) {
    if (account.room_id) return onOpenRoom(account.room_id);
    if (!account.subscribed) await workbench.follow(token, account.pubaccount_id);
    setNotice(`已关注「${account.name}」，会话稍后出现在消息列表中`);
    return undefined;
  }

  async function launch(entry) {
    setError("");
    setNotice("");
    if (!entry.jump_required) {
      open(entry.url); // inside the click (no popup blocker); the jump counts the use
      workbench.jump(token, entry.id).catch(() => undefined);
      return undefined;
    }
    try {
      const jump = await workbench.jump(token, entry.id);
      if (jump.kind === "pubaccount") await openAccount(jump.pubaccount);
      else if (jump.confirm_required) setPrompt({ entry, jump });
      else open(jump.url);
    } catch (e) {
      setError(e.message);
    }
    return undefined;
  }

  return html`<section class="workbench" aria-label="工作台">
    <header class="workbench-header"><h2>工作台</h2>
      <input type="search" name="workbench-search" aria-label="搜索应用" placeholder="搜索应用：名称或拼音"
        value=${query} onInput=${(e) => setQuery(e.target.value)} /></header>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    ${notice && html`<p class="notice" role="status">${notice}</p>`}
    ${answer && answer.count === 0 && html`<p class="empty">${query ? "没有找到相关应用" : "管理员尚未添加应用"}</p>`}
    ${(answer?.categories || []).map((c) => html`<section class="category" key=${c.name}>
      <h3>${c.name}</h3>
      <ul class="entries">${c.entries.map((e) => html`<li key=${e.id}>
        <button type="button" class="entry" data-id=${e.id} title=${e.description || e.name} onClick=${() => launch(e)}>
          <span class="entry-icon">${e.icon ? html`<${AuthedImage} client=${client} mxc=${e.icon} alt="" width=${96} height=${96} />` : e.name.slice(0, 1)}</span>
          <span class="entry-name">${e.name}</span>
          ${e.zone === "external" && html`<span class="zone-tag">外网</span>`}
        </button></li>`)}</ul>
    </section>`)}
    ${prompt && html`<div class="dialog-backdrop">
      <div class="dialog risk" role="alertdialog" aria-label="数据安全风险提示">
        <h3>数据安全风险提示</h3>
        <p>即将打开「${prompt.entry.name}」（${prompt.jump.zone_name || "其他网络区域"}）。</p>
        <p class="risk-text">${prompt.jump.prompt}</p>
        <div class="actions">
          <button type="button" class="link" onClick=${() => setPrompt(null)}>取消</button>
          <button type="button" class="primary" onClick=${() => { open(prompt.jump.url); setPrompt(null); }}>继续访问</button>
        </div>
      </div>
    </div>`}
  </section>`;
}
