// SPDX-License-Identifier: AGPL-3.0-or-later
// The signed-in client: a left rail (聊天, 通讯录, 收藏, 邮件, 工作台, 设置, the officer, 退出), the list pane
// (chats with unread badges, or the directory) and the right pane (the open chat or a
// member's profile). The SDK keeps the rooms up to date through /sync; every change it
// reports re-renders once per frame. Simplified sliding sync where the server offers
// it (src/sliding.js), /sync otherwise.
import { html } from "htm/preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { ClientEvent, createClient, Filter, HttpApiEvent, RoomEvent, RoomMemberEvent, RoomStateEvent } from "matrix-js-sdk";
import { ChatRows, hiddenChats, listedChats, unhideChat } from "./chatlist.js";
import { errorText, openDirectChat, roomKind, spareRoomIds, unreadCount } from "./chats.js";
import { ContactsList, MemberProfile, useFavoriteContacts } from "./contacts.js";
import { Conversation } from "./conversation.js";
import { FavoriteDetail, FavoritesList, SearchResults } from "./favorites.js";
import { useGroupSettings } from "./group.js";
import { MailDetail, MailList } from "./mail.js";
import { CreateGroupDialog } from "./newgroup.js";
import { badgeText, isSearchKey, watermarkFor } from "./format.js";
import { backgroundColour, fontPixels } from "./prefs.js";
import { countedNotShown, FIRST_SYNC, isMutedRule, slidingTotal, totalUnread } from "./rules.js";
import { startSliding, syncMode } from "./sliding.js";
import { serverCounts } from "./unread.js";
import { readPrefs, SettingsNav, SettingsPane, useDesktopNotifications } from "./settings.js";
import { useClientConfig, Watermark } from "./watermark.js";
import { Workbench } from "./workbench.js";

const WATCHED = [
  ClientEvent.Room, ClientEvent.DeleteRoom, ClientEvent.AccountData,
  RoomEvent.Timeline, RoomEvent.Name, RoomEvent.Tags, RoomEvent.Receipt, RoomEvent.MyMembership,
  RoomEvent.UnreadNotifications, RoomEvent.LocalEchoUpdated, RoomEvent.Redaction, RoomMemberEvent.Name,
  RoomMemberEvent.Membership, RoomStateEvent.Events,
];

function useMatrix(session, onSignOut) {
  const [client, setClient] = useState(null);
  const [sliding, setSliding] = useState(null);
  const [state, setState] = useState("PREPARING");
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let c = null;
    let sync = null;
    let ended = false;
    let frame = 0;
    const rerender = () => {
      if (!frame) frame = requestAnimationFrame(() => { frame = 0; setTick((t) => t + 1); });
    };
    // Simplified sliding sync when the server offers it (src/sliding.js), /sync otherwise.
    syncMode(session.token).then((mode) => {
      if (ended) return;
      c = createClient({
        baseUrl: window.location.origin,
        accessToken: session.token,
        userId: session.userId,
        deviceId: session.deviceId,
        // No calls in this client: no TURN server lookup at start (and every few minutes).
        disableVoip: true,
      });
      for (const name of WATCHED) c.on(name, rerender);
      c.on(ClientEvent.Sync, (s) => { setState(s); rerender(); });
      // WeChat has no invitations to accept: a chat someone starts with you is just there.
      c.on(RoomEvent.MyMembership, (room, membership) => {
        if (membership === "invite") c.joinRoom(room.roomId).catch(() => {});
      });
      // The token was revoked (kicked offline by an admin, signed out elsewhere).
      c.on(HttpApiEvent.SessionLoggedOut, () => onSignOut());
      if (mode === "sliding") {
        sync = startSliding(c, session.token, rerender);
        c.startClient({ slidingSync: sync.sync, lazyLoadMembers: true });
      } else {
        // The first /sync brings what the chat list needs (src/rules.js FIRST_SYNC): a few
        // newest events per chat, members lazily, no presence (nothing shows it); an
        // opened chat loads more.
        const filter = new Filter(session.userId);
        filter.setDefinition(FIRST_SYNC.filter);
        c.startClient({ initialSyncLimit: FIRST_SYNC.timelineLimit, lazyLoadMembers: true, filter });
      }
      setSliding(sync);
      setClient(c);
    });
    return () => {
      ended = true;
      if (!c) return;
      for (const name of WATCHED) c.removeListener(name, rerender);
      c.stopClient();
      if (sync) sync.stop();
    };
  }, [session.token]);
  return { client, sliding, state, tick };
}

