// SPDX-License-Identifier: AGPL-3.0-or-later
// The right pane: the open chat's messages (text and images), older ones loaded when
// scrolled to the top, and the composer (Enter sends, Ctrl+Enter starts a new line).
// In a group: the announcement on top, 群聊信息, "N人未读" under one's own messages, the
// composer closed while muted. Burn-after-read: the composer's toggle, a countdown on the
// message once someone other than its sender has read it; the server's redaction then
// takes it away on both sides. Files: upload progress, a card with 下载. Right-click on a
// message: 回复 (quote), 编辑, 撤回, a reaction, 复制, 转发, 收藏, 下载, each allowed or not
// by the recall rules and the sharing policy. @ in a group opens the member picker; the
// unsent text of each chat is kept as its draft.
import { html } from "htm/preact";
import { EventStatus } from "matrix-js-sdk";
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import { favorites } from "./api.js";
import { chatRooms, errorText, isShown, roomKind } from "./chats.js";
import { ComposeBar, EmojiButton, MentionPicker, useMentions } from "./compose.js";
import { draftOf, saveDraft } from "./drafts.js";
import { wantEveryChat } from "./sliding.js";
import { composerKey, mergedContent } from "./format.js";
import { AnnouncementBar, GroupPanel, isGroup, powerLevels, ReadList } from "./group.js";
import { ImageViewer, probeVideo, saveMedia } from "./media.js";
import { keyOf, Message } from "./message.js";
import { LocationDialog, VoiceRecorder } from "./voice.js";
import {
  BURN_FIELDS, canEdit, canMentionAll, canRecall, editContent, forwardContent, jumpWindow, messageContent, newerWindow, olderWindow, recallWindowMs,
  percent, REACTIONS, videoContent,
  mentionsOf, RECALL_REASON, sendRight, sharingFor, stillMentioned, stripReplyFallback, ttlChoices, ttlName, voiceContent, WINDOW,
  windowStart,
} from "./rules.js";

function dropUnsent(client, room) {
  for (const event of room.getLiveTimeline().getEvents()) {
    if (event.status === EventStatus.NOT_SENT) client.cancelPendingEvent(event);
  }
}

// How far back a search hit is looked for in its chat (pages of JUMP_PAGE events).
const JUMP_PAGES = 40;
const JUMP_PAGE = 100;

