// SPDX-License-Identifier: AGPL-3.0-or-later
// Groups' and burn-after-read's rules as the client applies them (src/rules.js).
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  burnSecondsLeft, burnTtl, countdownText, fileSize, forwardContent, isMuteAll, isMuted, localpart, percent, roleOf, sendRight,
  newerWindow, olderWindow, sharingFor, ttlChoices, ttlName, unreadLabel, windowStart,
} from "../src/rules.js";

const levels = {
  users: { "@owner:s": 100, "@admin:s": 50, "@muted:s": -1 },
  users_default: 0,
  events_default: 0,
  events: { "m.room.name": 50 },
};

test("roles come from the power levels", () => {
  assert.equal(roleOf(levels, "@owner:s"), "owner");
  assert.equal(roleOf(levels, "@admin:s"), "admin");
  assert.equal(roleOf(levels, "@other:s"), "member");
  assert.equal(roleOf({ users_default: 100 }, "@x:s"), "owner");
});

test("a muted member may not send, the others may", () => {
  assert.deepEqual(sendRight(levels, "@other:s"), { canSend: true, reason: "" });
  const muted = sendRight(levels, "@muted:s");
  assert.equal(muted.canSend, false);
  assert.match(muted.reason, /你已被禁言/);
  assert.ok(isMuted(levels, "@muted:s"));
  assert.ok(!isMuted(levels, "@other:s"));
  assert.deepEqual(sendRight(null, "@x:s"), { canSend: true, reason: "" });
});

test("mute all leaves the owner and admins only", () => {
  const all = { ...levels, events_default: 50 };
  assert.ok(isMuteAll(all));
  assert.ok(!isMuteAll(levels));
  assert.equal(sendRight(all, "@owner:s").canSend, true);
  assert.equal(sendRight(all, "@admin:s").canSend, true);
  assert.match(sendRight(all, "@other:s").reason, /全员禁言/);
  // A level set for m.room.message wins over events_default.
  assert.equal(sendRight({ ...all, events: { "m.room.message": 0 } }, "@other:s").canSend, true);
  assert.equal(sendRight({ ...levels, events: { "m.room.message": 50 } }, "@other:s").canSend, false);
});

test("the read list's label", () => {
  assert.equal(unreadLabel(3), "3人未读");
  assert.equal(unreadLabel(0), "全部已读");
});

test("burn-after-read's time-to-live, under either field name", () => {
  assert.equal(burnTtl({ body: "x", "org.matrix.self_destruct": 30000 }), 30000);
  assert.equal(burnTtl({ "cn.jwwx.burn_after_read": 10000 }), 10000);
  assert.equal(burnTtl({ body: "x" }), null);
  assert.equal(burnTtl({ "org.matrix.self_destruct": "30" }), null);
  assert.equal(burnTtl({ "org.matrix.self_destruct": -1 }), null);
  assert.equal(burnTtl(undefined), null);
});

test("burn choices stay within the server's maximum, and read in Chinese", () => {
  assert.deepEqual(ttlChoices(604800000), [10000, 30000, 60000, 300000]);
  assert.deepEqual(ttlChoices(30000), [10000, 30000]);
  assert.deepEqual(ttlChoices(undefined), [10000, 30000, 60000, 300000]);
  assert.equal(ttlName(10000), "10秒");
  assert.equal(ttlName(300000), "5分钟");
});

test("the countdown", () => {
  assert.equal(burnSecondsLeft(1000, 10000, 1000), 10);
  assert.equal(burnSecondsLeft(1000, 10000, 1500), 10);
  assert.equal(burnSecondsLeft(1000, 10000, 10500), 1);
  assert.equal(burnSecondsLeft(1000, 10000, 99999), 0);
  assert.equal(countdownText(9), "9秒后销毁");
  assert.equal(countdownText(125), "2分5秒后销毁");
  assert.equal(countdownText(0), "即将销毁");
});

test("the directory's userid of a Matrix id", () => {
  assert.equal(localpart("@lina01:jwwx.local"), "lina01");
  assert.equal(localpart("nobody"), null);
});

