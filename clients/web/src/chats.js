// SPDX-License-Identifier: AGPL-3.0-or-later
// What the chat list and the conversation read from the SDK's rooms: titles, the
// last message's preview, unread counts, the visible messages; and opening a 1:1 chat.
import { EventType, NotificationCountType, Preset } from "matrix-js-sdk";
import { previewOf } from "./format.js";
import { call } from "./api.js";
import { APP_MARKER, appRoomKind, mentionsMe, recallText, SPARE_MARKER, SPARE_NAME } from "./rules.js";
import { serverCounts } from "./unread.js";

export { formatTime } from "./format.js";

const SHOWN = new Set(["m.text", "m.notice", "m.emote", "m.image", "m.file", "m.audio", "m.video", "m.location"]);

// The line a recalled message leaves (null: burnt, or not redacted).
export function recallLine(client, room, event) {
  if (!event.isRedacted()) return null;
  const because = event.getUnsigned().redacted_because;
  if (!because) return null;
  const nameOf = (id) => room.getMember(id)?.name || id;
  return recallText({ ...because, originalSender: event.getSender() }, client.getUserId(),
    nameOf(event.getSender()), nameOf(because.sender));
}

// A message of the timeline: not an edit (m.replace: applied to its original by the
// SDK), not burnt; a recalled one shows its line.
export function isShown(event, client, room) {
  if (event.getType() !== EventType.RoomMessage) return false;
  if (event.isRedacted()) return Boolean(client && recallLine(client, room, event));
  return !event.isRelation("m.replace") && SHOWN.has(event.getContent().msgtype);
}

export function preview(event, client, room) {
  if (!event) return "";
  if (event.isRedacted()) return recallLine(client, room, event) || "";
  return previewOf(event.getContent());
}

// An unread message of the chat names me (m.mentions): the list shows [有人@我]. Under
// sliding sync the server's count of unread highlights says so too (beyond the events
// loaded here).
export function mentionedUnread(client, room) {
  if (serverCounts(client)?.get(room.roomId)?.mentions > 0) return true;
  const me = client.getUserId();
  const events = room.getLiveTimeline().getEvents();
  for (let i = events.length - 1; i >= 0 && i >= events.length - 50; i--) {
    const event = events[i];
    if (!event.getId() || event.getSender() === me) continue;
    if (room.hasUserReadEvent(me, event.getId())) return false;
    if (!event.isRedacted() && mentionsMe(event.getContent(), me)) return true;
  }
  return false;
}

export function lastMessage(room, client) {
  const events = room.getLiveTimeline().getEvents();
  for (let i = events.length - 1; i >= 0; i--) if (isShown(events[i], client, room)) return events[i];
  return null;
}

// The server's notification count: /sync v2 brings it with the room; under sliding sync
// it is the unread endpoint's (src/unread.js).
export function unreadCount(room) {
  const server = serverCounts(room.client);
  if (server) return server.get(room.roomId)?.unread || 0;
  return room.getUnreadNotificationCount(NotificationCountType.Total) || 0;
}

// An open-API room's kind (rules.js appRoomKind): "spare", "app" or null, from the
// room's current state (under sliding sync the markers are in every room's required state).
export function roomKind(room) {
  const marker = (type) => {
    const event = room.currentState.getStateEvents(type, "");
    return event ? { sender: event.getSender(), content: event.getContent() } : null;
  };
  return appRoomKind(marker(SPARE_MARKER), marker(APP_MARKER), room.client.getUserId());
}

function isChat(room) {
  return ["join", "invite"].includes(room.getMyMembership());
}

// Joined and invited rooms, the most recently active first (as WeChat orders chats);
// not the open API's spare rooms (empty until an app claims one: the list, the pickers,
// the unread totals and the search leave them out).
export function chatRooms(client) {
  return client
    .getRooms()
    .filter((room) => isChat(room) && roomKind(room) !== "spare")
    .sort((a, b) => b.getLastActiveTimestamp() - a.getLastActiveTimestamp());
}

// The spare rooms loaded here (under sliding sync the server counts them in the list).
export function spareRoomIds(client) {
  return client.getRooms().filter((room) => isChat(room) && roomKind(room) === "spare").map((room) => room.roomId);
}

// The unified search's answer (docs/search.md) without the spare rooms among its
// groups: one loaded here by its state; under sliding sync one not loaded yet that bears
// the spare room's name has its markers asked of the server (as events: who sent them).
export async function withoutSpareRooms(client, token, answer) {
  const groups = answer?.groups?.results || [];
  const marker = async (roomId, type) => {
    try {
      const event = await call("GET", `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/state/${type}?format=event`, undefined, token);
      return { sender: event.sender, content: event.content };
    } catch {
      return null; // none (404), or not known: the hit is kept
    }
  };
  const spare = await Promise.all(groups.map(async (g) => {
    const room = client.getRoom(g.room_id);
    if (room) return roomKind(room) === "spare";
    if (g.name !== SPARE_NAME) return false;
    const [spareMarker, appMarker] = await Promise.all([marker(g.room_id, SPARE_MARKER), marker(g.room_id, APP_MARKER)]);
    return appRoomKind(spareMarker, appMarker, client.getUserId()) === "spare";
  }));
  if (!spare.includes(true)) return answer;
  const results = groups.filter((_, i) => !spare[i]);
  const count = typeof answer.groups.count === "number" ? answer.groups.count - (groups.length - results.length) : answer.groups.count;
  return { ...answer, groups: { ...answer.groups, results, count } };
}

// The 1:1 chat with userId: one the m.direct account data names (joined or invited),
// else a new room marked direct on both sides.
export async function openDirectChat(client, userId) {
  const direct = client.getAccountData(EventType.Direct)?.getContent() || {};
  const named = direct[userId] || [];
  for (const roomId of named) {
    const room = client.getRoom(roomId);
    if (room && ["join", "invite"].includes(room.getMyMembership())) return roomId;
  }
  // Under sliding sync a chat outside the window is not loaded here: the server says
  // whether it is still joined (it is then loaded as the open chat).
  const unknown = named.filter((roomId) => !client.getRoom(roomId));
  if (unknown.length) {
    const { joined_rooms: joined = [] } = await client.getJoinedRooms();
    const found = unknown.find((roomId) => joined.includes(roomId));
    if (found) return found;
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