export function Conversation({ client, room, tick, token, clientConfig, groupSettings, jumpTo }) {
  const [draft, setDraftState] = useState(() => draftOf(room.roomId));
  const [replyTo, setReplyTo] = useState(null);
  const [editing, setEditing] = useState(null);
  const input = useRef(null);
  const [error, setError] = useState("");
  const [uploading, setUploading] = useState(false);
  const [panel, setPanel] = useState(false);
  const [, setMembersLoaded] = useState(null);
  const [menu, setMenu] = useState(null);
  const [forwarding, setForwarding] = useState(null); // {events, merged}
  const [selecting, setSelecting] = useState(null); // ids picked with 多选, or null
  const [viewing, setViewing] = useState(null);
  const [notice, setNotice] = useState("");
  const [progress, setProgress] = useState(null);
  const [readOf, setReadOf] = useState(null);
  const [burn, setBurn] = useState(false);
  const [locating, setLocating] = useState(false);
  const burnConfig = clientConfig?.burn_after_read;
  const choices = burnConfig?.enabled ? ttlChoices(burnConfig.max_ttl_ms) : [];
  const [ttl, setTtl] = useState(choices[0] || 10000);
  const group = isGroup(room);
  const right = sendRight(powerLevels(room), client.getUserId());
  // A public account's or an app's room: only its bot posts (an app's notices: replies
  // go to the app's own conversation).
  const app = roomKind(room) === "app";
  if (!right.canSend && !group) right.reason = app ? "应用通知，仅接收消息；回复请在与应用的会话中发送" : "此会话仅接收消息，不能发言";
  const mentions = useMentions(client, room, group, group && canMentionAll(powerLevels(room), client.getUserId()));
  // What is typed is the chat's draft (not while editing a sent message).
  const setDraft = (text) => {
    setDraftState(text);
    if (!editing) saveDraft(room.roomId, text);
  };
  const list = useRef(null);
  const stick = useRef(true); // keep the newest message in view unless scrolled up
  const events = room.getLiveTimeline().getEvents().filter((e) => isShown(e, client, room));
  const last = events[events.length - 1];
  // A bounded DOM however long the chat: WINDOW.size messages from the window's first
  // (null: the newest), slid as the officer scrolls (src/rules.js).
  const [firstKey, setFirstKey] = useState(null);
  const paging = useRef(false);
  let firstIndex = firstKey === null ? null : events.findIndex((e) => keyOf(e) === firstKey);
  if (firstIndex === -1) firstIndex = null;
  const start = windowStart(firstIndex, events.length);
  const shown = events.slice(start, start + WINDOW.size);

  useEffect(() => {
    setDraftState(draftOf(room.roomId));
    setReplyTo(null);
    setEditing(null);
    setSelecting(null);
    mentions.reset();
    setError("");
    setReadOf(null);
    setBurn(false);
    setMenu(null);
    setNotice("");
    setFirstKey(null);
    stick.current = true;
    // The read lists count the group's members: all of them, not only the lazy-loaded.
    if (isGroup(room)) room.loadMembersIfNeeded().then(() => setMembersLoaded(room.roomId), () => {});
  }, [room.roomId]);

  // A search hit (jumpTo: {eventId, n}): older pages are loaded until the message is in
  // the timeline, the window is put around it, it is scrolled to the middle and marked.
  const [jumpTarget, setJumpTarget] = useState(null);
  useEffect(() => {
    if (!jumpTo) return undefined;
    let live = true;
    const shownNow = () => room.getLiveTimeline().getEvents().filter((e) => isShown(e, client, room));
    const has = () => room.getLiveTimeline().getEvents().some((e) => e.getId() === jumpTo.eventId);
    (async () => {
      paging.current = true;
      setNotice("正在定位消息…");
      try {
        for (let i = 0; i < JUMP_PAGES && live && !has() && room.getLiveTimeline().getPaginationToken("b"); i++) {
          const before = room.getLiveTimeline().getEvents().length;
          await client.scrollback(room, JUMP_PAGE);
          // Another page was being fetched (the SDK then fetches nothing): wait for it.
          if (room.getLiveTimeline().getEvents().length === before) await new Promise((r) => setTimeout(r, 200));
        }
      } catch { /* shown as not found below */ } finally {
        paging.current = false;
      }
      if (!live) return;
      setNotice("");
      const all = shownNow();
      const index = all.findIndex((e) => e.getId() === jumpTo.eventId);
      if (index === -1) return setError("未找到这条消息（可能已撤回、已销毁或时间太早）");
      const first = jumpWindow(index, all.length);
      stick.current = false;
      setFirstKey(first === null ? null : keyOf(all[first]));
      setJumpTarget(jumpTo.eventId);
    })();
    return () => { live = false; };
  }, [room.roomId, jumpTo && jumpTo.n]);

  useLayoutEffect(() => {
    if (!jumpTarget || !list.current) return;
    const item = list.current.querySelector(`.timeline > li[data-key="${CSS.escape(jumpTarget)}"]`);
    if (!item) return;
    item.scrollIntoView({ block: "center" });
    item.classList.add("jumped");
    list.current.dataset.jumped = jumpTarget; // the last hit shown (tests read it)
    setJumpTarget(null);
    setTimeout(() => item.classList.remove("jumped"), 3000);
  });

  // Burn-after-read adds its time-to-live to what is sent.
  const marked = (content) => (burn ? { ...content, [BURN_FIELDS[0]]: ttl } : content);

  // An opened chat that came with few messages (the first /sync's 10) fills its screen.
  useEffect(() => {
    if (events.length < 30 && room.getLiveTimeline().getPaginationToken("b") && !paging.current) {
      paging.current = true;
      client.scrollback(room, 30 - events.length).catch(() => {}).finally(() => { paging.current = false; });
    }
  }, [room.roomId]);

  // Reading the chat: a receipt for its newest event clears the unread badge.
  useEffect(() => {
    const newest = room.getLiveTimeline().getEvents().at(-1);
    if (newest && newest.getId() && !newest.status && room.getMyMembership() === "join"
        && room.getEventReadUpTo(client.getUserId()) !== newest.getId()) {
      client.sendReadReceipt(newest).catch(() => {});
    }
  }, [room.roomId, last && last.getId()]);

  useLayoutEffect(() => {
    if (stick.current && !anchor.current && list.current) list.current.scrollTop = list.current.scrollHeight;
  });

  // Keeps the message at the edge that stays rendered where it was on the screen while
  // the window slides or older messages arrive (the browser's own scroll anchoring does
  // nothing at scrollTop 0, where paging happens).
  const anchor = useRef(null);
  const slideAfterPage = useRef(false);

  function hold(edge) {
    const el = list.current;
    const item = el && (edge === "first" ? el.querySelector(".timeline > li") : el.querySelector(".timeline > li:last-child"));
    if (item) anchor.current = { key: item.dataset.key, top: item.offsetTop - el.scrollTop };
  }

  function slideOlder() {
    const older = olderWindow(firstIndex, events.length);
    if (older === null) return false;
    hold("first");
    setFirstKey(keyOf(events[older]));
    return true;
  }

  useLayoutEffect(() => {
    const el = list.current;
    const held = anchor.current;
    if (!el || !held) return;
    anchor.current = null;
    const item = el.querySelector(`.timeline > li[data-key="${CSS.escape(held.key)}"]`);
    if (item) el.scrollTop = item.offsetTop - held.top;
  });

  // A page from the server arrived while the oldest were in view: show them.
  useEffect(() => {
    if (slideAfterPage.current) {
      slideAfterPage.current = false;
      if (list.current && list.current.scrollTop < 300) slideOlder();
    }
  }, [events.length]);

  function onScroll(ev) {
    const el = ev.currentTarget;
    const below = el.scrollHeight - el.scrollTop - el.clientHeight;
    stick.current = below < 40 && firstIndex === null;
    if (el.scrollTop < 300) {
      if (!slideOlder() && el.scrollTop < 50 && !paging.current && room.getLiveTimeline().getPaginationToken("b")) {
        // The oldest loaded is in view: the server's next page.
        paging.current = true;
        hold("first");
        slideAfterPage.current = firstIndex !== null;
        client.scrollback(room, 50).catch(() => {}).finally(() => { paging.current = false; });
      }
    } else if (below < 300 && firstIndex !== null) {
      const newer = newerWindow(firstIndex, events.length);
      hold("last");
      setFirstKey(newer === null ? null : keyOf(events[newer]));
    }
  }

  async function send() {
    const text = draft.trim();
    if (!text) return;
    setError("");
    const mentioned = stillMentioned(text, mentions.picked);
    const edited = editing;
    const quoted = replyTo;
    setDraftState("");
    setEditing(null);
    setReplyTo(null);
    mentions.reset();
    if (edited) {
      try {
        await client.sendMessage(room.roomId, editContent(edited.getId(), text, mentionsOf(mentioned)));
        setDraftState(draftOf(room.roomId));
      } catch (e) {
        dropUnsent(client, room);
        setError(errorText(e));
        setDraftState(text);
        setEditing(edited);
      }
      return;
    }
    saveDraft(room.roomId, "");
    stick.current = true;
    setFirstKey(null);
    try {
      await client.sendMessage(room.roomId, marked(messageContent(text, { replyTo: quoted?.getId(), mentioned })));
    } catch (e) {
      // Refused (a filtered keyword, a muted group): the text goes back to the draft
      // and its local echo away, so nothing shows as if it had been sent.
      dropUnsent(client, room);
      setError(errorText(e));
      setDraft(text);
      setReplyTo(quoted);
    }
  }

  // A reaction: added, or one's own taken back (its redaction).
  async function react(event, key) {
    setError("");
    const relations = room.relations.getChildEventsForEvent(event.getId(), "m.annotation", "m.reaction");
    const own = [...(relations?.getAnnotationsBySender()?.[client.getUserId()] || [])]
      .find((e) => e.getRelation()?.key === key && !e.isRedacted());
    try {
      if (own) await client.redactEvent(room.roomId, own.getId());
      else await client.sendEvent(room.roomId, "m.reaction", { "m.relates_to": { rel_type: "m.annotation", event_id: event.getId(), key } });
    } catch (e) {
      dropUnsent(client, room);
      setError(errorText(e));
    }
  }

  const focusInput = () => requestAnimationFrame(() => input.current?.focus());

  // 图片: uploaded to the media repository, then sent as m.image with its size.
  async function sendImage(ev) {
    const file = ev.currentTarget.files[0];
    ev.currentTarget.value = "";
    if (!file) return;
    setError("");
    setUploading(true);
    stick.current = true;
    setFirstKey(null);
    try {
      const info = { mimetype: file.type, size: file.size };
      try {
        const bitmap = await createImageBitmap(file);
        Object.assign(info, { w: bitmap.width, h: bitmap.height });
        bitmap.close();
      } catch { /* not decodable here: sent without its size */ }
      const { content_uri: url } = await client.uploadContent(file, { name: file.name, type: file.type });
      await client.sendMessage(room.roomId, marked({ msgtype: "m.image", body: file.name, url, info }));
    } catch (e) {
      dropUnsent(client, room);
      setError(errorText(e));
    } finally {
      setUploading(false);
    }
  }

  // 文件 and 视频: the picked file (the input reset for the next pick) sent by `send`, its
  // upload's progress shown; a refusal is shown and the unsent echo dropped.
  async function sendPicked(ev, send) {
    const file = ev.currentTarget.files[0];
    ev.currentTarget.value = "";
    if (!file) return;
    setError("");
    setProgress(0);
    stick.current = true;
    setFirstKey(null);
    const progressHandler = ({ loaded, total }) => setProgress(percent(loaded, total || file.size));
    try {
      await send(file, progressHandler);
    } catch (e) {
      dropUnsent(client, room);
      setError(errorText(e));
    } finally {
      setProgress(null);
    }
  }

  // 文件: uploaded, then sent as m.file with its size and type.
  const sendFile = (ev) => sendPicked(ev, async (file, progressHandler) => {
    const type = file.type || "application/octet-stream";
    const { content_uri: url } = await client.uploadContent(file, { name: file.name, type, progressHandler });
    await client.sendMessage(room.roomId, marked({
      msgtype: "m.file", body: file.name, url, info: { mimetype: type, size: file.size },
    }));
  });

  // 视频: its length, size and poster frame read here; the poster uploaded, then the video;
  // sent as m.video.
  const sendVideo = (ev) => sendPicked(ev, async (file, progressHandler) => {
    const meta = await probeVideo(file);
    let thumbnail = null;
    if (meta.poster) {
      const { blob, w, h } = meta.poster;
      const { content_uri: posterUrl } = await client.uploadContent(blob, { name: "poster.jpg", type: "image/jpeg" });
      thumbnail = { url: posterUrl, mimetype: "image/jpeg", size: blob.size, w, h };
    }
    const type = file.type || "video/mp4";
    const { content_uri: url } = await client.uploadContent(file, { name: file.name, type, progressHandler });
    await client.sendMessage(room.roomId, marked(videoContent(url, file.name, {
      mimetype: type, size: file.size, duration: meta.duration, w: meta.w, h: meta.h, thumbnail,
    })));
  });

  // 语音: the recording uploaded, then sent as a voice message with its length.
  async function sendVoice(blob, duration) {
    setError("");
    setUploading(true);
    stick.current = true;
    setFirstKey(null);
    try {
      const ext = blob.type.includes("ogg") ? "ogg" : "webm";
      const { content_uri: url } = await client.uploadContent(blob, { name: `语音.${ext}`, type: blob.type });
      await client.sendMessage(room.roomId, marked(voiceContent(url, { mimetype: blob.type, size: blob.size, duration })));
    } catch (e) {
      dropUnsent(client, room);
      setError(errorText(e));
    } finally {
      setUploading(false);
    }
  }

  async function sendLocation(content) {
    setLocating(false);
    setError("");
    stick.current = true;
    setFirstKey(null);
    try {
      await client.sendMessage(room.roomId, marked(content));
    } catch (e) {
      dropUnsent(client, room);
      setError(errorText(e));
    }
  }

  function save(content) {
    saveMedia(client, content.url, content.body).catch((e) => setError(e.message));
  }

  async function menuAction(action, event) {
    setMenu(null);
    setError("");
    const content = event.getContent();
    try {
      if (action === "copy") {
        await navigator.clipboard.writeText(content.body || "");
        setNotice("已复制");
      } else if (action === "forward") {
        setForwarding({ events: [event], merged: false });
      } else if (action === "select") {
        setSelecting([event.getId()]);
      } else if (action === "favorite") {
        await favorites.add(token, room.roomId, event.getId());
        setNotice("已收藏");
      } else if (action === "save") {
        save(content);
      } else if (action === "reply") {
        setEditing(null);
        setReplyTo(event);
        focusInput();
      } else if (action === "edit") {
        setReplyTo(null);
        setEditing(event);
        setDraftState(stripReplyFallback(content.body));
        focusInput();
      } else if (action === "recall") {
        await client.redactEvent(room.roomId, event.getId(), undefined, { reason: RECALL_REASON });
      } else if (action.startsWith("react:")) {
        await react(event, action.slice(6));
      }
    } catch (e) {
      setError(errorText(e));
    }
  }

  // 转发 one, 逐条转发 several in their order, or 合并转发 them as one record.
  async function forwardTo(target) {
    const { events: picked, merged } = forwarding;
    setForwarding(null);
    setSelecting(null);
    try {
      if (merged) {
        const items = picked.map((e) => ({ sender: e.getSender(), name: e.sender?.name || e.getSender(), ts: e.getTs(), content: e.getContent() }));
        await client.sendMessage(target.roomId, mergedContent(`${room.name}的聊天记录`, items));
      } else {
        for (const e of picked) await client.sendMessage(target.roomId, forwardContent(e.getContent()));
      }
      setNotice(`已转发给 ${target.name}`);
    } catch (e) {
      dropUnsent(client, target);
      setError(errorText(e));
    }
  }

  // 多选: the picked messages in the timeline's order; forwarded only if each may be.
  const picked = selecting === null ? [] : events.filter((e) => selecting.includes(e.getId()));
  const canForwardPicked = picked.length > 0 && picked.every((e) => sharingFor(clientConfig, e.getContent()).forward);
  function toggleSelected(event) {
    const id = event.getId();
    setSelecting((ids) => (ids.includes(id) ? ids.filter((x) => x !== id) : [...ids, id]));
  }

  // The caret after a picked "@名字 ", put there in the same commit as the new text (a
  // later frame would move it behind what was typed meanwhile).
  const caretAfter = useRef(null);
  useLayoutEffect(() => {
    if (caretAfter.current !== null && input.current) {
      input.current.setSelectionRange(caretAfter.current, caretAfter.current);
      caretAfter.current = null;
    }
  });

  function applyMention(next) {
    if (!next) return;
    caretAfter.current = next.caret;
    setDraft(next.text);
  }

  function onInput(ev) {
    setDraft(ev.target.value);
    mentions.update(ev.target.value, ev.target.selectionStart);
  }

  function cancelCompose() {
    if (editing) setDraftState(draftOf(room.roomId));
    setEditing(null);
    setReplyTo(null);
  }

  function onKeyDown(ev) {
    if (mentions.key(ev, draft, applyMention)) {
      ev.preventDefault();
      return;
    }
    if (ev.key === "Escape" && (replyTo || editing)) cancelCompose();
    const action = composerKey(ev);
    if (action) ev.preventDefault();
    if (action === "send") send();
    if (action === "newline") setDraft(`${draft}\n`);
  }

  const closed = !right.canSend;
  return html`<div class=${`conversation-wrap${panel && group ? " with-panel" : ""}`}>
  <section class="conversation" aria-label=${room.name}>
    <header class="conversation-header"><h2>${app && html`<span class="app-tag">应用</span>`}${room.name}${group ? `（${room.getJoinedMemberCount()}）` : ""}</h2>
      ${group && html`<button type="button" class="link more" aria-label="群聊信息" aria-expanded=${panel} onClick=${() => setPanel(!panel)}>···</button>`}
    </header>
    ${group && html`<${AnnouncementBar} room=${room} />`}
    <ol class="timeline" ref=${list} onScroll=${onScroll} aria-live="polite">
      ${shown.map((event) => html`<${Message} key=${keyOf(event)} client=${client} room=${room} event=${event}
        group=${group} onReadList=${setReadOf} tick=${tick} sharing=${clientConfig} onMenu=${setMenu}
        onView=${setViewing} onSave=${save} onReact=${react} selecting=${selecting !== null}
        selected=${selecting !== null && selecting.includes(event.getId())} onToggle=${toggleSelected} />`)}
    </ol>
    ${menu && html`<${MessageMenu} menu=${menu} sharing=${clientConfig} onAction=${menuAction} onClose=${() => setMenu(null)}
      may=${mayFor(client, room, menu.event, closed, recallWindowMs(groupSettings))} />`}
    ${forwarding && html`<${ForwardDialog} client=${client} onPick=${forwardTo} onClose=${() => setForwarding(null)} />`}
    ${selecting !== null && html`<${SelectBar} count=${picked.length} allowed=${canForwardPicked}
      onEach=${() => setForwarding({ events: picked, merged: false })} onMerged=${() => setForwarding({ events: picked, merged: true })}
      onCancel=${() => setSelecting(null)} />`}
    ${viewing && html`<${ImageViewer} client=${client} mxc=${viewing.url} name=${viewing.body}
      canSave=${sharingFor(clientConfig, viewing).save} onClose=${() => setViewing(null)} />`}
    ${locating && html`<${LocationDialog} onSend=${sendLocation} onClose=${() => setLocating(false)} />`}
    ${readOf && html`<${ReadList} token=${token} room=${room} eventId=${readOf} onClose=${() => setReadOf(null)} />`}
    <footer class=${`composer${closed ? " closed" : ""}`} hidden=${selecting !== null}>
      <div class="toolbar">
        <${EmojiButton} disabled=${closed} onPick=${(e) => { setDraft(draft + e); focusInput(); }} />
        <label class="tool">图片<input type="file" name="image" accept="image/*" onChange=${sendImage} disabled=${uploading || closed} /></label>
        ${choices.length > 0 && html`<label class="tool burn-toggle"><input type="checkbox" name="burn" checked=${burn} disabled=${closed}
          onChange=${(e) => setBurn(e.currentTarget.checked)} />阅后即焚</label>`}
        ${burn && html`<select name="burn-ttl" aria-label="阅读后销毁时间" value=${ttl} onChange=${(e) => setTtl(Number(e.currentTarget.value))}>
          ${choices.map((ms) => html`<option value=${ms}>${ttlName(ms)}</option>`)}
        </select>`}
        <label class="tool">文件<input type="file" name="file" onChange=${sendFile} disabled=${progress !== null || closed} /></label>
        <label class="tool">视频<input type="file" name="video" accept="video/*" onChange=${sendVideo} disabled=${progress !== null || closed} /></label>
        <${VoiceRecorder} disabled=${closed || uploading} onRecorded=${sendVoice} onError=${setError} />
        <button type="button" class="tool link location" disabled=${closed} onClick=${() => setLocating(true)}>位置</button>
        ${uploading && html`<span class="uploading" role="status">图片上传中…</span>`}
        ${progress !== null && html`<span class="uploading" role="status">文件上传中 <progress max="100" value=${progress}></progress> ${progress}%</span>`}
        ${notice && html`<span class="notice" role="status">${notice}</span>`}
      </div>
      ${burn && group && burnConfig?.group_notice && html`<p class="burn-notice">${burnConfig.group_notice}</p>`}
      ${error && html`<p class="error" role="alert">${error}</p>`}
      <${ComposeBar} client=${client} room=${room} replyTo=${replyTo} editing=${editing} onCancel=${cancelCompose} />
      <${MentionPicker} mentions=${mentions} onPick=${(m) => { applyMention(mentions.pick(m, draft)); focusInput(); }} />
      <textarea name="message" aria-label="输入消息" disabled=${closed} ref=${input}
        placeholder=${closed ? right.reason : group ? "输入消息，@ 提醒群成员，Enter 发送，Ctrl+Enter 换行" : "输入消息，Enter 发送，Ctrl+Enter 换行"}
        value=${draft} onInput=${onInput} onKeyDown=${onKeyDown}></textarea>
      <button type="button" class="primary send" onClick=${send} disabled=${closed || !draft.trim()}>发送(S)</button>
    </footer>
  </section>
  ${panel && group && html`<${GroupPanel} client=${client} room=${room} token=${token} tick=${tick} onClose=${() => setPanel(false)} />`}
  </div>`;
}