test("the sharing policy: copy, forward, save", () => {
  const text = { msgtype: "m.text", body: "x" };
  const file = { msgtype: "m.file", body: "a.pdf", url: "mxc://s/a" };
  assert.deepEqual(sharingFor(null, text), { copy: true, forward: true, save: false, favorite: true });
  assert.deepEqual(sharingFor({}, file), { copy: false, forward: true, save: true, favorite: true });
  const closed = { sharing: { allow_forward_messages: false, allow_forward_files: false, allow_save_to_device: false } };
  assert.deepEqual(sharingFor(closed, text), { copy: false, forward: false, save: false, favorite: true });
  assert.deepEqual(sharingFor(closed, file), { copy: false, forward: false, save: false, favorite: true });
  // Files only: messages may still be forwarded.
  assert.equal(sharingFor({ sharing: { allow_forward_files: false } }, text).forward, true);
  assert.equal(sharingFor({ sharing: { allow_forward_files: false } }, file).forward, false);
  const burning = { ...text, "org.matrix.self_destruct": 10000 };
  assert.deepEqual(sharingFor(null, burning), { copy: false, forward: false, save: false, favorite: false });
});

test("a forward is the content without reply, edit or burn fields", () => {
  const content = { msgtype: "m.text", body: "b", "m.relates_to": { rel_type: "x" }, "m.mentions": {}, "cn.jwwx.burn_after_read": 1 };
  assert.deepEqual(forwardContent(content), { msgtype: "m.text", body: "b" });
  assert.ok(content["m.relates_to"], "the original is left as it was");
});

test("sizes and progress", () => {
  assert.equal(fileSize(512), "512 B");
  assert.equal(fileSize(2048), "2.0 KB");
  assert.equal(fileSize(5 * 1024 * 1024), "5.0 MB");
  assert.equal(fileSize(undefined), "");
  assert.equal(percent(50, 200), 25);
  assert.equal(percent(300, 200), 100);
  assert.equal(percent(1, 0), 0);
});

test("the timeline's window slides over a long chat", () => {
  const w = { size: 100, step: 40 };
  // Following the newest: the last 100 of 10,000.
  assert.equal(windowStart(null, 10000, 100), 9900);
  assert.equal(windowStart(null, 30, 100), 0);
  // Older: 40 back; at the start, null (ask the server for more).
  assert.equal(olderWindow(null, 10000, w), 9860);
  assert.equal(olderWindow(30, 10000, w), 0);
  assert.equal(olderWindow(0, 10000, w), null);
  assert.equal(olderWindow(null, 50, w), null);
  // Newer: 40 on, then following again once the newest are inside.
  assert.equal(newerWindow(0, 10000, w), 40);
  assert.equal(newerWindow(9850, 10000, w), 9890);
  assert.equal(newerWindow(9870, 10000, w), null);
  assert.equal(newerWindow(null, 10000, w), null);
  // A window start past the end (events gone) is clamped.
  assert.equal(windowStart(500, 100, 100), 99);
});

test("a search hit's window: among the newest it follows them, else starts 20 above it", async () => {
  const { jumpWindow } = await import("../src/rules.js");
  assert.equal(jumpWindow(950, 1000), null);
  assert.equal(jumpWindow(880, 1000), null);
  assert.equal(jumpWindow(879, 1000), 859);
  assert.equal(jumpWindow(10, 1000), 0);
  assert.equal(jumpWindow(3, 50), null);
});

test("a video's length and what it is sent as", async () => {
  const { durationText, videoContent } = await import("../src/rules.js");
  assert.equal(durationText(4600), "0:05");
  assert.equal(durationText(200), "0:01");
  assert.equal(durationText(750000), "12:30");
  assert.equal(durationText(3723000), "1:02:03");
  assert.equal(durationText(undefined), "");
  assert.equal(durationText(Infinity), "");
  const full = videoContent("mxc://s/v", "现场.webm", {
    mimetype: "video/webm", size: 1000, duration: 1520.4, w: 320, h: 240,
    thumbnail: { url: "mxc://s/p", mimetype: "image/jpeg", size: 50, w: 320, h: 240 },
  });
  assert.deepEqual(full, {
    msgtype: "m.video", body: "现场.webm", url: "mxc://s/v",
    info: { mimetype: "video/webm", size: 1000, duration: 1520, w: 320, h: 240, thumbnail_url: "mxc://s/p",
      thumbnail_info: { mimetype: "image/jpeg", size: 50, w: 320, h: 240 } },
  });
  // Nothing measured (not decodable in this browser): sent all the same.
  assert.deepEqual(videoContent("mxc://s/v", "", { size: 9, duration: null, w: 0, h: 0, thumbnail: null }),
    { msgtype: "m.video", body: "视频", url: "mxc://s/v", info: { mimetype: "video/mp4", size: 9 } });
});
