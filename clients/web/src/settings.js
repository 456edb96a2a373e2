// SPDX-License-Identifier: AGPL-3.0-or-later
// 设置 (the rail's last entry, as WeChat PC's): 通用 (the chat's font size and background), 新消息通知
// (desktop notifications, the message's text in them, 免打扰时段 with 重要联系人 still
// notifying, the chats set to 消息免打扰 with 开启新消息提醒), 账号与安全 (修改密码 through
// the standard change the accounts module checks against its policy; 登录设备: the
// officer's sessions, each signed out with the password). The preferences are the
// account data cn.jwwx.settings (src/prefs.js); desktop notifications are shown by
// useDesktopNotifications from the live timeline.
import { html } from "htm/preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { PushRuleKind, RoomEvent } from "matrix-js-sdk";
import { ApiError, call } from "./api.js";
import { chatRooms, errorText, formatTime, preview } from "./chats.js";
import { useDirectorySearch } from "./directory_tree.js";
import { isGroup } from "./group.js";
import { PasswordForm } from "./password.js";
import { BACKGROUNDS, FONT_SIZES, isTime, normalizePrefs, notificationText, SETTINGS_TYPE, shouldNotify } from "./prefs.js";
import { isMutedRule, mentionsMe } from "./rules.js";
import { wantEveryChat } from "./sliding.js";

// What this page wrote last, until /sync brings the server's copy back: a second change
// made before the first one's echo builds on the first instead of undoing it.
let pending = null;

export function readPrefs(client) {
  const stored = normalizePrefs(client.getAccountData(SETTINGS_TYPE)?.getContent());
  if (pending && JSON.stringify(stored) === JSON.stringify(pending)) pending = null;
  return pending || stored;
}

// `change`: the fields to set, or a function of the preferences giving them.
async function savePrefs(client, change) {
  const current = readPrefs(client);
  const next = normalizePrefs({ ...current, ...(typeof change === "function" ? change(current) : change) });
  pending = next;
  try {
    await client.setAccountData(SETTINGS_TYPE, next);
  } catch (e) {
    if (pending === next) pending = null;
    throw e;
  }
}

// A desktop notification for each new message from someone else that the preferences
// let through, unless its chat is open in the focused window; a click opens the chat.
export function useDesktopNotifications(client, openRoomId, onOpen) {
  const latest = useRef({ openRoomId, onOpen });
  latest.current = { openRoomId, onOpen };
  useEffect(() => {
    if (!client) return undefined;
    const onTimeline = (event, room, toStart, removed, data) => {
      // Only what arrives live after the first /sync is news.
      if (toStart || removed || !room || !data?.liveEvent || !client.isInitialSyncComplete()) return;
      const sender = event.getSender();
      if (sender === client.getUserId() || event.getType() !== "m.room.message" || event.isRelation("m.replace")) return;
      if (typeof Notification === "undefined" || Notification.permission !== "granted") return;
      if (room.roomId === latest.current.openRoomId && document.hasFocus()) return;
      const prefs = readPrefs(client);
      const muted = isMutedRule(client.pushRules, room.roomId);
      const mentioned = mentionsMe(event.getContent(), client.getUserId());
      if (!shouldNotify(prefs, { sender, muted, mentioned, date: new Date() })) return;
      const { title, body } = notificationText(prefs, {
        chat: room.name,
        senderName: room.getMember(sender)?.name || sender,
        text: preview(event, client, room),
        direct: !isGroup(room),
      });
      const note = new Notification(title, { body, tag: room.roomId });
      note.onclick = () => {
        window.focus();
        latest.current.onOpen(room.roomId);
        note.close();
      };
    };
    client.on(RoomEvent.Timeline, onTimeline);
    return () => client.removeListener(RoomEvent.Timeline, onTimeline);
  }, [client]);
}

const SECTIONS = [["general", "通用"], ["notify", "新消息通知"], ["account", "账号与安全"]];

export function SettingsNav({ section, onSection }) {
  return html`<div class="list-pane settings-nav">
    <h3 class="list-title">设置</h3>
    <ul class="settings-sections">${SECTIONS.map(([key, label]) => html`<li key=${key}>
      <button type="button" class=${`tree-row${section === key ? " selected" : ""}`} aria-current=${section === key}
        data-section=${key} onClick=${() => onSection(key)}>${label}</button></li>`)}</ul>
  </div>`;
}