function ChatList({ client, token, selected, onSelect, onJump, tick, entries, total, onMore }) {
  const [query, setQuery] = useState("");
  const [creating, setCreating] = useState(false);
  const pane = useRef(null);
  return html`<div class="list-pane chats" ref=${pane}>
    <div class="list-head">
      <div class="search-box">
        <input type="search" name="chat-search" aria-label="搜索聊天记录" placeholder="搜索：群聊、聊天记录、文件"
          value=${query} onInput=${(e) => setQuery(e.target.value)} onKeyDown=${(e) => e.key === "Escape" && setQuery("")} />
      </div>
      <button type="button" class="new-group" aria-label="发起群聊" title="发起群聊" onClick=${() => setCreating(true)}>＋</button>
    </div>
    ${creating && html`<${CreateGroupDialog} client=${client} token=${token} onClose=${() => setCreating(false)}
      onCreated=${(id) => { setCreating(false); onSelect(id); }} />`}
    ${query.trim() && html`<${SearchResults} token=${token} client=${client} query=${query} onOpenRoom=${(id) => { setQuery(""); onSelect(id); }}
      onOpenMessage=${(id, eventId) => { setQuery(""); onJump(id, eventId); }} />`}
    <div hidden=${Boolean(query.trim())}>
      <${ChatRows} client=${client} entries=${entries} total=${total} onMore=${onMore} selected=${selected} onSelect=${onSelect}
        tick=${tick} pane=${pane} />
    </div>
  </div>`;
}