const ACTIONS = [
  ["reply", "回复", "当前不能发言"],
  ["copy", "复制", "管理员已禁止复制消息"],
  ["forward", "转发", "管理员已禁止转发"],
  ["select", "多选", "管理员已禁止转发"],
  ["favorite", "收藏", "阅后即焚消息不能收藏"],
  ["save", "下载", "管理员已禁止保存到本机"],
  ["edit", "编辑", ""],
  ["recall", "撤回", ""],
];

// What the officer may do with a message besides sharing it: 回复 and reactions while
// the composer is open, 编辑 and 撤回 by the recall rules and the server's window (src/rules.js).
function mayFor(client, room, event, closed, windowMs) {
  const me = client.getUserId();
  const now = Date.now();
  return {
    reply: !closed,
    react: !closed,
    edit: !closed && canEdit(event.getContent(), me, event.getSender(), event.getTs(), now, windowMs),
    recall: canRecall(powerLevels(room), me, event.getSender(), event.getTs(), now, windowMs),
  };
}

// Right-click on a message: the reactions on top, then the actions; what the policy
// forbids is shown greyed with the reason, 编辑 and 撤回 only where allowed.
function MessageMenu({ menu, sharing, may, onAction, onClose }) {
  const content = menu.event.getContent();
  const allowed = { ...sharingFor(sharing, content), reply: may.reply };
  allowed.select = allowed.forward;
  const file = ["m.image", "m.file", "m.video", "m.audio"].includes(content.msgtype);
  useEffect(() => {
    const close = () => onClose();
    window.addEventListener("click", close);
    window.addEventListener("keydown", close);
    return () => {
      window.removeEventListener("click", close);
      window.removeEventListener("keydown", close);
    };
  }, [menu]);
  const shown = ACTIONS.filter(([key]) => {
    if (key === "save") return file;
    if (key === "copy") return !file;
    if (key === "edit" || key === "recall") return may[key];
    return true;
  });
  return html`<ul class="context-menu" role="menu" style=${{ left: `${menu.x}px`, top: `${Math.min(menu.y, window.innerHeight - 320)}px` }}>
    ${may.react && html`<li role="none" class="reaction-row">${REACTIONS.map((key) => html`<button type="button" role="menuitem"
      class="emoji" data-action=${`react:${key}`} aria-label=${`回应 ${key}`}
      onClick=${(e) => { e.stopPropagation(); onAction(`react:${key}`, menu.event); }}>${key}</button>`)}</li>`}
    ${shown.map(([key, label, why]) => html`<li role="none">
      <button type="button" role="menuitem" data-action=${key} disabled=${allowed[key] === false} title=${allowed[key] === false ? why : ""}
        onClick=${(e) => { e.stopPropagation(); onAction(key, menu.event); }}>${label}</button></li>`)}
  </ul>`;
}

