// SPDX-License-Identifier: AGPL-3.0-or-later
// Message actions as the client applies them (src/rules.js): recall and edit rules,
// the recalled line, edits, replies and mentions, the @ being typed, reactions.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  canEdit, canRecall, editContent, insertMention, mentionAt, mentionsMe, messageContent, reactionSummary, RECALL_WINDOW_MS,
  recallText, recallWindowMs, stillMentioned, stripReplyFallback,
} from "../src/rules.js";

const levels = { users: { "@owner:s": 100, "@admin:s": 50 }, users_default: 0, redact: 50 };
const now = 10 * RECALL_WINDOW_MS;

test("one's own message is recalled within 24 hours; owner and admins recall members' at any time", () => {
  assert.equal(canRecall(levels, "@a:s", "@a:s", now - 1000, now), true);
  assert.equal(canRecall(levels, "@a:s", "@a:s", now - RECALL_WINDOW_MS - 1, now), false);
  assert.equal(canRecall(levels, "@a:s", "@b:s", now, now), false);
  assert.equal(canRecall(levels, "@admin:s", "@b:s", 0, now), true);
  assert.equal(canRecall(levels, "@admin:s", "@owner:s", now, now), false);
  assert.equal(canRecall(levels, "@owner:s", "@admin:s", now, now), true);
  assert.equal(canRecall({ ...levels, redact: 100 }, "@admin:s", "@b:s", now, now), false);
  assert.equal(canRecall(null, "@admin:s", "@b:s", now, now), false);
});

test("the recall window is the server's: 2 minutes, none (0), the 24-hour default until known", () => {
  const twoMinutes = recallWindowMs({ recall_window_seconds: 120 });
  assert.equal(twoMinutes, 120000);
  assert.equal(canRecall(levels, "@a:s", "@a:s", now - 120000, now, twoMinutes), true);
  assert.equal(canRecall(levels, "@a:s", "@a:s", now - 120001, now, twoMinutes), false);
  assert.equal(canEdit({ msgtype: "m.text", body: "x" }, "@a:s", "@a:s", now - 120001, now, twoMinutes), false);
  // Owners and admins recall members' messages whatever the window.
  assert.equal(canRecall(levels, "@admin:s", "@b:s", 0, now, twoMinutes), true);
  const none = recallWindowMs({ recall_window_seconds: 0 });
  assert.equal(canRecall(levels, "@a:s", "@a:s", 0, now, none), true);
  for (const unknown of [null, undefined, {}, { recall_window_seconds: "60" }, { recall_window_seconds: -1 }, { recall_window_seconds: 1.5 }]) {
    assert.equal(recallWindowMs(unknown), RECALL_WINDOW_MS);
  }
  assert.equal(canRecall(levels, "@a:s", "@a:s", now - RECALL_WINDOW_MS - 1, now, recallWindowMs(null)), false);
});

test("only one's own text is edited, not burn-after-read nor after 24 hours", () => {
  const text = { msgtype: "m.text", body: "x" };
  assert.equal(canEdit(text, "@a:s", "@a:s", now, now), true);
  assert.equal(canEdit(text, "@a:s", "@b:s", now, now), false);
  assert.equal(canEdit({ msgtype: "m.image", body: "p" }, "@a:s", "@a:s", now, now), false);
  assert.equal(canEdit({ ...text, "org.matrix.self_destruct": 10000 }, "@a:s", "@a:s", now, now), false);
  assert.equal(canEdit(text, "@a:s", "@a:s", now - RECALL_WINDOW_MS - 1, now), false);
});

test("the recalled line names who recalled, and burnt messages leave none", () => {
  const by = (sender, reason) => ({ sender, content: reason ? { reason } : {}, originalSender: "@b:s" });
  assert.equal(recallText(by("@a:s"), "@a:s", "王芳", "李娜"), "你撤回了王芳的一条消息");
  assert.equal(recallText(by("@b:s"), "@a:s", "王芳", "王芳"), "王芳撤回了一条消息");
  assert.equal(recallText(by("@b:s"), "@b:s", "王芳", "王芳"), "你撤回了一条消息");
  assert.equal(recallText(by("@b:s", "阅后即焚"), "@a:s", "王芳", "王芳"), null);
  assert.equal(recallText(undefined, "@a:s", "", ""), null);
});

