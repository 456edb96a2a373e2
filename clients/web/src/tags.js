// SPDX-License-Identifier: AGPL-3.0-or-later
// 标签 in 通讯录: the tags the bureau's admins keep (GET …/directory/tags: only those with
// something this officer may see, with how many), folded under one row as WeChat's 标签;
// a tag opens into its departments (each a tree of its own, src/directory_tree.js) and
// its members (the caller's `row`, 加载更多 for the next page), all under the directory's
// visibility rules, which the server applies.
import { html } from "htm/preact";
import { useState } from "preact/hooks";
import { directory } from "./api.js";
import { Department } from "./directory_tree.js";

function Tag({ token, tag, row }) {
  const [open, setOpen] = useState(false);
  const [page, setPage] = useState(null);
  const [error, setError] = useState("");

  async function load(from) {
    try {
      const next = await directory.tag(token, tag.id, from);
      setPage((before) => (from && before ? { ...next, members: [...before.members, ...next.members] } : next));
    } catch (e) {
      setError(e.message);
    }
  }

  function toggle() {
    if (!open && !page) load();
    setOpen(!open);
  }

  return html`<li class="department tag" data-tag-id=${tag.id}>
    <button type="button" class="tree-row" aria-expanded=${open} onClick=${toggle}>
      <span class="caret">${open ? "▾" : "▸"}</span>
      <span class="name">${tag.name}</span>
      <span class="count">${tag.member_count || ""}</span>
    </button>
    ${error && html`<p class="error">${error}</p>`}
    ${open && page && html`<ul class="tree">
      ${page.departments.map((d) => html`<${Department} key=${d.id} token=${token} department=${d} row=${row} />`)}
      ${page.members.map(row)}
      ${page.next_from && html`<li><button type="button" class="tree-row more" onClick=${() => load(page.next_from)}>加载更多…</button></li>`}
    </ul>`}
  </li>`;
}

// The 标签 row (folded at first); the list is asked for when it is first unfolded.
export function TagsSection({ token, row }) {
  const [open, setOpen] = useState(false);
  const [tags, setTags] = useState(null);
  const [error, setError] = useState("");

  function toggle() {
    if (!open && tags === null) directory.tags(token).then((r) => setTags(r.tags || []), (e) => setError(e.message));
    setOpen(!open);
  }

  return html`<ul class="tree tags" aria-label="标签">
    <li class="department">
      <button type="button" class="tree-row" aria-expanded=${open} onClick=${toggle}>
        <span class="caret">${open ? "▾" : "▸"}</span><span class="name">标签</span>
        <span class="count">${tags ? tags.length : ""}</span>
      </button>
      ${error && html`<p class="error">${error}</p>`}
      ${open && tags && html`<ul class="tree">
        ${tags.length === 0 && html`<li class="empty">暂无标签</li>`}
        ${tags.map((t) => html`<${Tag} key=${t.id} token=${token} tag=${t} row=${row} />`)}
      </ul>`}
    </li>
  </ul>`;
}
