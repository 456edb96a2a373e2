// SPDX-License-Identifier: AGPL-3.0-or-later
// 通讯录: the organisation directory as the server lets this officer see it (department
// tree, opened level by level, and search by name or pinyin), and a member's profile
// with 发消息, which opens or creates the 1:1 chat.
import { html } from "htm/preact";
import { useEffect, useState } from "preact/hooks";
import { directory } from "./api.js";

function Department({ token, department, onMember }) {
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

  // A big department comes page by page (the directory's next_from).
  async function more() {
    try {
      const next = await directory.children(token, department.id, page.next_from);
      setPage({
        departments: [...page.departments, ...next.departments],
        members: [...page.members, ...next.members],
        next_from: next.next_from,
      });
    } catch (e) {
      setError(e.message);
    }
  }

  return html`<li class="department" data-id=${department.id}>
    <button type="button" class="tree-row" aria-expanded=${open} onClick=${toggle}>
      <span class="caret">${open ? "▾" : "▸"}</span>
      <span class="name">${department.name}</span>
      <span class="count">${department.total_member_count ?? ""}</span>
    </button>
    ${error && html`<p class="error">${error}</p>`}
    ${open && page && html`<ul class="tree">
      ${page.departments.map((d) => html`<${Department} key=${d.id} token=${token} department=${d} onMember=${onMember} />`)}
      ${page.members.map((m) => html`<${MemberRow} key=${m.userid} member=${m} onMember=${onMember} />`)}
      ${page.next_from && html`<li><button type="button" class="tree-row more" onClick=${more}>加载更多…</button></li>`}
    </ul>`}
  </li>`;
}

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
  const [roots, setRoots] = useState([]);
  const [query, setQuery] = useState("");
  const [found, setFound] = useState(null);
  const [error, setError] = useState("");

  useEffect(() => {
    directory.roots(token).then((r) => setRoots(r.departments || []), (e) => setError(e.message));
  }, [token]);

  // Search as the officer types; an answer to an older query is dropped.
  useEffect(() => {
    const q = query.trim();
    if (!q) return setFound(null);
    let current = true;
    const timer = setTimeout(() => {
      directory.search(token, q).then((r) => current && setFound(r.results || []), (e) => current && setError(e.message));
    }, 200);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [query]);

  return html`<div class="list-pane contacts">
    <div class="search-box">
      <input type="search" name="contact-search" aria-label="搜索联系人" placeholder="搜索：姓名、拼音或首字母"
        value=${query} onInput=${(e) => setQuery(e.target.value)} />
    </div>
    ${error && html`<p class="error">${error}</p>`}
    ${found
      ? html`<ul class="tree search-results" aria-label="搜索结果">
          ${found.length === 0 && html`<li class="empty">没有找到相关联系人</li>`}
          ${found.map((m) => html`<${MemberRow} key=${m.userid} member=${m} onMember=${onMember} />`)}
        </ul>`
      : html`<ul class="tree" aria-label="组织架构">
          ${roots.map((d) => html`<${Department} key=${d.id} token=${token} department=${d} onMember=${onMember} />`)}
        </ul>`}
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