function General({ prefs, save }) {
  return html`<section class="settings-section" aria-label="通用">
    <h3>字体大小</h3>
    <div class="font-sizes" role="radiogroup" aria-label="字体大小">
      ${Object.entries(FONT_SIZES).map(([key, [label, px]]) => html`<label key=${key} class="check">
        <input type="radio" name="font" value=${key} checked=${prefs.font === key}
          onChange=${() => save({ font: key })} />
        <span style=${{ fontSize: `${px}px` }}>${label}</span></label>`)}
    </div>
    <p class="bubble font-sample" style=${{ fontSize: `${FONT_SIZES[prefs.font][1]}px` }}>聊天文字将以此大小显示</p>
    <h3>聊天背景</h3>
    <div class="backgrounds" role="radiogroup" aria-label="聊天背景">
      ${Object.entries(BACKGROUNDS).map(([key, [label, colour]]) => html`<label key=${key} class="check background-choice">
        <input type="radio" name="background" value=${key} checked=${prefs.background === key} onChange=${() => save({ background: key })} />
        <span class="swatch" style=${{ background: colour }} aria-hidden="true"></span>${label}</label>`)}
    </div>
  </section>`;
}

function ImportantContacts({ token, prefs, save: saveAll, onError }) {
  const [query, setQuery] = useState("");
  const found = useDirectorySearch(token, query, onError);
  const ids = new Set(prefs.important.map((p) => p.user_id));
  return html`<div class="important">
    <h4>重要联系人（免打扰时段内仍提醒）</h4>
    <ul class="chosen">${prefs.important.map((p) => html`<li key=${p.user_id} data-user-id=${p.user_id}>
      <span class="name">${p.name}</span>
      <button type="button" class="link" aria-label=${`移除 ${p.name}`}
        onClick=${() => saveAll((c) => ({ important: c.important.filter((x) => x.user_id !== p.user_id) }))}>×</button></li>`)}</ul>
    <input type="search" name="important-search" aria-label="添加重要联系人" placeholder="添加：姓名、拼音或首字母"
      value=${query} onInput=${(e) => setQuery(e.target.value)} />
    ${found && html`<ul class="tree pick-results" aria-label="搜索结果">
      ${found.length === 0 && html`<li class="empty">没有找到相关联系人</li>`}
      ${found.filter((m) => m.user_id).map((m) => html`<li key=${m.userid} class="member">
        <button type="button" class="tree-row" data-userid=${m.userid} disabled=${ids.has(m.user_id)}
          onClick=${() => { setQuery(""); saveAll((p) => ({ important: [...p.important, { user_id: m.user_id, name: m.name }] })); }}>
          <span class="name">${m.name}</span>${ids.has(m.user_id) && html`<span class="position">已添加</span>`}</button></li>`)}
    </ul>`}
  </div>`;
}

function Notifications({ client, token, prefs, save, onError, tick }) {
  const [permission, setPermission] = useState(typeof Notification === "undefined" ? "unsupported" : Notification.permission);
  const [start, setStart] = useState(prefs.dnd.start);
  const [end, setEnd] = useState(prefs.dnd.end);
  const muted = chatRooms(client).filter((room) => isMutedRule(client.pushRules, room.roomId));
  useEffect(() => wantEveryChat(), []); // under sliding sync: every chat, not the window
  function savePeriod() {
    if (!isTime(start) || !isTime(end)) return onError("请填写正确的时间，如 22:00");
    onError("");
    return save((p) => ({ dnd: { ...p.dnd, start, end } }));
  }
  return html`<section class="settings-section" aria-label="新消息通知" data-tick=${tick}>
    <label class="check"><input type="checkbox" name="notify" checked=${prefs.notify}
      onChange=${(e) => save({ notify: e.target.checked })} />新消息桌面通知</label>
    ${permission === "default" && html`<button type="button" class="link" onClick=${() =>
      Notification.requestPermission().then(setPermission)}>允许浏览器显示通知</button>`}
    ${permission === "denied" && html`<p class="hint">浏览器已禁止本站的通知，请在浏览器的网站设置中允许</p>`}
    ${permission === "unsupported" && html`<p class="hint">此浏览器不支持桌面通知</p>`}
    <label class="check"><input type="checkbox" name="preview" checked=${prefs.preview}
      onChange=${(e) => save({ preview: e.target.checked })} />通知显示消息内容</label>

    <h3>免打扰时段</h3>
    <label class="check"><input type="checkbox" name="dnd" checked=${prefs.dnd.on}
      onChange=${(e) => { const on = e.target.checked; save((p) => ({ dnd: { ...p.dnd, on } })); }} />开启免打扰时段</label>
    <div class="dnd-period">
      <label>从<input type="time" name="dnd-start" value=${start} onInput=${(e) => setStart(e.target.value)} /></label>
      <label>至<input type="time" name="dnd-end" value=${end} onInput=${(e) => setEnd(e.target.value)} /></label>
      <button type="button" class="primary small" onClick=${savePeriod}
        disabled=${start === prefs.dnd.start && end === prefs.dnd.end}>保存时段</button>
    </div>
    <p class="hint">时段内新消息不弹出通知（起止相同为全天）；未读数照常显示。</p>
    <${ImportantContacts} token=${token} prefs=${prefs} save=${save} onError=${onError} />

    <h3>已设为消息免打扰的聊天</h3>
    ${muted.length === 0 && html`<p class="hint">没有设为消息免打扰的聊天</p>`}
    <ul class="muted-chats">${muted.map((room) => html`<li key=${room.roomId} data-room-id=${room.roomId}>
      <span class="name">${room.name}</span>
      <button type="button" class="link" onClick=${() => client.deletePushRule("global", PushRuleKind.Override, room.roomId)
        .catch((e) => onError(errorText(e)))}>开启新消息提醒</button></li>`)}</ul>
  </section>`;
}