test("an edit replaces the text, with a fallback for clients without edits", () => {
  const edit = editContent("$e", "新的", { user_ids: ["@b:s"] });
  assert.equal(edit.body, "* 新的");
  assert.deepEqual(edit["m.new_content"], { msgtype: "m.text", body: "新的", "m.mentions": { user_ids: ["@b:s"] } });
  assert.deepEqual(edit["m.relates_to"], { rel_type: "m.replace", event_id: "$e" });
});

test("a reply quotes its message; mentions are those picked and still in the text", () => {
  const reply = messageContent("好的", { replyTo: "$q", mentioned: ["@b:s", "@b:s"] });
  assert.deepEqual(reply["m.relates_to"], { "m.in_reply_to": { event_id: "$q" } });
  assert.deepEqual(reply["m.mentions"], { user_ids: ["@b:s"] });
  assert.deepEqual(messageContent("x")["m.mentions"], {});
  const picked = [{ userId: "@b:s", name: "王芳" }, { userId: "@c:s", name: "张伟" }];
  assert.deepEqual(stillMentioned("@王芳 请回电", picked), ["@b:s"]);
  assert.equal(mentionsMe({ "m.mentions": { user_ids: ["@me:s"] } }, "@me:s"), true);
  assert.equal(mentionsMe({ body: "@me" }, "@me:s"), false);
});

test("the @ being typed, and the picked name put in its place", () => {
  assert.deepEqual(mentionAt("请 @wf", 5), { start: 2, query: "wf" });
  assert.deepEqual(mentionAt("@", 1), { start: 0, query: "" });
  assert.equal(mentionAt("mail@host", 9), null);
  assert.equal(mentionAt("@王芳 好", 5), null);
  assert.deepEqual(insertMention("请 @wf 看", 2, 5, "王芳"), { text: "请 @王芳  看", caret: 6 });
});

test("other clients' reply fallbacks are not shown twice; reactions are counted", () => {
  assert.equal(stripReplyFallback("> <@a:s> 原文\n> 第二行\n\n回复"), "回复");
  assert.equal(stripReplyFallback("普通"), "普通");
  assert.deepEqual(reactionSummary([["👍", ["@a:s", "@b:s"]], ["❤️", []]], "@a:s"), [{ key: "👍", count: 2, mine: true }]);
});

test("a new group is named after its first members when no name is typed", async () => {
  const { defaultGroupName } = await import("../src/rules.js");
  assert.equal(defaultGroupName("李娜", ["张伟", "王芳"]), "李娜、张伟、王芳");
  assert.equal(defaultGroupName("李娜", ["张伟", "王芳", "赵强", "孙丽"]), "李娜、张伟、王芳、赵强…");
  assert.equal(defaultGroupName("", []), "群聊");
});

test("合并转发: one record of the messages' senders and texts, read back", async () => {
  const { MERGED, mergedContent, mergedOf, previewOf } = await import("../src/format.js");
  const sent = mergedContent("专案组的聊天记录", [
    { sender: "@a:s", name: "张伟", ts: 1, content: { msgtype: "m.text", body: "第一条" } },
    { sender: "@b:s", name: "王芳", ts: 2, content: { msgtype: "m.file", body: "a.pdf", url: "mxc://s/x" } },
  ]);
  assert.equal(sent.body, "[聊天记录] 专案组的聊天记录\n张伟：第一条\n王芳：[文件] a.pdf");
  assert.equal(JSON.stringify(sent).includes("mxc://"), false);
  assert.deepEqual(mergedOf(sent).messages.map((m) => m.text), ["第一条", "[文件] a.pdf"]);
  assert.equal(previewOf(sent), "[聊天记录] 专案组的聊天记录");
  assert.equal(mergedOf({ [MERGED]: { title: 3 } }), null);
  assert.equal(mergedOf({ body: "x" }), null);
});

test("@所有人: offered by the room's notifications.room level, sent as m.mentions.room", async () => {
  const { canMentionAll, EVERYONE, mentionsOf } = await import("../src/rules.js");
  assert.equal(canMentionAll(levels, "@admin:s"), true);
  assert.equal(canMentionAll(levels, "@b:s"), false);
  assert.equal(canMentionAll({ ...levels, notifications: { room: 0 } }, "@b:s"), true);
  assert.deepEqual(mentionsOf([EVERYONE.userId, "@b:s"]), { user_ids: ["@b:s"], room: true });
  assert.deepEqual(mentionsOf([]), {});
  assert.equal(mentionsMe({ "m.mentions": { room: true } }, "@me:s"), true);
});
