// SPDX-License-Identifier: AGPL-3.0-or-later
// 发起群聊: pick members from the organisation directory (src/directory_tree.js: the
// department tree, opened level by level, or the search by name or pinyin), name the
// group (by default the first members' names, as WeChat does) and create it with the
// groups client API (docs/groups.md `POST /_jwwx/client/v1/groups`); the invited
// officers' clients join.
import { html } from "htm/preact";
import { useState } from "preact/hooks";
import { groups } from "./api.js";
import { DirectoryBrowser, useDirectoryRoots, useDirectorySearch } from "./directory_tree.js";
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

export function CreateGroupDialog({ client, token, onCreated, onClose }) {
  const [query, setQuery] = useState("");
  const [picked, setPicked] = useState([]);
  const [name, setName] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const me = client.getUserId();
  const myName = client.getUser(me)?.displayName || me;

  const roots = useDirectoryRoots(token, setError);
  const found = useDirectorySearch(token, query, setError);

  const isPicked = (m) => picked.some((p) => p.user_id === m.user_id);
  const toggle = (m) => setPicked(isPicked(m) ? picked.filter((p) => p.user_id !== m.user_id) : [...picked, m]);
  const row = (m) => html`<${PickRow} key=${m.userid} member=${m} picked=${isPicked(m)} onToggle=${toggle} me=${me} />`;

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
          <${DirectoryBrowser} token=${token} roots=${roots} found=${found} row=${row} resultsClass="pick-results" />
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
