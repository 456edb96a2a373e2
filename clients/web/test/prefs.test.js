// SPDX-License-Identifier: AGPL-3.0-or-later
// 设置's preferences and the notification rules they drive (src/prefs.js).
import assert from "node:assert/strict";
import { test } from "node:test";
import { backgroundColour, DEFAULT_PREFS, fontPixels, inQuietHours, isTime, normalizePrefs, notificationText, shouldNotify } from "../src/prefs.js";

const at = (hh, mm) => new Date(2026, 11, 7, hh, mm);

test("stored preferences are made whole; malformed values take their defaults", () => {
  assert.deepEqual(normalizePrefs(undefined), DEFAULT_PREFS);
  const p = normalizePrefs({ notify: "no", preview: false, dnd: { on: true, start: "25:00", end: "06:30" },
    important: [{ user_id: "@a:s", name: "张伟" }, "junk", { name: "x" }, { user_id: "@b:s" }], font: "huge" });
  assert.equal(p.notify, true);
  assert.equal(p.preview, false);
  assert.deepEqual(p.dnd, { on: true, start: "22:00", end: "06:30" });
  assert.deepEqual(p.important, [{ user_id: "@a:s", name: "张伟" }, { user_id: "@b:s", name: "@b:s" }]);
  assert.equal(p.font, "standard");
  assert.equal(p.background, "default");
  assert.equal(normalizePrefs({ background: "blue" }).background, "blue");
  assert.equal(backgroundColour("blue"), "#e8f0f8");
  assert.equal(backgroundColour("nonsense"), "#f5f5f5");
  assert.equal(fontPixels("larger"), 18);
  assert.equal(fontPixels("nonsense"), 14);
  assert.ok(isTime("07:05") && !isTime("7:05") && !isTime("24:00"));
});

test("the quiet period may pass midnight; equal ends are the whole day; off is never", () => {
  const night = { on: true, start: "22:00", end: "07:00" };
  assert.ok(inQuietHours(night, at(23, 10)));
  assert.ok(inQuietHours(night, at(6, 59)));
  assert.ok(!inQuietHours(night, at(7, 0)));
  assert.ok(!inQuietHours(night, at(12, 0)));
  const lunch = { on: true, start: "12:00", end: "13:30" };
  assert.ok(inQuietHours(lunch, at(12, 0)) && inQuietHours(lunch, at(13, 29)));
  assert.ok(!inQuietHours(lunch, at(13, 30)) && !inQuietHours(lunch, at(11, 59)));
  assert.ok(inQuietHours({ on: true, start: "08:00", end: "08:00" }, at(15, 0)));
  assert.ok(!inQuietHours({ ...night, on: false }, at(23, 0)));
});

test("who notifies: off, muted chats (unless @me), the quiet period (unless important)", () => {
  const prefs = normalizePrefs({ dnd: { on: true, start: "22:00", end: "07:00" }, important: [{ user_id: "@boss:s", name: "局长" }] });
  const day = at(10, 0);
  const night = at(23, 0);
  assert.ok(shouldNotify(prefs, { sender: "@x:s", muted: false, mentioned: false, date: day }));
  assert.ok(!shouldNotify({ ...prefs, notify: false }, { sender: "@boss:s", muted: false, mentioned: true, date: day }));
  assert.ok(!shouldNotify(prefs, { sender: "@x:s", muted: true, mentioned: false, date: day }));
  assert.ok(shouldNotify(prefs, { sender: "@x:s", muted: true, mentioned: true, date: day }));
  assert.ok(!shouldNotify(prefs, { sender: "@x:s", muted: false, mentioned: true, date: night }));
  assert.ok(shouldNotify(prefs, { sender: "@boss:s", muted: false, mentioned: false, date: night }));
});

test("the notification's text, with or without the message", () => {
  const on = normalizePrefs({});
  const off = normalizePrefs({ preview: false });
  assert.deepEqual(notificationText(on, { chat: "专案组", senderName: "张伟", text: "开会", direct: false }),
    { title: "专案组", body: "张伟：开会" });
  assert.deepEqual(notificationText(on, { chat: "张伟", senderName: "张伟", text: "开会", direct: true }),
    { title: "张伟", body: "开会" });
  assert.deepEqual(notificationText(off, { chat: "专案组", senderName: "张伟", text: "开会", direct: false }),
    { title: "专案组", body: "张伟发来一条消息" });
});
