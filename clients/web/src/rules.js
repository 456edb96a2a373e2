// SPDX-License-Identifier: AGPL-3.0-or-later
// Pure rules of groups and burn-after-read (no SDK, no DOM): who may send in a group by
// its power levels, members' roles, the read list's label, burn-after-read's time-to-live
// and countdown. Tested with node's test runner (clients/web/test/).

// docs/groups.md: the owner is at owner_level (100), admins at admin_level (50) or more.
export const OWNER_LEVEL = 100;
export const ADMIN_LEVEL = 50;

export function levelOf(powerLevels, userId) {
  const pl = powerLevels || {};
  const users = pl.users || {};
  if (Object.prototype.hasOwnProperty.call(users, userId)) return Number(users[userId]) || 0;
  return Number(pl.users_default) || 0;
}

export function roleOf(powerLevels, userId) {
  const level = levelOf(powerLevels, userId);
  if (level >= OWNER_LEVEL) return "owner";
  if (level >= ADMIN_LEVEL) return "admin";
  return "member";
}

export const ROLE_NAMES = { owner: "群主", admin: "管理员", member: "" };

// May this member send a message? Mute is plain power levels (docs/groups.md): a muted
// member is below users_default, "mute all" raises the level messages need.
// → {canSend, reason} with the reason the composer shows.
export function sendRight(powerLevels, userId) {
  if (!powerLevels) return { canSend: true, reason: "" };
  const level = levelOf(powerLevels, userId);
  const events = powerLevels.events || {};
  const needed = Object.prototype.hasOwnProperty.call(events, "m.room.message")
    ? Number(events["m.room.message"]) || 0
    : Number(powerLevels.events_default) || 0;
  if (level >= needed) return { canSend: true, reason: "" };
  if (level < (Number(powerLevels.users_default) || 0)) return { canSend: false, reason: "你已被禁言，暂时无法发言" };
  return { canSend: false, reason: "全员禁言中，仅群主和管理员可发言" };
}

export function isMuted(powerLevels, userId) {
  return levelOf(powerLevels, userId) < (Number(powerLevels?.users_default) || 0);
}

export function isMuteAll(powerLevels) {
  return (Number(powerLevels?.events_default) || 0) >= ADMIN_LEVEL;
}

// The label under one's own group message: "3人未读", or "全部已读".
export function unreadLabel(unread) {
  return unread > 0 ? `${unread}人未读` : "全部已读";
}

// Burn-after-read: the time-to-live after reading, in ms, or null (docs/burn.md).
export const BURN_FIELDS = ["org.matrix.self_destruct", "cn.jwwx.burn_after_read"];

export function burnTtl(content) {
  for (const field of BURN_FIELDS) {
    const value = content && content[field];
    if (Number.isInteger(value) && value >= 0) return value;
  }
  return null;
}

// The sender's choices, within the server's max_ttl_ms.
const TTL_CHOICES = [10000, 30000, 60000, 300000];

export function ttlChoices(maxTtlMs) {
  const max = Number(maxTtlMs) || Infinity;
  return TTL_CHOICES.filter((ms) => ms <= max);
}

export function ttlName(ms) {
  return ms % 60000 === 0 ? `${ms / 60000}分钟` : `${Math.round(ms / 1000)}秒`;
}

// Seconds left once reading started at startTs (whole seconds, never below 0).
export function burnSecondsLeft(startTs, ttl, now) {
  return Math.max(0, Math.ceil((startTs + ttl - now) / 1000));
}

export function countdownText(seconds) {
  if (seconds <= 0) return "即将销毁";
  const m = Math.floor(seconds / 60);
  const s = seconds % 60;
  return m > 0 ? `${m}分${s}秒后销毁` : `${s}秒后销毁`;
}

// The directory's userid of a local Matrix id (@lina:server → lina).
export function localpart(userId) {
  const match = /^@([^:]+):/.exec(userId || "");
  return match ? match[1] : null;
}

const FILE_TYPES = new Set(["m.image", "m.file", "m.video", "m.audio"]);