export function App({ session, onSignOut }) {
  const { client, sliding, state, tick } = useMatrix(session, onSignOut);
  const clientConfig = useClientConfig(session.token);
  const groupSettings = useGroupSettings(session.token);
  const [tab, setTab] = useState("chats");
  const favoriteContacts = useFavoriteContacts(session.token, tab === "contacts");
  const [roomId, setRoomIdState] = useState(null);
  const [member, setMember] = useState(null);
  const [favorite, setFavorite] = useState(null);
  const [favoritesVersion, setFavoritesVersion] = useState(0);
  const [section, setSection] = useState("general");
  const [mailUid, setMailUid] = useState(null);
  const [mailRead, setMailRead] = useState([]);
  const [jump, setJump] = useState(null); // a search hit to show in its chat: {eventId, n}
  const jumps = useRef(0);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");

  // Ctrl+F: search the directory (as WeChat's search box), from anywhere in the client.
  useEffect(() => {
    const onKey = (ev) => {
      if (isSearchKey(ev)) {
        ev.preventDefault();
        setTab("contacts");
        requestAnimationFrame(() => document.querySelector("input[name=contact-search]")?.focus());
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);

  // A notification's click opens its chat.
  useDesktopNotifications(client, tab === "chats" ? roomId : null, (id) => {
    setRoomIdState(id);
    setTab("chats");
  });

  const entries = client ? listedChats(client, roomId) : [];
  const counts = serverCounts(client);
  let unreadTotal = totalUnread(entries.map((e) => ({ muted: e.muted, unread: unreadCount(e.room) })));
  let total = entries.length;
  let onMore = null;
  if (client && sliding) {
    // Under sliding sync only the chats in the window are here: the list holds as many
    // as the server counts (the rest drawn as empty rows until the window reaches them),
    // and the rail's total is the server's counts of every chat shown or not yet loaded.
    const shown = new Set(entries.map((e) => e.id));
    const out = (id) => !shown.has(id) && Boolean(client.getRoom(id));
    // Not shown but counted by the server: hidden chats, and the open API's spare rooms
    // loaded (one not loaded yet is a row to come: it leaves the count once the window
    // reaches it).
    const notShown = countedNotShown(shown, Object.keys(hiddenChats(client)), spareRoomIds(client));
    total = slidingTotal(sliding.count(), entries.length, notShown);
    // The window counts the chats it holds not shown: rows shown up to n need n of them more.
    const loaded = client.getRooms().filter((r) => ["join", "invite"].includes(r.getMyMembership())).length;
    onMore = (rows) => sliding.grow(rows + Math.max(0, loaded - entries.length));
    if (counts) {
      unreadTotal = totalUnread([...counts].filter(([id]) => !out(id))
        .map(([id, c]) => ({ muted: isMutedRule(client.pushRules, id), unread: c.unread || 0 })));
    }
  }
  // The open chat is the sliding sync's room subscription (it stays live wherever it is
  // in the list).
  useEffect(() => { if (sliding) sliding.open(roomId); }, [sliding, roomId]);
  // The tab's title carries the unread total, as WeChat's taskbar entry does.
  useEffect(() => {
    document.title = unreadTotal > 0 ? `(${badgeText(unreadTotal)}) 警务微信` : "警务微信";
  }, [unreadTotal]);
  useEffect(() => () => { document.title = "警务微信"; }, []);
  // A document's contact card (/_jwwx/web/#dm=@user:server, docs/documents.md) opens
  // the chat with that officer once the client has synced.
  useEffect(() => {
    if (!client || !["PREPARED", "SYNCING"].includes(state)) return;
    const match = /^#dm=(@[^:]+:.+)$/.exec(decodeURIComponent(window.location.hash));
    if (!match) return;
    history.replaceState(null, "", window.location.pathname + window.location.search);
    messageMember({ user_id: match[1] });
  }, [client, state]);

  if (!client) return html`<p class="loading">正在连接…</p>`;
  // A chat opened (from the list, a search hit, the directory…) is on the list again.
  const setRoomId = (id) => {
    setJump(null);
    setRoomIdState(id);
    if (id) unhideChat(client, id).catch(() => {});
  };
  // A chat left, or a group dissolved, is no longer shown; nor is a spare room.
  const found = roomId ? client.getRoom(roomId) : null;
  const room = found && ["join", "invite"].includes(found.getMyMembership()) && roomKind(found) !== "spare" ? found : null;

  async function messageMember(profile) {
    setBusy(true);
    setError("");
    try {
      const id = await openDirectChat(client, profile.user_id);
      setRoomId(id);
      setTab("chats");
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  }

  async function signOut() {
    try { await client.logout(true); } catch { /* signed out locally all the same */ }
    onSignOut();
  }

  const me = client.getUser(client.getUserId());
  const myName = me?.displayName || session.userId;
  let right = html`<div class="placeholder">警务微信</div>`;
  // The policy's screens: chats and favourites are chat views; the workbench is none.
  let view = { chats: "chat", favorites: "chat", contacts: "contacts" }[tab] || "workbench";
  if (tab === "chats" && room) right = html`<${Conversation} client=${client} room=${room} tick=${tick} token=${session.token} clientConfig=${clientConfig}
    groupSettings=${groupSettings} jumpTo=${jump} />`;
  if (tab === "contacts" && member) {
    view = "profile";
    right = html`<${MemberProfile} token=${session.token} member=${member} onMessage=${messageMember} busy=${busy} error=${error}
      favorites=${favoriteContacts} />`;
  }
  if (tab === "favorites" && favorite) {
    right = html`<${FavoriteDetail} client=${client} token=${session.token} favorite=${favorite} sharing=${clientConfig}
      onRemoved=${() => { setFavorite(null); setFavoritesVersion((v) => v + 1); }} />`;
  }
  // A mail is read under the chat's watermark (the policy has no screen of its own for it).
  if (tab === "mail") {
    view = "chat";
    if (mailUid !== null) right = html`<${MailDetail} token=${session.token} uid=${mailUid} onRead=${(uid) => setMailRead((r) => (r.includes(uid) ? r : [...r, uid]))} />`;
  }
  if (tab === "settings") {
    view = "settings";
    right = html`<${SettingsPane} client=${client} session=${session} section=${section} tick=${tick} />`;
  }
  const mark = watermarkFor(clientConfig, view);
  const wide = tab === "workbench"; // the workbench has no list pane
  if (wide) {
    right = html`<${Workbench} client=${client} token=${session.token}
      onOpenRoom=${(id) => { setRoomId(id); setTab("chats"); }} />`;
  }
  const railButton = (key, label, count = 0) => html`<button type="button" class=${tab === key ? "active" : ""} aria-current=${tab === key}
    onClick=${() => { setTab(key); if (key === "favorites") setFavoritesVersion((v) => v + 1); }}>${label}${
      count > 0 && html`<span class="badge rail-badge" aria-label=${`共${count}条未读`}>${badgeText(count)}</span>`}</button>`;
  const jumpTo = (id, eventId) => {
    setRoomId(id);
    jumps.current += 1;
    setJump({ eventId, n: jumps.current });
  };
  let list = html`<${ChatList} client=${client} token=${session.token} selected=${roomId} onSelect=${setRoomId} onJump=${jumpTo}
    tick=${tick} entries=${entries} total=${total} onMore=${onMore} />`;
  if (tab === "contacts") {
    list = html`<${ContactsList} token=${session.token} onMember=${(m) => { setMember(m); setError(""); }} favorites=${favoriteContacts} />`;
  }
  if (tab === "settings") list = html`<${SettingsNav} section=${section} onSection=${setSection} />`;
  if (tab === "mail") list = html`<${MailList} token=${session.token} selected=${mailUid} onOpen=${setMailUid} read=${mailRead} />`;
  if (tab === "favorites") {
    list = html`<${FavoritesList} token=${session.token} selected=${favorite} onOpen=${setFavorite} version=${favoritesVersion} />`;
  }

  // 设置 → 字体大小 and 聊天背景: the chat's text (bubbles and the composer), its background.
  const prefs = readPrefs(client);
  const look = { "--chat-font": `${fontPixels(prefs.font)}px`, "--chat-bg": backgroundColour(prefs.background) };
  return html`<div class=${`shell${wide ? " wide" : ""}`} style=${look}>
    <nav class="rail" aria-label="主菜单">
      <span class="avatar me" title=${myName}>${myName.replace(/^@/, "").slice(0, 1)}</span>
      ${railButton("chats", "聊天", unreadTotal)}
      ${railButton("contacts", "通讯录")}
      ${railButton("favorites", "收藏")}
      ${railButton("mail", "邮件")}
      ${railButton("workbench", "工作台")}
      <span class="grow"></span>
      ${railButton("settings", "设置")}
      <button type="button" class="sign-out" onClick=${signOut}>退出</button>
    </nav>
    ${!wide && list}
    <main class="right-pane">
      ${state === "ERROR" && html`<p class="sync-error" role="status">与服务器的连接中断，正在重试…</p>`}
      ${right}
    </main>
    <${Watermark} mark=${mark} view=${view} />
  </div>`;
}