const DEVICES = "/_matrix/client/v3/devices";

// Signs a device out: the standard DELETE, whose user-interactive auth is the password.
async function deleteDevice(session, deviceId, password) {
  const path = `${DEVICES}/${encodeURIComponent(deviceId)}`;
  let flow;
  try {
    return await call("DELETE", path, {}, session.token);
  } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 401 || !e.body.session) throw e;
    flow = e.body.session;
  }
  try {
    return await call("DELETE", path, {
      auth: { type: "m.login.password", identifier: { type: "m.id.user", user: session.userId }, password, session: flow },
    }, session.token);
  } catch (e) {
    if (e instanceof ApiError && (e.status === 401 || e.errcode === "M_FORBIDDEN")) throw new ApiError(e.status, { error: "密码错误" });
    throw e;
  }
}

function Devices({ session }) {
  const [devices, setDevices] = useState(null);
  const [asking, setAsking] = useState(null);
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const load = () => call("GET", DEVICES, undefined, session.token).then(
    (r) => setDevices((r.devices || []).sort((a, b) => (b.device_id === session.deviceId) - (a.device_id === session.deviceId)
      || (b.last_seen_ts || 0) - (a.last_seen_ts || 0))),
    (e) => setError(e.message),
  );
  useEffect(() => { load(); }, [session.token]);

  async function signOut(ev) {
    ev.preventDefault();
    if (!password) return setError("请输入登录密码");
    setBusy(true);
    setError("");
    try {
      await deleteDevice(session, asking, password);
      setAsking(null);
      setPassword("");
      await load();
    } catch (e) {
      setError(e.message);
    } finally {
      setBusy(false);
    }
  }

  return html`<div class="devices">
    <h3>登录设备</h3>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    ${devices === null && !error && html`<p class="hint">正在加载…</p>`}
    <ul class="device-list">${(devices || []).map((d) => html`<li key=${d.device_id} class="device" data-device-id=${d.device_id}>
      <div class="device-main">
        <span class="name">${d.display_name || "未命名设备"}${d.device_id === session.deviceId && html`<span class="role">本机</span>`}</span>
        <span class="hit-meta">设备 ${d.device_id}${d.last_seen_ip ? ` · ${d.last_seen_ip}` : ""}${
          d.last_seen_ts ? ` · 最近使用 ${formatTime(d.last_seen_ts)}` : ""}</span>
      </div>
      ${d.device_id !== session.deviceId && asking !== d.device_id && html`<button type="button" class="link"
        onClick=${() => { setAsking(d.device_id); setPassword(""); setError(""); }}>退出登录</button>`}
      ${asking === d.device_id && html`<form class="confirm-signout" onSubmit=${signOut}>
        <input type="password" name="device-password" aria-label="登录密码" placeholder="输入登录密码确认"
          autocomplete="current-password" value=${password} onInput=${(e) => setPassword(e.target.value)} />
        <button type="submit" class="primary small" disabled=${busy}>确认退出</button>
        <button type="button" class="link" onClick=${() => setAsking(null)}>取消</button>
      </form>`}
    </li>`)}</ul>
  </div>`;
}

function Account({ session }) {
  const [done, setDone] = useState(false);
  return html`<section class="settings-section" aria-label="账号与安全">
    <p class="userid">账号：${session.userId}</p>
    <h3>修改密码</h3>
    ${done && html`<p class="notice" role="status">密码已修改</p>`}
    <${PasswordForm} session=${session} offerLogout=${true} onDone=${() => setDone(true)} />
    <${Devices} session=${session} />
  </section>`;
}

export function SettingsPane({ client, session, section, tick }) {
  const [error, setError] = useState("");
  const [, setSaved] = useState(0);
  const prefs = readPrefs(client);
  // Shown at once (the account data's echo comes with the next /sync).
  const save = (change) => {
    const done = savePrefs(client, change).catch((e) => setError(errorText(e)));
    setSaved((n) => n + 1);
    return done;
  };
  const title = Object.fromEntries(SECTIONS)[section];
  return html`<section class="settings" aria-label="设置">
    <header class="conversation-header"><h2>${title}</h2></header>
    <div class="settings-body">
      ${error && html`<p class="error" role="alert">${error}</p>`}
      ${section === "general" && html`<${General} prefs=${prefs} save=${save} />`}
      ${section === "notify" && html`<${Notifications} client=${client} token=${session.token} prefs=${prefs} save=${save}
        onError=${setError} tick=${tick} />`}
      ${section === "account" && html`<${Account} session=${session} />`}
    </div>
  </section>`;
}
