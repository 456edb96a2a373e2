// SPDX-License-Identifier: AGPL-3.0-or-later
// 发起群聊: pick members from the organisation directory (the department tree, opened
// level by level, or the search by name or pinyin), name the group (by default the first
// members' names, as WeChat does) and create it with the groups client API
// (docs/groups.md `POST /_jwwx/client/v1/groups`); the invited officers' clients join.
import { html } from "htm/preact";
import { useEffect, useState } from "preact/hooks";
import { directory, groups } from "./api.js";
import { defaultGroupName } from "./rules.js";

function PickRow({ member, picked, onToggle, me }) {
  const self = member.user_id === me;
  return html`<li class="member">
    <label class="tree-row pick-row" data-userid=${member.userid}>
      <input type="checkbox" checked=${self || picked} disabled=${self || !member.user_id} onChange=${() => onToggle(member)} />
      <span class="avatar small" aria-hidden="true">${member.name.slice(0, 1)}</span>
      <span class="name">${member.name}</span>
      ${member.position && html`<span class="position">${member.position}</span>`}
    </label>
  </li>`;
}

function PickDepartment({ token, department, isPicked, onToggle, me }) {
  const [open, setOpen] = useState(false);
  const [page, setPage] = useState(null);
  const [error, setError] = useState("");
  async function toggle() {
    if (!open && !page) {
      try {
        setPage(await directory.children(token, department.id));
      } catch (e) {
        setError(e.message);
      }
    }
    setOpen(!open);
  }
  async function more() {
    try {
      const next = await directory.children(token, department.id, page.next_from);
      setPage({ departments: [...page.departments, ...next.departments], members: [...page.members, ...next.members], next_from: next.next_from });
    } catch (e) {
      setError(e.message);
    }
  }
  return html`<li class="department">
    <button type="button" class="tree-row" aria-expanded=${open} onClick=${toggle}>
      <span class="caret">${open ? "▾" : "▸"}</span><span class="name">${department.name}</span>
      <span class="count">${department.total_member_count ?? ""}</span>
    </button>
    ${error && html`<p class="error">${error}</p>`}
    ${open && page && html`<ul class="tree">
      ${page.departments.map((d) => html`<${PickDepartment} key=${d.id} token=${token} department=${d} isPicked=${isPicked} onToggle=${onToggle} me=${me} />`)}
      ${page.members.map((m) => html`<${PickRow} key=${m.userid} member=${m} picked=${isPicked(m)} onToggle=${onToggle} me=${me} />`)}
      ${page.next_from && html`<li><button type="button" class="tree-row more" onClick=${more}>加载更多…</button></li>`}
    </ul>`}
  </li>`;
}

export function CreateGroupDialog({ client, token, onCreated, onClose }) {
  const [roots, setRoots] = useState([]);
  const [query, setQuery] = useState("");
  const [found, setFound] = useState(null);
  const [picked, setPicked] = useState([]);
  const [name, setName] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const me = client.getUserId();
  const myName = client.getUser(me)?.displayName || me;

  useEffect(() => {
    directory.roots(token).then((r) => setRoots(r.departments || []), (e) => setError(e.message));
  }, [token]);
  useEffect(() => {
    const q = query.trim();
    if (!q) return setFound(null);
    let current = true;
    const timer = setTimeout(() => {
      directory.search(token, q).then((r) => current && setFound(r.results || []), (e) => current && setError(e.message));
    }, 200);
    return () => { current = false; clearTimeout(timer); };
  }, [query]);

  const isPicked = (m) => picked.some((p) => p.user_id === m.user_id);
  const toggle = (m) => setPicked(isPicked(m) ? picked.filter((p) => p.user_id !== m.user_id) : [...picked, m]);

  async function create() {
    setBusy(true);
    setError("");
    try {
      const { room_id: roomId } = await groups.create(token, {
        name: name.trim() || defaultGroupName(myName, picked.map((m) => m.name)),
        invite: picked.map((m) => m.user_id),
      });
      onCreated(roomId);
    } catch (e) {
      setError(e.message);
      setBusy(false);
    }
  }

  return html`<div class="dialog-backdrop" onClick=${(e) => e.target === e.currentTarget && onClose()}>
    <div class="dialog create-group" role="dialog" aria-label="发起群聊">
      <h3>发起群聊</h3>
      <div class="pick-columns">
        <section class="pick-source">
          <input type="search" name="pick-search" aria-label="搜索成员" placeholder="搜索：姓名、拼音或首字母"
            value=${query} onInput=${(e) => setQuery(e.target.value)} />
          ${found
            ? html`<ul class="tree pick-results" aria-label="搜索结果">
                ${found.length === 0 && html`<li class="empty">没有找到相关联系人</li>`}
                ${found.map((m) => html`<${PickRow} key=${m.userid} member=${m} picked=${isPicked(m)} onToggle=${toggle} me=${me} />`)}
              </ul>`
            : html`<ul class="tree" aria-label="组织架构">
                ${roots.map((d) => html`<${PickDepartment} key=${d.id} token=${token} department=${d} isPicked=${isPicked} onToggle=${toggle} me=${me} />`)}
              </ul>`}
        </section>
        <section class="pick-chosen" aria-label="已选择">
          <h4>已选择 ${picked.length} 人</h4>
          <ul class="chosen">${picked.map((m) => html`<li key=${m.user_id} data-user-id=${m.user_id}>
            <span class="name">${m.name}</span>
            <button type="button" class="link" aria-label=${`移除 ${m.name}`} onClick=${() => toggle(m)}>×</button></li>`)}</ul>
          <label class="group-name">群聊名称<input name="group-name" value=${name} maxLength="64"
            placeholder=${defaultGroupName(myName, picked.map((m) => m.name))} onInput=${(e) => setName(e.target.value)} /></label>
        </section>
      </div>
      ${error && html`<p class="error" role="alert">${error}</p>`}
      <div class="dialog-actions">
        <button type="button" class="link" onClick=${onClose}>取消</button>
        <button type="button" class="primary" disabled=${busy || picked.length === 0} onClick=${create}>创建</button>
      </div>
    </div>
  </div>`;
}
