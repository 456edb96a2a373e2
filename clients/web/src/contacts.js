// SPDX-License-Identifier: AGPL-3.0-or-later
// 通讯录: the organisation directory (src/directory_tree.js: the department tree and the
// search by name or pinyin), and a member's profile with 发消息, which opens or creates
// the 1:1 chat.
import { html } from "htm/preact";
import { useEffect, useState } from "preact/hooks";
import { directory } from "./api.js";
import { DirectoryBrowser, useDirectoryRoots, useDirectorySearch } from "./directory_tree.js";

function MemberRow({ member, onMember }) {
  return html`<li class="member">
    <button type="button" class="tree-row" data-userid=${member.userid} onClick=${() => onMember(member)}>
      <span class="avatar small" aria-hidden="true">${member.name.slice(0, 1)}</span>
      <span class="name">${member.name}</span>
      ${member.position && html`<span class="position">${member.position}</span>`}
    </button>
  </li>`;
}

export function ContactsList({ token, onMember }) {
  const [query, setQuery] = useState("");
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
    <${DirectoryBrowser} token=${token} roots=${roots} found=${found} row=${row} />
  </div>`;
}

const FIELDS = [
  ["position", "职务"],
  ["mobile", "手机"],
  ["telephone", "座机"],
  ["email", "邮箱"],
];

export function MemberProfile({ token, member, onMessage, busy, error }) {
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
    ${error && html`<p class="error" role="alert">${error}</p>`}
    <button type="button" class="primary" onClick=${() => onMessage(profile)} disabled=${busy || !profile.user_id}>发消息</button>
  </section>`;
}
