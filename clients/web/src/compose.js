// SPDX-License-Identifier: AGPL-3.0-or-later
// The composer's helpers: 表情 (the emoji panel), the @ member picker of a group (typed
// "@" opens it, filtered by name, account or pinyin — full or initials — as typed; ↑/↓
// and Enter pick, Esc closes) and the bar above the text while replying or editing.
import { html } from "htm/preact";
import { useState } from "preact/hooks";
import PinyinMatch from "pinyin-match";
import { preview } from "./chats.js";
import { EMOJI, EVERYONE, insertMention, localpart, mentionAt } from "./rules.js";

export function EmojiButton({ disabled, onPick }) {
  const [open, setOpen] = useState(false);
  return html`<span class="emoji-tool">
    <button type="button" class="tool link" aria-label="表情" aria-expanded=${open} disabled=${disabled} onClick=${() => setOpen(!open)}>表情</button>
    ${open && html`<div class="emoji-panel" role="dialog" aria-label="选择表情">
      ${EMOJI.map((e) => html`<button type="button" class="emoji" onClick=${() => { onPick(e); setOpen(false); }}>${e}</button>`)}
    </div>`}
  </span>`;
}

function matches(member, query) {
  if (!query) return true;
  const q = query.toLowerCase();
  return member.name.toLowerCase().includes(q) || (localpart(member.userId) || "").toLowerCase().startsWith(q)
    || Boolean(PinyinMatch.match(member.name, q));
}

// State of the @ picker for the composer's text and caret.
// everyone: @所有人 is offered first (the officer may notify the whole group).
export function useMentions(client, room, enabled, everyone = false) {
  const [at, setAt] = useState(null); // {start, query, caret}
  const [index, setIndex] = useState(0);
  const [picked, setPicked] = useState([]);
  const me = client.getUserId();
  const all = everyone && at && (matches(EVERYONE, at.query) || "all".startsWith(at.query.toLowerCase())) ? [EVERYONE] : [];
  const candidates = at && enabled
    ? [...all, ...room.getJoinedMembers().filter((m) => m.userId !== me && matches(m, at.query)).slice(0, 8)]
    : [];

  return {
    candidates,
    index,
    picked,
    reset: () => { setAt(null); setPicked([]); },
    // After each input: is an "@…" being typed?
    update(text, caret) {
      const found = enabled ? mentionAt(text, caret) : null;
      setAt(found && { ...found, caret });
      setIndex(0);
    },
    // → the new {text, caret}, or null when nothing was picked.
    pick(member, text) {
      if (!at) return null;
      const next = insertMention(text, at.start, at.caret, member.name);
      setPicked((list) => [...list.filter((p) => p.userId !== member.userId), { userId: member.userId, name: member.name }]);
      setAt(null);
      return next;
    },
    // The picker's keys; true when it took the key.
    key(ev, text, apply) {
      if (!candidates.length) return false;
      if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
        const step = ev.key === "ArrowDown" ? 1 : -1;
        setIndex((index + step + candidates.length) % candidates.length);
        return true;
      }
      if ((ev.key === "Enter" || ev.key === "Tab") && !ev.isComposing) {
        apply(this.pick(candidates[Math.min(index, candidates.length - 1)], text));
        return true;
      }
      if (ev.key === "Escape") {
        setAt(null);
        return true;
      }
      return false;
    },
  };
}

export function MentionPicker({ mentions, onPick }) {
  if (!mentions.candidates.length) return null;
  return html`<ul class="mention-picker" role="listbox" aria-label="选择提醒的人">
    ${mentions.candidates.map((m, i) => html`<li role="option" aria-selected=${i === mentions.index} key=${m.userId}>
      <button type="button" class="tree-row" data-user-id=${m.userId} onMouseDown=${(e) => { e.preventDefault(); onPick(m); }}>
        <span class="avatar small" aria-hidden="true">${m.name.slice(0, 1)}</span><span class="name">${m.name}</span>
        <span class="position">${m === EVERYONE ? "" : localpart(m.userId) || ""}</span>
      </button></li>`)}
  </ul>`;
}

// 引用 or 编辑 in progress, above the text; × ends it.
export function ComposeBar({ client, room, replyTo, editing, onCancel }) {
  const event = replyTo || editing;
  if (!event) return null;
  const name = event.sender?.name || event.getSender();
  return html`<div class=${`compose-bar ${editing ? "editing" : "replying"}`} role="status">
    <span>${editing ? "编辑消息" : `引用 ${name}：`}${!editing && preview(event, client, room)}</span>
    <button type="button" class="link" aria-label=${editing ? "取消编辑" : "取消引用"} onClick=${onCancel}>×</button>
  </div>`;
}
