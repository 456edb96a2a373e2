// SPDX-License-Identifier: AGPL-3.0-or-later
// Group chats (docs/groups.md): the announcement pinned over the conversation, 群聊信息
// (members with their department and role, mute state; the owner's and admins' actions:
// mute all, mute a member, appoint admins, the announcement, the QR join link), and the
// read list of one's own message ("3人未读" → who); the owner's 转让群主 and 解散群聊, and
// 退出群聊 for the others, each after a confirmation. Roles and mute come from the room's
// power levels as /sync keeps them; the actions are the groups module's client API.
import { html } from "htm/preact";
import { useEffect, useState } from "preact/hooks";
import { directory, groups } from "./api.js";
import { isMuteAll, isMuted, localpart, ROLE_NAMES, roleOf } from "./rules.js";

export const GROUP_TYPE = "cn.jwwx.group";
export const ANNOUNCEMENT_TYPE = "cn.jwwx.announcement";

export function stateContent(room, type) {
  return room.currentState.getStateEvents(type, "")?.getContent() || null;
}

export function isGroup(room) {
  return stateContent(room, GROUP_TYPE) !== null;
}

export function powerLevels(room) {
  return stateContent(room, "m.room.power_levels");
}

// 群公告, pinned on top of the conversation.
export function AnnouncementBar({ room }) {
  const text = stateContent(room, ANNOUNCEMENT_TYPE)?.text;
  if (!text) return null;
  return html`<div class="announcement" role="note" title=${text}><strong>群公告</strong><span>${text}</span></div>`;
}

// Departments of members, asked once per officer for the session.
const departments = new Map();

async function departmentOf(token, userId) {
  if (!departments.has(userId)) {
    const id = localpart(userId);
    departments.set(userId, id
      ? directory.member(token, id).then((p) => (p.departments || []).map((d) => d.name).join("、"), () => "")
      : Promise.resolve(""));
  }
  return departments.get(userId);
}

function useDepartments(token, userIds) {
  const [found, setFound] = useState({});
  const key = userIds.join(",");
  useEffect(() => {
    let live = true;
    Promise.all(userIds.map(async (id) => [id, await departmentOf(token, id)])).then((pairs) => {
      if (live) setFound(Object.fromEntries(pairs));
    });
    return () => { live = false; };
  }, [key]);
  return found;
}

const SHOWN_MEMBERS = 200;