// 多选's bar in place of the composer: 逐条转发, 合并转发, 取消.
function SelectBar({ count, allowed, onEach, onMerged, onCancel }) {
  const why = count === 0 ? "请选择消息" : allowed ? "" : "所选消息中有不能转发的";
  return html`<div class="select-bar" role="toolbar" aria-label="多选">
    <span>已选择 ${count} 条</span>
    <button type="button" class="primary" data-action="forward-each" disabled=${!allowed} title=${why} onClick=${onEach}>逐条转发</button>
    <button type="button" class="primary" data-action="forward-merged" disabled=${!allowed} title=${why} onClick=${onMerged}>合并转发</button>
    <button type="button" class="link" onClick=${onCancel}>取消</button>
  </div>`;
}

// 转发: pick the chat to send it to.
function ForwardDialog({ client, onPick, onClose }) {
  useEffect(() => wantEveryChat(), []); // under sliding sync: every chat, not the window
  return html`<div class="dialog-backdrop" onClick=${(e) => e.target === e.currentTarget && onClose()}>
    <div class="dialog" role="dialog" aria-label="转发给">
      <h3>转发给</h3>
      <ul class="forward-list">
        ${chatRooms(client).filter((r) => r.getMyMembership() === "join").map((r) => html`<li key=${r.roomId}>
          <button type="button" class="tree-row" data-room-id=${r.roomId} onClick=${() => onPick(r)}>
            <span class="avatar small" aria-hidden="true">${(r.name || "?").slice(0, 1)}</span><span class="name">${r.name}</span>
          </button></li>`)}
      </ul>
      <button type="button" class="link" onClick=${onClose}>取消</button>
    </div>
  </div>`;
}
