// SPDX-License-Identifier: AGPL-3.0-or-later
// The chat list's rules (src/rules.js): order with pinned chats, hidden chats, the mute
// push rule, the rows of the windowed list and the rail's total, the open API's spare
// rooms (not shown) and apps' notices.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  APP_MARKER, appRoomKind, countedNotShown, countsMayChange, grownRange, isMutedRule, muteRule, orderChats, ownMembership, rowWindow,
  SLIDING, slidingTotal, SPARE_MARKER, totalUnread,
} from "../src/rules.js";

test("pinned chats first, then the most recently active; hidden ones until newer", () => {
  const entries = [
    { id: "a", ts: 10, pinned: false },
    { id: "b", ts: 30, pinned: false },
    { id: "c", ts: 5, pinned: true },
    { id: "d", ts: 20, pinned: false },
  ];
  assert.deepEqual(orderChats(entries).map((e) => e.id), ["c", "b", "d", "a"]);
  assert.deepEqual(orderChats(entries, { b: 30, d: 15 }).map((e) => e.id), ["c", "d", "a"]);
  assert.deepEqual(orderChats(entries, { b: 30 }, "b").map((e) => e.id), ["c", "b", "d", "a"]);
});

test("a chat is muted by an override rule of its room that does not notify", () => {
  const rules = (rule) => ({ global: { override: [rule] } });
  assert.equal(isMutedRule(rules({ rule_id: "!r", enabled: true, actions: [] }), "!r"), true);
  assert.equal(isMutedRule(rules({ rule_id: "!r", enabled: true, actions: ["dont_notify"] }), "!r"), true);
  assert.equal(isMutedRule(rules({ rule_id: "!r", enabled: false, actions: [] }), "!r"), false);
  assert.equal(isMutedRule(rules({ rule_id: "!r", enabled: true, actions: ["notify"] }), "!r"), false);
  assert.equal(isMutedRule(rules({ rule_id: "!o", enabled: true, actions: [] }), "!r"), false);
  assert.equal(isMutedRule(undefined, "!r"), false);
  assert.deepEqual(muteRule("!r").conditions, [{ kind: "event_match", key: "room_id", pattern: "!r" }]);
});

test("the windowed list draws the rows in view and a few either side", () => {
  assert.deepEqual(rowWindow(0, 640, 64, 500, 8), { start: 0, end: 19 });
  assert.deepEqual(rowWindow(6400, 640, 64, 500, 8), { start: 92, end: 119 });
  assert.deepEqual(rowWindow(31900, 640, 64, 500, 8), { start: 490, end: 500 });
  assert.deepEqual(rowWindow(0, 640, 64, 3, 8), { start: 0, end: 3 });
});

test("the rail counts unread chats that are not muted", () => {
  assert.equal(totalUnread([{ muted: false, unread: 2 }, { muted: true, unread: 5 }, { muted: false, unread: 1 }]), 3);
});

test("the sliding window grows in pages to cover the rows shown", () => {
  // The first 20 loaded (0–19): rows up to 20 need nothing more.
  assert.equal(grownRange(19, 12, 20), 19);
  assert.equal(grownRange(19, 20, 20), 19);
  // One row past it: a page past that row, in whole pages.
  assert.equal(grownRange(19, 21, 20), 59);
  assert.equal(grownRange(59, 41, 20), 59);
  assert.equal(grownRange(59, 75, 20), 99);
});

test("the officer's membership from a sliding sync answer", () => {
  const me = "@lina:hs";
  const member = (who, membership) => ({ type: "m.room.member", state_key: who, content: { membership } });
  assert.equal(ownMembership({ invite_state: [member(me, "invite")] }, me, undefined), "invite");
  // The newest own member event of the timeline wins over the state as it was.
  assert.equal(ownMembership({ timeline: [member(me, "join"), member(me, "leave")] }, me, "join"), "leave");
  assert.equal(ownMembership({ timeline: [member("@zw:hs", "leave")] }, me, "join"), "join");
  assert.equal(ownMembership({ timeline: [{ type: "m.room.message", content: {} }] }, me, undefined), null);
});

test("the list holds what the server counts, less the hidden chats not shown", () => {
  assert.equal(slidingTotal(null, 12, 0), 12); // nothing counted yet: what is here
  assert.equal(slidingTotal(501, 20, 0), 501);
  assert.equal(slidingTotal(41, 40, 1), 40);
  assert.equal(slidingTotal(3, 5, 1), 5); // never fewer than the chats shown
});

test("the unread counts are asked again for new events and the officer's receipts", () => {
  const me = "@lina:hs";
  assert.equal(countsMayChange({ rooms: { "!a": { num_live: 1 } } }, me), true);
  // A window that grew brings chats with old events only.
  assert.equal(countsMayChange({ rooms: { "!a": { num_live: 0, initial: true }, "!b": {} } }, me), false);
  const receipt = (user) => ({ extensions: { receipts: { rooms: { "!a": {
    type: "m.receipt", content: { $e: { "m.read": { [user]: { ts: 1 } } } } } } } } });
  assert.equal(countsMayChange(receipt(me), me), true);
  assert.equal(countsMayChange(receipt("@zw:hs"), me), false);
  assert.equal(countsMayChange({}, me), false);
});

test("the open API's spare room is not a chat until an app claims it", () => {
  const me = "@lina:hs";
  const pool = "@jwwx_notices:hs";
  const spare = (content, sender = pool) => ({ sender, content });
  // As the pool creates it: {agentid: 0} from the pool's bot, no app marker.
  assert.equal(appRoomKind(spare({ agentid: 0 }), null, me), "spare");
  // Claimed (one batch): the spare marker emptied, the app's marker.
  assert.equal(appRoomKind(spare({}), { sender: pool, content: { agentid: 1000002 } }, me), "app");
  // The app's marker alone (a room the app built itself), or both as the batch lands.
  assert.equal(appRoomKind(null, { sender: "@app:hs", content: { agentid: 1000002 } }, me), "app");
  assert.equal(appRoomKind(spare({ agentid: 0 }), { sender: pool, content: { agentid: 1000002 } }, me), "app");
  // Emptied, or no marker: any chat.
  assert.equal(appRoomKind(spare({}), null, me), null);
  assert.equal(appRoomKind(null, null, me), null);
  assert.equal(appRoomKind(null, { sender: pool, content: {} }, me), null);
  // A spare marker from anyone else (a group's admin, another server's bot) hides nothing.
  assert.equal(appRoomKind(spare({ agentid: 0 }, "@zhangwei:hs"), null, me), null);
  assert.equal(appRoomKind(spare({ agentid: 0 }, "@jwwx_notices:other"), null, me), null);
  assert.equal(appRoomKind(spare("x"), null, me), null);
});

test("sliding sync asks every room's markers, and the spare rooms leave the list's count", () => {
  const asked = SLIDING.requiredState.map(([type, key]) => `${type}|${key}`);
  assert.ok(asked.includes(`${SPARE_MARKER}|`));
  assert.ok(asked.includes(`${APP_MARKER}|`));
  // Hidden chats and the spare room loaded, each once, less a hidden chat opened again.
  assert.equal(countedNotShown(["!a", "!b"], ["!h", "!b"], ["!s"]), 2);
  assert.equal(countedNotShown(["!a"], [], ["!s", "!s"]), 1);
  assert.equal(countedNotShown(["!a"], [], []), 0);
  // 41 counted by the server, 39 shown, those 2 not: a list of 39 rows (no gap).
  assert.equal(slidingTotal(41, 39, countedNotShown(["!a"], ["!h"], ["!s"])), 39);
});
