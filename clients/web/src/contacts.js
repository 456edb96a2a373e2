// SPDX-License-Identifier: AGPL-3.0-or-later
// 通讯录: 收藏联系人 on top (the directory's favourites of this officer), 标签 (src/tags.js), the organisation
// directory (src/directory_tree.js: the department tree and the search by name or
// pinyin), and a member's profile with 发消息, which opens or creates the 1:1 chat, and
// 收藏联系人 / 取消收藏.
import { html } from "htm/preact";
import { useCallback, useEffect, useState } from "preact/hooks";
import { directory } from "./api.js";
import { DirectoryBrowser, useDirectoryRoots, useDirectorySearch } from "./directory_tree.js";
import { TagsSection } from "./tags.js";

function MemberRow({ member, onMember }) {
  return html`<li class="member">
    <button type="button" class="tree-row" data-userid=${member.userid} onClick=${() => onMember(member)}>
      <span class="avatar small" aria-hidden="true">${member.name.slice(0, 1)}</span>
      <span class="name">${member.name}</span>
      ${member.position && html`<span class="position">${member.position}</span>`}
    </button>
  </li>`;
}

// The officer's favourite contacts: {list, has(userid), toggle(member)}; null list while
// loading, loaded when 通讯录 is first opened (`active`). Shared by the list pane and the
// profile.
export function useFavoriteContacts(token, active) {
  const [list, setList] = useState(null);
  const [error, setError] = useState("");
  const load = useCallback(() => directory.favorites(token).then((r) => setList(r.favorites || []), (e) => setError(e.message)), [token]);
  useEffect(() => {
    if (active && list === null) load();
  }, [token, active]);
  const has = (userid) => Boolean(list && list.some((m) => m.userid === userid));
  async function toggle(member) {
    setError("");
    try {
      await (has(member.userid) ? directory.removeFavorite(token, member.userid) : directory.addFavorite(token, member.userid));
    } catch (e) {
      setError(e.message);
    }
    await load();
  }
  return { list, has, toggle, error };
}

export function ContactsList({ token, onMember, favorites }) {
  const [query, setQuery] = useState("");
  const [open, setOpen] = useState(true);
  const [error, setError] = useState("");
  const roots = useDirectoryRoots(token, setError);
  const found = useDirectorySearch(token, query, setError);
  const row = (m) => html`<${MemberRow} key=${m.userid} member=${m} onMember=${onMember} />`;

  return html`<div class="list-pane contacts">
    <div class="search-box">
      <input type="search" name="contact-search" aria-label="搜索联系人" placeholder="搜索：姓名、拼音或首字母"
        value=${query} onInput=${(e) => setQuery(e.target.value)} />
    </div>
    ${error && html`<p class="error">${error}</p>`}
    ${!found && favorites.list && favorites.list.length > 0 && html`<ul class="tree favorite-contacts" aria-label="收藏联系人">
      <li class="department"><button type="button" class="tree-row" aria-expanded=${open} onClick=${() => setOpen(!open)}>
        <span class="caret">${open ? "▾" : "▸"}</span><span class="name">收藏联系人</span>
        <span class="count">${favorites.list.length}</span></button>
        ${open && html`<ul class="tree">${favorites.list.map(row)}</ul>`}</li>
    </ul>`}
    ${!found && html`<${TagsSection} token=${token} row=${row} />`}
    <${DirectoryBrowser} token=${token} roots=${roots} found=${found} row=${row} />
  </div>`;
}

const FIELDS = [
  ["position", "职务"],
  ["mobile", "手机"],
  ["telephone", "座机"],
  ["email", "邮箱"],
];

export function MemberProfile({ token, member, onMessage, busy, error, favorites }) {
  const [profile, setProfile] = useState(member);
  useEffect(() => {
    setProfile(member);
    directory.member(token, member.userid).then(setProfile, () => {});
  }, [member.userid]);
  return html`<section class="profile" aria-label="联系人资料">
    <div class="profile-card">
      <span class="avatar large" aria-hidden="true">${profile.name.slice(0, 1)}</span>
      <div>
        <h2>${profile.name}</h2>
        <p class="userid">账号：${profile.userid}</p>
      </div>
    </div>
    <dl class="fields">
      ${(profile.departments || []).length > 0 && html`<dt>部门</dt><dd>${profile.departments.map((d) => d.name).join("、")}</dd>`}
      ${FIELDS.filter(([key]) => profile[key]).map(([key, label]) => html`<dt>${label}</dt><dd>${profile[key]}</dd>`)}
    </dl>
    ${(error || favorites.error) && html`<p class="error" role="alert">${error || favorites.error}</p>`}
    <div class="profile-actions">
      <button type="button" class="primary" onClick=${() => onMessage(profile)} disabled=${busy || !profile.user_id}>发消息</button>
      <button type="button" class="favorite-toggle" aria-pressed=${favorites.has(profile.userid)} disabled=${favorites.list === null}
        onClick=${() => favorites.toggle(profile)}>${favorites.has(profile.userid) ? "★ 取消收藏" : "☆ 收藏联系人"}</button>
    </div>
  </section>`;
}
