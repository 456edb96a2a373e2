// SPDX-License-Identifier: AGPL-3.0-or-later
// The organisation directory as the server lets this officer see it, shared by 通讯录 and
// the member pickers (发起群聊): the department tree opened level by level (a big
// department page by page, 加载更多) and the search by name, pinyin or initials as the
// officer types. What a member's row is (a link to the profile, a checkbox) the caller
// says with `row(member)`, which returns the row with its key.
import { html } from "htm/preact";
import { useEffect, useState } from "preact/hooks";
import { directory } from "./api.js";

// The top-level departments.
export function useDirectoryRoots(token, onError) {
  const [roots, setRoots] = useState([]);
  useEffect(() => {
    directory.roots(token).then((r) => setRoots(r.departments || []), (e) => onError(e.message));
  }, [token]);
  return roots;
}

// The directory's search for `query` (null while it is empty); an answer to an older
// query is dropped.
export function useDirectorySearch(token, query, onError) {
  const [found, setFound] = useState(null);
  useEffect(() => {
    const q = query.trim();
    if (!q) return setFound(null);
    let current = true;
    const timer = setTimeout(() => {
      directory.search(token, q).then((r) => current && setFound(r.results || []), (e) => current && onError(e.message));
    }, 200);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [token, query]);
  return found;
}

export function Department({ token, department, row }) {
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
      ${page.departments.map((d) => html`<${Department} key=${d.id} token=${token} department=${d} row=${row} />`)}
      ${page.members.map(row)}
      ${page.next_from && html`<li><button type="button" class="tree-row more" onClick=${more}>加载更多…</button></li>`}
    </ul>`}
  </li>`;
}

// The search's hits when there is a query, else the tree from its roots.
export function DirectoryBrowser({ token, roots, found, row, resultsClass = "search-results" }) {
  return found
    ? html`<ul class=${`tree ${resultsClass}`} aria-label="搜索结果">
        ${found.length === 0 && html`<li class="empty">没有找到相关联系人</li>`}
        ${found.map(row)}
      </ul>`
    : html`<ul class="tree" aria-label="组织架构">
        ${roots.map((d) => html`<${Department} key=${d.id} token=${token} department=${d} row=${row} />`)}
      </ul>`;
}