// What the sharing policy (client_config's `sharing`, docs/watermark.md) and the message
// allow: 复制 follows allow_forward_messages (the policy has no switch of its own for
// copying, and a copied text is shared as a forwarded one is); 转发 of files
// allow_forward_files (the server refuses such forwards as well); 下载
// allow_save_to_device. Burn-after-read messages are never copied, forwarded, saved or
// favourited (their content must vanish).
export function sharingFor(config, content) {
  const policy = (config && config.sharing) || {};
  const burn = burnTtl(content) !== null;
  const file = FILE_TYPES.has(content && content.msgtype);
  const allowed = (key) => policy[key] !== false;
  return {
    copy: !burn && !file && allowed("allow_forward_messages"),
    forward: !burn && allowed(file ? "allow_forward_files" : "allow_forward_messages"),
    save: !burn && file && allowed("allow_save_to_device"),
    favorite: !burn,
  };
}

// A forwarded message: the same content as a new message (no reply, edit or burn field).
export function forwardContent(content) {
  const copy = { ...content };
  for (const key of ["m.relates_to", "m.new_content", "m.mentions", ...BURN_FIELDS]) delete copy[key];
  return copy;
}

export function fileSize(bytes) {
  if (!Number.isFinite(bytes) || bytes < 0) return "";
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

export function percent(loaded, total) {
  return total > 0 ? Math.min(100, Math.floor((loaded / total) * 100)) : 0;
}

// The timeline's window (a long chat keeps a bounded DOM): the index of the first event
// rendered, `size` events from there. null follows the newest. Scrolling near the top
// moves it `step` older (null: nothing older is loaded, ask the server); near the bottom
// `step` newer, back to following once the newest are in it.
export const WINDOW = { size: 120, step: 40 };

export function windowStart(first, total, size = WINDOW.size) {
  return first === null ? Math.max(0, total - size) : Math.min(first, Math.max(0, total - 1));
}

export function olderWindow(first, total, { size, step } = WINDOW) {
  const start = windowStart(first, total, size);
  return start === 0 ? null : Math.max(0, start - step);
}

// A search hit opened in its chat: the window's first message so that the hit at `index`
// is drawn with `before` messages above it (null: it is among the newest, follow them).
export function jumpWindow(index, total, { size } = WINDOW, before = 20) {
  if (index >= Math.max(0, total - size)) return null;
  return Math.max(0, index - before);
}

export function newerWindow(first, total, { size, step } = WINDOW) {
  if (first === null) return null;
  const next = first + step;
  return next + size >= total ? null : next;
}

// 撤回 (recall) and 编辑 (edit): one's own messages within the server's recall window
// (`recall_window_seconds` of GET /_jwwx/client/v1/groups/settings, which the admins set;
// 0: no limit; RECALL_WINDOW_MS, the server's default of 24 hours, until it is known); the
// group's owner and admins recall a member's message at any time when the room's `redact`
// level lets them and they rank above its sender. A recall is a redaction; the server's
// burn-after-read redaction (reason BURN_REASON) is not a recall and shows nothing.
export const RECALL_WINDOW_MS = 24 * 3600 * 1000;
export const BURN_REASON = "阅后即焚";
export const RECALL_REASON = "撤回";

// The window in ms from the server's settings answer (null, or a bad answer: the default).
export function recallWindowMs(settings) {
  const seconds = settings && settings.recall_window_seconds;
  if (!Number.isInteger(seconds) || seconds < 0) return RECALL_WINDOW_MS;
  return seconds === 0 ? Infinity : seconds * 1000;
}

export function canRecall(powerLevels, me, sender, ts, now, windowMs = RECALL_WINDOW_MS) {
  if (sender === me) return now - ts <= windowMs;
  if (!powerLevels) return false;
  const needed = powerLevels.redact === undefined ? 50 : Number(powerLevels.redact) || 0;
  const mine = levelOf(powerLevels, me);
  return mine >= needed && mine >= ADMIN_LEVEL && mine > levelOf(powerLevels, sender);
}

const EDITABLE = new Set(["m.text", "m.emote", "m.notice"]);

export function canEdit(content, me, sender, ts, now, windowMs = RECALL_WINDOW_MS) {
  return sender === me && EDITABLE.has(content && content.msgtype) && burnTtl(content) === null
    && !content["cn.jwwx.notice"] && now - ts <= windowMs;
}

// The line a recalled message leaves: "你撤回了一条消息", "张伟撤回了一条消息", or for a
// message an admin took back "张伟撤回了王芳的一条消息"; null when it just goes (burnt).
export function recallText(redaction, me, senderName, redacterName) {
  if (!redaction || (redaction.content && redaction.content.reason === BURN_REASON)) return null;
  const by = redaction.sender;
  const own = by === me ? "你" : redacterName || by;
  if (!redaction.originalSender || redaction.originalSender === by) return `${own}撤回了一条消息`;
  return `${own}撤回了${senderName}的一条消息`;
}

// An edit (m.replace): the new text for everyone, "* text" for clients without edits.
export function editContent(eventId, text, mentions) {
  const fresh = { msgtype: "m.text", body: text, ...(mentions ? { "m.mentions": mentions } : {}) };
  return {
    msgtype: "m.text",
    body: `* ${text}`,
    "m.new_content": fresh,
    "m.relates_to": { rel_type: "m.replace", event_id: eventId },
  };
}

// A message as sent from the composer: a reply's relation and the users it mentions
// (m.mentions: only those named with the picker and still "@名字" in the text).
export function messageContent(text, { replyTo = null, mentioned = [] } = {}) {
  const content = { msgtype: "m.text", body: text, "m.mentions": mentionsOf(mentioned) };
  if (replyTo) content["m.relates_to"] = { "m.in_reply_to": { event_id: replyTo } };
  return content;
}

// @所有人: the picker's entry for the whole group (m.mentions.room), offered to whoever the
// room's `notifications.room` level lets notify everyone (owner and admins by default).
export const EVERYONE = { userId: "@room", name: "所有人" };

export function canMentionAll(powerLevels, userId) {
  const needed = Number(powerLevels?.notifications?.room ?? ADMIN_LEVEL);
  return levelOf(powerLevels, userId) >= needed;
}

// m.mentions of the picked ids still in the text (EVERYONE's is `room: true`).
export function mentionsOf(ids) {
  const users = [...new Set(ids.filter((id) => id !== EVERYONE.userId))];
  return { ...(users.length ? { user_ids: users } : {}), ...(ids.includes(EVERYONE.userId) ? { room: true } : {}) };
}

// The picked members still named in the text ("@王芳" not deleted since).
export function stillMentioned(text, picked) {
  return picked.filter((p) => text.includes(`@${p.name}`)).map((p) => p.userId);
}

// The "@…" being typed just before the caret → {start, query}, or null. An @ counts at
// the start or after a space or a line break (not inside an e-mail address).
export function mentionAt(text, caret) {
  const before = text.slice(0, caret);
  const at = before.lastIndexOf("@");
  if (at < 0) return null;
  if (at > 0 && !/\s/.test(before[at - 1])) return null;
  const query = before.slice(at + 1);
  if (/\s/.test(query) || query.length > 20) return null;
  return { start: at, query };
}

// The text with the "@query" replaced by "@name " → {text, caret}.
export function insertMention(text, start, caret, name) {
  const inserted = `@${name} `;
  return { text: text.slice(0, start) + inserted + text.slice(caret), caret: start + inserted.length };
}

// Other clients' replies carry the quoted text as "> …" lines first; shown once only.
export function stripReplyFallback(body) {
  if (typeof body !== "string" || !body.startsWith("> ")) return body || "";
  const lines = body.split("\n");
  let i = 0;
  while (i < lines.length && lines[i].startsWith(">")) i++;
  if (i < lines.length && lines[i] === "") i++;
  return lines.slice(i).join("\n");
}

// Does the message mention me (m.mentions, or @room by someone allowed)? The chat list
// shows [有人@我] for the chat until it is read.
export function mentionsMe(content, me) {
  const m = content && content["m.mentions"];
  return Boolean(m && (m.room === true || (Array.isArray(m.user_ids) && m.user_ids.includes(me))));
}

// 表情: WeChat's most used, as Unicode emoji (fonts of the desktop draw them).
export const EMOJI = ["😀", "😂", "😊", "😍", "😘", "😎", "🤔", "😅", "😭", "😡", "😱", "😴",
  "👍", "👎", "👌", "👏", "🙏", "💪", "🤝", "✌️", "❤️", "💔", "🌹", "🎉",
  "🔥", "✅", "❌", "⚠️", "🚓", "🚨", "📞", "📌"];
export const REACTIONS = ["👍", "❤️", "😂", "😮", "🙏", "✅", "👌", "🌹"];

// Reactions of a message → [{key, count, mine}] in first-seen order.
export function reactionSummary(pairs, me) {
  return pairs.map(([key, senders]) => ({ key, count: senders.length, mine: senders.includes(me) }))
    .filter((r) => r.count > 0);
}

// A new group's name when none is typed: the creator's and the first members' names, as
// WeChat names it ("李娜、张伟、王芳…"), within the groups module's 64 characters.
export function defaultGroupName(myName, names) {
  const all = [myName, ...names].filter(Boolean);
  const text = all.slice(0, 4).join("、") + (all.length > 4 ? "…" : "");
  return text.slice(0, 64) || "群聊";
}

// The chat list (WeChat's): pinned chats (置顶) first, then by latest activity; a chat
// hidden (不显示该聊天) stays off the list until something newer than what it held when
// hidden arrives, or it is opened again. entries: [{id, ts, pinned}], hidden: {id: ts}.
export function orderChats(entries, hidden = {}, selected = null) {
  return entries
    .filter((e) => e.id === selected || !(e.id in hidden) || e.ts > hidden[e.id])
    .sort((a, b) => (b.pinned - a.pinned) || (b.ts - a.ts));
}

// A muted chat (消息免打扰): an override push rule for the room that does not notify (what
// Element's "mute" writes, so both clients agree).
export function isMutedRule(pushRules, roomId) {
  const rules = (pushRules && pushRules.global && pushRules.global.override) || [];
  return rules.some((r) => r.rule_id === roomId && r.enabled !== false
    && (!r.actions || r.actions.length === 0 || r.actions.every((a) => a === "dont_notify")));
}

export function muteRule(roomId) {
  return { actions: [], conditions: [{ kind: "event_match", key: "room_id", pattern: roomId }] };
}

// The rows to render of a windowed list: from the scroll offset and the view's height,
// with `overscan` rows either side → {start, end} (end exclusive).
export function rowWindow(top, height, rowHeight, total, overscan = 8) {
  const first = Math.floor(Math.max(0, top) / rowHeight);
  const count = Math.ceil(Math.max(0, height) / rowHeight) + 1;
  return { start: Math.max(0, first - overscan), end: Math.min(total, first + count + overscan) };
}

// The total on the rail's 聊天: unread of chats not muted.
export function totalUnread(counts) {
  return counts.reduce((sum, c) => sum + (c.muted ? 0 : c.unread), 0);
}

// 语音: a voice message's length in whole seconds (WeChat's 5″), from the content's
// info.duration or the extensible-events audio block (ms); null when it says none.
export function voiceSeconds(content) {
  const ms = content?.info?.duration ?? content?.["org.matrix.msc1767.audio"]?.duration;
  return Number.isFinite(ms) && ms >= 0 ? Math.max(1, Math.round(ms / 1000)) : null;
}

export const VOICE_MAX_MS = 60000;

// What a recorded voice message is sent as (MSC3245 voice, with its duration).
export function voiceContent(url, { mimetype, size, duration }) {
  return {
    msgtype: "m.audio",
    body: "语音消息",
    url,
    info: { mimetype, size, duration },
    "org.matrix.msc1767.audio": { duration },
    "org.matrix.msc3245.voice": {},
  };
}

// 视频: a video's length as WeChat shows it (0:05, 12:30, 1:02:03), from ms; "" unknown.
export function durationText(ms) {
  if (!Number.isFinite(ms) || ms < 0) return "";
  const total = Math.max(1, Math.round(ms / 1000));
  const [h, m, s] = [Math.floor(total / 3600), Math.floor(total / 60) % 60, total % 60];
  const two = (n) => String(n).padStart(2, "0");
  return h > 0 ? `${h}:${two(m)}:${two(s)}` : `${m}:${two(s)}`;
}

// What a video is sent as: m.video with what the browser measured (duration in ms, size
// in pixels) and its poster frame, each only when known.
export function videoContent(url, name, { mimetype, size, duration, w, h, thumbnail }) {
  const info = { mimetype: mimetype || "video/mp4", size };
  if (Number.isFinite(duration) && duration > 0) info.duration = Math.round(duration);
  if (w > 0 && h > 0) Object.assign(info, { w, h });
  if (thumbnail) {
    info.thumbnail_url = thumbnail.url;
    info.thumbnail_info = { mimetype: thumbnail.mimetype, size: thumbnail.size, w: thumbnail.w, h: thumbnail.h };
  }
  return { msgtype: "m.video", body: name || "视频", url, info };
}

// 位置: geo:lat,lon[;u=…] → {lat, lon} or null.
export function parseGeoUri(uri) {
  const match = /^geo:(-?\d+(?:\.\d+)?),(-?\d+(?:\.\d+)?)/.exec(uri || "");
  if (!match) return null;
  const lat = Number(match[1]);
  const lon = Number(match[2]);
  return Math.abs(lat) <= 90 && Math.abs(lon) <= 180 ? { lat, lon } : null;
}

// 北纬39.9042° 东经116.4074°
export function coordsText({ lat, lon }) {
  const ns = lat >= 0 ? "北纬" : "南纬";
  const ew = lon >= 0 ? "东经" : "西经";
  return `${ns}${Math.abs(lat).toFixed(4)}° ${ew}${Math.abs(lon).toFixed(4)}°`;
}

// A location message (m.location with MSC3488's blocks) → content, or null when the
// coordinates are not numbers in range.
export function locationContent(lat, lon, name) {
  const point = parseGeoUri(`geo:${Number(lat)},${Number(lon)}`);
  if (!point || lat === "" || lon === "") return null;
  const uri = `geo:${point.lat},${point.lon}`;
  const label = (name || "").trim();
  return {
    msgtype: "m.location",
    body: label ? `[位置] ${label} ${coordsText(point)}` : `[位置] ${coordsText(point)}`,
    geo_uri: uri,
    ...(label ? { info: { description: label } } : {}),
    "org.matrix.msc3488.location": { uri, ...(label ? { description: label } : {}) },
    "org.matrix.msc3488.asset": { type: "m.self" },
  };
}


// The first /sync: the newest events of each chat (its preview, [有人@我]; an opened
// chat pages back for more) and no presence (the client shows none). A chat's creation
// alone is 8 state events in its timeline, so 10 would carry them all for new chats.
export const FIRST_SYNC = { timelineLimit: 4, filter: { presence: { not_types: ["*"] } } };

// Simplified sliding sync (src/sliding.js): the chat list's window starts with the first
// screen (1366×768: 11 rows of 64 px, and the windowed list's 8 either side) and grows by
// a page as the officer scrolls; the pinned chats are a list of their own (they are shown
// first whatever their activity). Every chat, listed or open, comes with the newest 10
// events (the preview, [有人@我]; an opened chat pages back to 30) — one limit for both,
// so opening a chat never makes the server resend a longer timeline — and the state the
// client reads: the name, power levels, the group's state and announcement, the open
// API's room markers (appRoomKind), the officer's own membership and the senders of
// those events.
export const SLIDING = {
  firstRows: 20,
  pageRows: 20,
  pinnedRows: 50,
  timelineLimit: 10,
  pollMs: 30000,
  extensions: ["account_data", "receipts"],
  requiredState: [
    ["m.room.create", ""],
    ["m.room.name", ""],
    ["m.room.power_levels", ""],
    ["cn.jwwx.group", ""],
    ["cn.jwwx.announcement", ""],
    ["cn.jwwx.openapi.spare", ""],
    ["cn.jwwx.openapi.broadcast", ""],
    ["m.room.member", "$ME"],
    ["m.room.member", "$LAZY"],
  ],
};

// The list's range end (inclusive) once rows up to `rows` (exclusive) are shown: the same
// while they are loaded, else grown to cover them and a page more, in whole pages.
export function grownRange(end, rows, page) {
  if (rows <= end + 1) return end;
  return Math.ceil((rows + page) / page) * page - 1;
}

// The officer's membership of a room as a sliding sync answer says it (null: nothing
// said): an invitation's stripped state, else the newest own member event of its
// timeline, else the membership in the room's state (`stateMembership`).
export function ownMembership(data, me, stateMembership) {
  if (data.invite_state) return "invite";
  const timeline = data.timeline || [];
  for (let i = timeline.length - 1; i >= 0; i--) {
    const e = timeline[i];
    if (e.type === "m.room.member" && e.state_key === me) return e.content?.membership || null;
  }
  return stateMembership || null;
}

// The chats the server counts that the list does not show: each of the lists' ids (the
// hidden chats, the spare rooms loaded) once, unless shown (a hidden chat opened again).
export function countedNotShown(shownIds, ...lists) {
  const shown = new Set(shownIds);
  return new Set(lists.flat().filter((id) => !shown.has(id))).size;
}

// How many chats the list holds under sliding sync: what the server counts, less the
// chats it counts that are not shown (countedNotShown: hidden with 不显示该聊天, the open
// API's spare rooms loaded here), and never fewer than the chats known here.
export function slidingTotal(serverCount, shown, hiddenNotShown) {
  if (serverCount === null || serverCount === undefined) return shown;
  return Math.max(shown, serverCount - hiddenNotShown);
}

// Whether a sliding sync answer may have changed the officer's unread counts (so the
// unread endpoint is asked again): new events in a chat (`num_live`: what arrived since
// the last answer, not what a growing window brings), or a read receipt of the officer's.
export function countsMayChange(resp, me) {
  for (const room of Object.values(resp.rooms || {})) if (room.num_live > 0) return true;
  for (const receipt of Object.values(resp.extensions?.receipts?.rooms || {})) {
    for (const byType of Object.values(receipt.content || {})) {
      for (const users of Object.values(byType || {})) if (users && me in users) return true;
    }
  }
  return false;
}

// The open API's rooms (docs/openapi.md, "Pushes to the whole range"): an app's
// broadcast room carries the state event cn.jwwx.openapi.broadcast {agentid}; the pool's
// spare rooms, joined before any app exists, carry cn.jwwx.openapi.spare {agentid: 0}
// sent by the pool's bot (@jwwx_notices), emptied when an app claims the room (with the
// app's marker, name and avatar in the same batch).
export const APP_MARKER = "cn.jwwx.openapi.broadcast";
export const SPARE_MARKER = "cn.jwwx.openapi.spare";
export const POOL_BOT = "jwwx_notices";
// The spare room's name until it is claimed (a search hit by that name is checked).
export const SPARE_NAME = "应用通知（只读）";

// What an open-API room is to the officer `me`, from its two markers ({sender, content}
// of the state event, or null): "spare" (not shown anywhere: an empty room waiting for
// an app), "app" (an app's notices: shown, read-only, with the 应用 tag) or null (any
// other chat). A spare marker counts only from the pool's bot of the officer's server (a
// group's admin cannot hide a group with it).
export function appRoomKind(spare, broadcast, me) {
  const agentid = broadcast?.content?.agentid;
  if (agentid !== undefined && agentid !== null) return "app";
  const content = spare?.content;
  const server = String(me || "").slice(String(me || "").indexOf(":") + 1);
  if (content && typeof content === "object" && Object.keys(content).length > 0
    && spare.sender === `@${POOL_BOT}:${server}`) return "spare";
  return null;
}
