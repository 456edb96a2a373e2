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

export function newerWindow(first, total, { size, step } = WINDOW) {
  if (first === null) return null;
  const next = first + step;
  return next + size >= total ? null : next;
}
