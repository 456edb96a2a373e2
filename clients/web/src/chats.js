// SPDX-License-Identifier: AGPL-3.0-or-later
// What the chat list and the conversation read from the SDK's rooms: titles, the
// last message's preview, unread counts, the visible messages; and opening a 1:1 chat.
import { EventType, NotificationCountType, Preset } from "matrix-js-sdk";

const SHOWN = new Set(["m.text", "m.notice", "m.emote", "m.image", "m.file", "m.audio", "m.video", "m.location"]);

export function isShown(event) {
  return event.getType() === EventType.RoomMessage && !event.isRedacted() && SHOWN.has(event.getContent().msgtype);
}

export function preview(event) {
  if (!event) return "";
  const content = event.getContent();
  switch (content.msgtype) {
    case "m.image": return "[图片]";
    case "m.file": return `[文件] ${content.body || ""}`;
    case "m.audio": return "[语音]";
    case "m.video": return "[视频]";
    case "m.location": return "[位置]";
    default: return content.body || "";
  }
}

export function lastMessage(room) {
  const events = room.getLiveTimeline().getEvents();
  for (let i = events.length - 1; i >= 0; i--) if (isShown(events[i])) return events[i];
  return null;
}

export function unreadCount(room) {
  return room.getUnreadNotificationCount(NotificationCountType.Total) || 0;
}

// Joined and invited rooms, the most recently active first (as WeChat orders chats).
export function chatRooms(client) {
  return client
    .getRooms()
    .filter((room) => ["join", "invite"].includes(room.getMyMembership()))
    .sort((a, b) => b.getLastActiveTimestamp() - a.getLastActiveTimestamp());
}

export function formatTime(ts, now = Date.now()) {
  if (!ts) return "";
  const date = new Date(ts);
  const today = new Date(now);
  const pad = (n) => String(n).padStart(2, "0");
  if (date.toDateString() === today.toDateString()) return `${pad(date.getHours())}:${pad(date.getMinutes())}`;
  const yesterday = new Date(now - 86400000);
  if (date.toDateString() === yesterday.toDateString()) return "昨天";
  if (date.getFullYear() === today.getFullYear()) return `${date.getMonth() + 1}月${date.getDate()}日`;
  return `${date.getFullYear()}/${date.getMonth() + 1}/${date.getDate()}`;
}

// The 1:1 chat with userId: one the m.direct account data names (joined or invited),
// else a new room marked direct on both sides.
export async function openDirectChat(client, userId) {
  const direct = client.getAccountData(EventType.Direct)?.getContent() || {};
  for (const roomId of direct[userId] || []) {
    const room = client.getRoom(roomId);
    if (room && ["join", "invite"].includes(room.getMyMembership())) return roomId;
  }
  const { room_id: roomId } = await client.createRoom({
    is_direct: true,
    invite: [userId],
    preset: Preset.TrustedPrivateChat,
  });
  const updated = { ...direct, [userId]: [...(direct[userId] || []), roomId] };
  await client.setAccountData(EventType.Direct, updated);
  return roomId;
}

// Server errors as the officer should read them (a keyword-blocked send carries the
// policy module's Chinese text in `error`).
export function errorText(e) {
  return e?.data?.error || e?.message || "操作失败";
}