export function GroupPanel({ client, room, token, onClose, tick }) {
  const [loaded, setLoaded] = useState(false);
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const [link, setLink] = useState(null);
  const [editing, setEditing] = useState(false);
  const [text, setText] = useState("");
  const [confirm, setConfirm] = useState(null); // {kind: "transfer" | "dissolve" | "leave", member?}

  useEffect(() => {
    setLink(null);
    setEditing(false);
    setConfirm(null);
    setError("");
    room.loadMembersIfNeeded().then(() => setLoaded(true), () => setLoaded(true));
  }, [room.roomId]);

  const me = client.getUserId();
  const levels = powerLevels(room);
  const myRole = roleOf(levels, me);
  const manager = myRole !== "member";
  const order = { owner: 0, admin: 1, member: 2 };
  const members = room.getJoinedMembers()
    .sort((a, b) => order[roleOf(levels, a.userId)] - order[roleOf(levels, b.userId)] || a.name.localeCompare(b.name, "zh"))
    .slice(0, SHOWN_MEMBERS);
  const depts = useDepartments(token, members.map((m) => m.userId));
  const announcement = stateContent(room, ANNOUNCEMENT_TYPE)?.text || "";
  // The switch shows what was asked until /sync brings the new power levels.
  const muteAll = isMuteAll(levels);
  const [asked, setAsked] = useState(null);
  useEffect(() => setAsked(null), [muteAll]);

  async function switchMuteAll(on) {
    setAsked(on);
    if (!(await act(() => groups.muteAll(token, room.roomId, on)))) setAsked(null);
  }

  async function act(action) {
    setBusy(true);
    setError("");
    try {
      return await action();
    } catch (e) {
      setError(e.message);
      return null;
    } finally {
      setBusy(false);
    }
  }

  // The confirmed lifecycle action. Leaving (or the group dissolved) takes the chat off
  // the list; the client's pane closes with it.
  async function confirmed() {
    const { kind, member } = confirm;
    setConfirm(null);
    if (kind === "transfer") await act(() => groups.transfer(token, room.roomId, member.userId));
    if (kind === "dissolve") await act(() => groups.dissolve(token, room.roomId));
    if (kind === "leave") {
      const left = await act(async () => { await client.leave(room.roomId); return true; });
      if (left) client.forget(room.roomId).catch(() => {});
    }
  }

  async function publish(ev) {
    ev.preventDefault();
    if (await act(() => groups.announce(token, room.roomId, text.trim()))) setEditing(false);
  }

  return html`<aside class="group-panel" aria-label="群聊信息" data-tick=${tick}>
    <header><h3>群聊信息</h3><button type="button" class="link close" aria-label="关闭群聊信息" onClick=${onClose}>×</button></header>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    <section class="panel-block">
      <h4>群公告</h4>
      ${editing
        ? html`<form onSubmit=${publish}>
            <textarea name="announcement" aria-label="群公告内容" value=${text} onInput=${(e) => setText(e.target.value)}></textarea>
            <button type="submit" class="primary" disabled=${busy || !text.trim()}>发布</button>
            <button type="button" class="link" onClick=${() => setEditing(false)}>取消</button>
          </form>`
        : html`<p class="announcement-text">${announcement || "暂无群公告"}</p>
          ${manager && html`<button type="button" class="link" onClick=${() => { setText(announcement); setEditing(true); }}>编辑群公告</button>`}`}
    </section>
    ${manager && html`<section class="panel-block">
      <label class="switch"><input type="checkbox" name="mute-all" checked=${asked ?? muteAll} disabled=${busy}
        onChange=${(e) => switchMuteAll(e.currentTarget.checked)} />全员禁言</label>
      <button type="button" class="link" disabled=${busy} onClick=${async () => setLink(await act(() => groups.joinLink(token, room.roomId)))}>群二维码</button>
      ${link && html`<figure class="qr">
        <img src=${`data:image/png;base64,${link.qr_png_base64}`} alt="扫码加入群聊" width="160" height="160" />
        <figcaption>扫一扫二维码，加入群聊<br /><span class="qr-url">${link.url}</span><br />
          ${new Date(link.expires_ts).toLocaleString("zh-CN")} 前有效</figcaption>
      </figure>`}
    </section>`}
    <section class="panel-block">
      <h4>群成员（${room.getJoinedMemberCount()}）</h4>
      ${!loaded && html`<p class="empty">成员加载中…</p>`}
      <ul class="members" aria-label="群成员">
        ${members.map((m) => {
          const role = roleOf(levels, m.userId);
          const muted = isMuted(levels, m.userId);
          return html`<li class="group-member" data-user-id=${m.userId} key=${m.userId}>
            <span class="avatar small" aria-hidden="true">${m.name.slice(0, 1)}</span>
            <span class="member-main"><span class="name">${m.name}</span>
              <span class="dept">${depts[m.userId] || ""}</span></span>
            ${role !== "member" && html`<span class=${`role ${role}`}>${ROLE_NAMES[role]}</span>`}
            ${muted && html`<span class="muted-tag">已禁言</span>`}
            ${manager && role === "member" && m.userId !== me && html`<button type="button" class="link mute" disabled=${busy}
              onClick=${() => act(() => groups.mute(token, room.roomId, m.userId, !muted))}>${muted ? "解除禁言" : "禁言"}</button>`}
            ${myRole === "owner" && role !== "owner" && html`<button type="button" class="link admin" disabled=${busy}
              onClick=${() => act(() => groups.admin(token, room.roomId, m.userId, role !== "admin"))}>${role === "admin" ? "取消管理员" : "设为管理员"}</button>`}
            ${myRole === "owner" && role !== "owner" && html`<button type="button" class="link transfer" disabled=${busy}
              onClick=${() => setConfirm({ kind: "transfer", member: m })}>转让群主</button>`}
          </li>`;
        })}
      </ul>
    </section>
    <section class="panel-block lifecycle">
      ${myRole === "owner" && html`<button type="button" class="danger dissolve" disabled=${busy}
        onClick=${() => setConfirm({ kind: "dissolve" })}>解散群聊</button>`}
      ${(myRole !== "owner" || room.getJoinedMemberCount() <= 1) && html`<button type="button" class="danger leave" disabled=${busy}
        onClick=${() => setConfirm({ kind: "leave" })}>删除并退出</button>`}
      ${myRole === "owner" && room.getJoinedMemberCount() > 1 && html`<p class="hint">群主需先转让群主或解散群聊才能退出</p>`}
    </section>
    ${confirm && html`<div class="confirm" role="alertdialog" aria-label="确认">
      <p>${confirmText(confirm)}</p>
      <button type="button" class="link" onClick=${() => setConfirm(null)}>取消</button>
      <button type="button" class="primary" onClick=${confirmed}>确定</button>
    </div>`}
  </aside>`;
}

function confirmText({ kind, member }) {
  if (kind === "transfer") return `确定将群主转让给 ${member.name}？转让后你将成为管理员。`;
  if (kind === "dissolve") return "解散后，所有成员将被移出群聊，且不能再发送消息。确定解散？";
  return "退出后，将不再接收此群聊的消息。确定删除并退出？";
}

// "3人未读" → who read one's message, and who has not (the server's list).
export function ReadList({ token, room, eventId, onClose }) {
  const [answer, setAnswer] = useState(null);
  const [error, setError] = useState("");
  useEffect(() => {
    groups.receipts(token, room.roomId, eventId).then(setAnswer, (e) => setError(e.message));
  }, [eventId]);
  const names = (list) => list.map((u) => html`<li key=${u.user_id}>${u.name || u.user_id}</li>`);
  return html`<div class="read-list" role="dialog" aria-label="消息阅读情况">
    <button type="button" class="link close" aria-label="关闭" onClick=${onClose}>×</button>
    ${error && html`<p class="error">${error}</p>`}
    ${!answer && !error && html`<p class="empty">加载中…</p>`}
    ${answer && html`<div class="read-columns">
      <section class="unread"><h4>未读（${answer.unread_count}）</h4><ul>${names(answer.unread)}</ul></section>
      <section class="read"><h4>已读（${answer.read_count}）</h4><ul>${names(answer.read)}</ul></section>
    </div>`}
  </div>`;
}

// The admins' settings officers' clients obey ({recall_window_seconds}): read at start and
// every 5 minutes, as the client config; null until known (src/rules.js uses the default).
const SETTINGS_REFRESH_MS = 5 * 60 * 1000;

export function useGroupSettings(token) {
  const [settings, setSettings] = useState(null);
  useEffect(() => {
    let live = true;
    const load = () => groups.settings(token).then((s) => live && setSettings(s), () => {});
    load();
    const timer = setInterval(load, SETTINGS_REFRESH_MS);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [token]);
  return settings;
}
