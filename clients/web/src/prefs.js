// SPDX-License-Identifier: AGPL-3.0-or-later
// 设置's preferences and the rules they drive (src/settings.js): kept in the account data
// `cn.jwwx.settings`, so they follow the officer to every PC he signs in on.
//   notify      desktop notifications of new messages (the browser's Notification)
//   preview     the notification shows the message's text (else only "发来一条消息")
//   dnd         {on, start, end}: 免打扰时段, "HH:MM" local time; a period may pass
//               midnight (22:00–07:00); start equal to end is the whole day
//   important   [{user_id, name}]: 重要联系人, whose messages notify even in the period
//   font        the chat's text size: one of FONT_SIZES' keys
//   background  the chat's background: one of BACKGROUNDS' keys

export const SETTINGS_TYPE = "cn.jwwx.settings";

export const FONT_SIZES = { small: ["小", 13], standard: ["标准", 14], large: ["大", 16], larger: ["特大", 18] };

export const BACKGROUNDS = {
  default: ["默认", "#f5f5f5"], white: ["白色", "#ffffff"], blue: ["浅蓝", "#e8f0f8"],
  green: ["浅绿", "#e9f5ec"], beige: ["米色", "#f6f0e4"], grey: ["深灰", "#dcdcdc"],
};

export const DEFAULT_PREFS = {
  notify: true,
  preview: true,
  dnd: { on: false, start: "22:00", end: "07:00" },
  important: [],
  font: "standard",
  background: "default",
};

const TIME = /^([01]\d|2[0-3]):([0-5]\d)$/;

// The stored content made whole: anything missing or malformed takes its default.
export function normalizePrefs(content) {
  const c = content && typeof content === "object" ? content : {};
  const dnd = c.dnd && typeof c.dnd === "object" ? c.dnd : {};
  return {
    notify: typeof c.notify === "boolean" ? c.notify : DEFAULT_PREFS.notify,
    preview: typeof c.preview === "boolean" ? c.preview : DEFAULT_PREFS.preview,
    dnd: {
      on: dnd.on === true,
      start: TIME.test(dnd.start) ? dnd.start : DEFAULT_PREFS.dnd.start,
      end: TIME.test(dnd.end) ? dnd.end : DEFAULT_PREFS.dnd.end,
    },
    important: Array.isArray(c.important)
      ? c.important.filter((p) => p && typeof p.user_id === "string").map((p) => ({ user_id: p.user_id, name: String(p.name || p.user_id) }))
      : [],
    font: c.font in FONT_SIZES ? c.font : DEFAULT_PREFS.font,
    background: c.background in BACKGROUNDS ? c.background : DEFAULT_PREFS.background,
  };
}

export function isTime(text) {
  return TIME.test(text);
}

const minutes = (text) => Number(text.slice(0, 2)) * 60 + Number(text.slice(3, 5));

// Is `date` (local time) inside the 免打扰时段?
export function inQuietHours(dnd, date) {
  if (!dnd || !dnd.on) return false;
  const now = date.getHours() * 60 + date.getMinutes();
  const start = minutes(dnd.start);
  const end = minutes(dnd.end);
  if (start === end) return true;
  return start < end ? now >= start && now < end : now >= start || now < end;
}

// Does a new message notify? `muted`: the chat is 消息免打扰 (then only a message naming
// me does, as WeChat's muted groups still tell of @我); `mentioned`: it names me or
// everyone; in the quiet period only the important contacts' messages do.
export function shouldNotify(prefs, { sender, muted, mentioned, date }) {
  if (!prefs.notify) return false;
  if (muted && !mentioned) return false;
  if (inQuietHours(prefs.dnd, date) && !prefs.important.some((p) => p.user_id === sender)) return false;
  return true;
}

// The notification's title and text.
export function notificationText(prefs, { chat, senderName, text, direct }) {
  const title = direct ? senderName : chat;
  if (!prefs.preview) return { title, body: direct ? "发来一条消息" : `${senderName}发来一条消息` };
  return { title, body: direct ? text : `${senderName}：${text}` };
}

export function backgroundColour(background) {
  return (BACKGROUNDS[background] || BACKGROUNDS.default)[1];
}

export function fontPixels(font) {
  return (FONT_SIZES[font] || FONT_SIZES.standard)[1];
}
