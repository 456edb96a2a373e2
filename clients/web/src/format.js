// SPDX-License-Identifier: AGPL-3.0-or-later
// Pure helpers of the chat list and the conversation (no SDK, no DOM), tested with
// node's test runner (clients/web/test/).
import { burnTtl } from "./rules.js";

// The chat list's one-line preview of a message's content.
export function previewOf(content) {
  if (!content) return "";
  if (burnTtl(content) !== null) return "[阅后即焚]";
  const card = cardOf(content);
  if (card) return `[${card.kind === "pubaccount" ? "文章" : "卡片"}] ${card.articles[0].title}`;
  const merged = mergedOf(content);
  if (merged) return `[聊天记录] ${merged.title}`;
  switch (content.msgtype) {
    case "m.image": return "[图片]";
    case "m.file": return `[文件] ${content.body || ""}`.trim();
    case "m.audio": return "[语音]";
    case "m.video": return "[视频]";
    case "m.location": return "[位置]";
    default: return content.body || "";
  }
}

// WeChat's times: 14:05 today, 昨天, 3月5日 this year, 2025/3/5 before.
export function formatTime(ts, now = Date.now()) {
  if (!ts) return "";
  const date = new Date(ts);
  const today = new Date(now);
  const pad = (n) => String(n).padStart(2, "0");
  if (date.toDateString() === today.toDateString()) return `${pad(date.getHours())}:${pad(date.getMinutes())}`;
  const yesterday = new Date(today.getFullYear(), today.getMonth(), today.getDate() - 1);
  if (date.toDateString() === yesterday.toDateString()) return "昨天";
  if (date.getFullYear() === today.getFullYear()) return `${date.getMonth() + 1}月${date.getDate()}日`;
  return `${date.getFullYear()}/${date.getMonth() + 1}/${date.getDate()}`;
}

export function badgeText(count) {
  if (!count || count < 0) return "";
  return count > 99 ? "99+" : String(count);
}

// The Enter key in the composer: "send", "newline" (Ctrl+Enter) or null (let it be:
// Shift+Enter, and Enter while an input method is composing Chinese).
export function composerKey({ key, ctrlKey, shiftKey, isComposing }) {
  if (key !== "Enter" || isComposing) return null;
  if (ctrlKey) return "newline";
  return shiftKey ? null : "send";
}

// Ctrl+F (or ⌘F) opens the directory's search.
export function isSearchKey({ key, ctrlKey, metaKey, altKey }) {
  return Boolean(ctrlKey || metaKey) && !altKey && (key === "f" || key === "F");
}

// The login identifier: 账号 or 手机号 (a Chinese mobile).
export function identifier(kind, text) {
  return kind === "phone"
    ? { type: "m.id.phone", country: "CN", phone: text }
    : { type: "m.id.user", user: text };
}

// Which screen flag of the policy covers a view: chat → chat_background, …
const SCREENS = { chat: "chat_background", contacts: "contact_list", profile: "profile" };

export function watermarkFor(config, view) {
  const mark = config && config.watermark;
  if (!mark || !mark.enabled || !mark.text || !mark[SCREENS[view]]) return null;
  return { text: mark.text, opacity: Math.min(Math.max(Number(mark.opacity) || 0.15, 0.02), 0.8) };
}

function escapeXml(text) {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

// The watermark's tile: the text once, turned, in an SVG data: URL.
export function tileUrl(text) {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="320" height="200">`
    + `<text x="20" y="120" transform="rotate(-20 160 100)" font-size="16" fill="#000" `
    + `font-family="Microsoft YaHei, WenQuanYi Micro Hei, sans-serif">${escapeXml(text)}</text></svg>`;
  return `url("data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}")`;
}


// A public account's push or an app's card message, drawn as a card (docs/pubaccounts.md:
// `cn.jwwx.pubaccount`; docs/openapi.md: `cn.jwwx.wecom` textcard and news) → {kind,
// articles: [{title, digest, url, cover}], button} or null (an ordinary message).
export function cardOf(content) {
  const pub = content && content["cn.jwwx.pubaccount"];
  if (pub && Array.isArray(pub.articles) && pub.articles.length) {
    return {
      kind: "pubaccount",
      preview: Boolean(pub.preview),
      articles: pub.articles.map((a) => ({ title: a.title || "", digest: a.digest || "", url: a.url || "", cover: a.cover || "" })),
    };
  }
  const wecom = content && content["cn.jwwx.wecom"];
  if (wecom && wecom.msgtype === "textcard" && wecom.textcard) {
    const c = wecom.textcard;
    return { kind: "textcard", articles: [{ title: c.title || "", digest: c.description || "", url: c.url || "", cover: "" }], button: c.btntxt || "详情" };
  }
  if (wecom && wecom.msgtype === "news" && Array.isArray(wecom.news?.articles) && wecom.news.articles.length) {
    return {
      kind: "news",
      articles: wecom.news.articles.map((a) => ({ title: a.title || "", digest: a.description || "", url: a.url || "", cover: a.picurl || "" })),
    };
  }
  return null;
}

// Where a card's link opens: our own article pages take the officer's token in the
// query (a new window cannot send the header; docs/pubaccounts.md), others as they are;
// only http(s).
export function cardLink(url, origin, token) {
  let parsed;
  try {
    parsed = new URL(url, origin);
  } catch {
    return null;
  }
  if (!["http:", "https:"].includes(parsed.protocol)) return null;
  if (parsed.origin === origin && parsed.pathname.startsWith("/_jwwx/client/v1/pubaccounts/articles/")) {
    parsed.searchParams.set("access_token", token);
  }
  return parsed.toString();
}

// 合并转发: several messages sent as one record (WeChat's 聊天记录): the title ("专案组的
// 聊天记录"), each message's sender, name, time and its text or preview — text only, so
// no file travels inside it — in `cn.jwwx.merged_forward`; the body lists them for other
// clients. items: [{sender, name, ts, content}].
export const MERGED = "cn.jwwx.merged_forward";
export const MERGED_MAX = 100;

export function mergedContent(title, items) {
  const messages = items.slice(0, MERGED_MAX).map((i) => ({
    sender: i.sender, name: i.name, ts: i.ts, text: previewOf(i.content),
  }));
  const lines = messages.map((m) => `${m.name}：${m.text}`);
  return { msgtype: "m.text", body: [`[聊天记录] ${title}`, ...lines].join("\n"), [MERGED]: { title, messages } };
}

export function mergedOf(content) {
  const merged = content && content[MERGED];
  if (!merged || typeof merged.title !== "string" || !Array.isArray(merged.messages)) return null;
  const messages = merged.messages.filter((m) => m && typeof m.text === "string")
    .map((m) => ({ sender: String(m.sender || ""), name: String(m.name || m.sender || ""), ts: Number(m.ts) || 0, text: m.text }));
  return { title: merged.title, messages };
}
