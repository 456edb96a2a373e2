// SPDX-License-Identifier: AGPL-3.0-or-later
// The chat list's rules (src/rules.js): order with pinned chats, hidden chats, the mute
// push rule, the rows of the windowed list and the rail's total.
import assert from "node:assert/strict";
import { test } from "node:test";
import { isMutedRule, muteRule, orderChats, rowWindow, totalUnread } from "../src/rules.js";

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
