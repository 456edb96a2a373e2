// SPDX-License-Identifier: AGPL-3.0-or-later
// The client's own logic (src/format.js), with node's test runner: `node --test test/`
// (no npm install needed: format.js imports nothing).
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  badgeText, cardLink, cardOf, composerKey, formatTime, identifier, isSearchKey, previewOf, tileUrl, watermarkFor,
} from "../src/format.js";

test("previews name the kind of message", () => {
  assert.equal(previewOf({ msgtype: "m.text", body: "今晚开会" }), "今晚开会");
  assert.equal(previewOf({ msgtype: "m.image", body: "a.png" }), "[图片]");
  assert.equal(previewOf({ msgtype: "m.file", body: "通报.pdf" }), "[文件] 通报.pdf");
  assert.equal(previewOf({ msgtype: "m.audio" }), "[语音]");
  assert.equal(previewOf(undefined), "");
  // Burn-after-read content stays out of the chat list.
  assert.equal(previewOf({ msgtype: "m.text", body: "地点", "org.matrix.self_destruct": 10000 }), "[阅后即焚]");
});

test("times read as WeChat shows them", () => {
  const now = new Date(2026, 11, 6, 17, 30).getTime();
  assert.equal(formatTime(new Date(2026, 11, 6, 9, 5).getTime(), now), "09:05");
  assert.equal(formatTime(new Date(2026, 11, 5, 23, 59).getTime(), now), "昨天");
  assert.equal(formatTime(new Date(2026, 2, 5, 8, 0).getTime(), now), "3月5日");
  assert.equal(formatTime(new Date(2025, 2, 5, 8, 0).getTime(), now), "2025/3/5");
  assert.equal(formatTime(0, now), "");
  // 1 January: yesterday is in the year before.
  const newYear = new Date(2027, 0, 1, 8, 0).getTime();
  assert.equal(formatTime(new Date(2026, 11, 31, 22, 0).getTime(), newYear), "昨天");
});

test("badges stop at 99+", () => {
  assert.equal(badgeText(0), "");
  assert.equal(badgeText(7), "7");
  assert.equal(badgeText(100), "99+");
});

test("Enter sends, Ctrl+Enter starts a line, an input method's Enter is its own", () => {
  assert.equal(composerKey({ key: "Enter" }), "send");
  assert.equal(composerKey({ key: "Enter", ctrlKey: true }), "newline");
  assert.equal(composerKey({ key: "Enter", shiftKey: true }), null);
  assert.equal(composerKey({ key: "Enter", isComposing: true }), null);
  assert.equal(composerKey({ key: "a" }), null);
});

test("Ctrl+F searches", () => {
  assert.equal(isSearchKey({ key: "f", ctrlKey: true }), true);
  assert.equal(isSearchKey({ key: "F", metaKey: true }), true);
  assert.equal(isSearchKey({ key: "f" }), false);
  assert.equal(isSearchKey({ key: "f", ctrlKey: true, altKey: true }), false);
});

test("login by userid or mobile", () => {
  assert.deepEqual(identifier("user", "zhangsan"), { type: "m.id.user", user: "zhangsan" });
  assert.deepEqual(identifier("phone", "13800000000"), { type: "m.id.phone", country: "CN", phone: "13800000000" });
});

test("the watermark follows the policy's screens", () => {
  const config = { watermark: { enabled: true, chat_background: true, contact_list: false, profile: true, text: "李娜 lina", opacity: 0.2 } };
  assert.deepEqual(watermarkFor(config, "chat"), { text: "李娜 lina", opacity: 0.2 });
  assert.equal(watermarkFor(config, "contacts"), null);
  assert.equal(watermarkFor({ watermark: { ...config.watermark, enabled: false } }, "chat"), null);
  assert.equal(watermarkFor(null, "chat"), null);
  assert.equal(watermarkFor({ watermark: { ...config.watermark, opacity: 5 } }, "chat").opacity, 0.8);
});

test("the watermark's text is escaped in its SVG", () => {
  const url = decodeURIComponent(tileUrl('<script>"&'));
  assert.ok(url.includes("&#60;script&#62;&#34;&#38;"), url);
  assert.ok(!url.includes("<script>"));
});

test("public-account pushes and app cards are read as cards", () => {
  const push = { msgtype: "m.text", body: "x", "cn.jwwx.pubaccount": { account_id: 1, articles: [
    { id: 7, title: "春节安保部署", digest: "各单位注意", url: "http://h/_jwwx/client/v1/pubaccounts/articles/7", cover: "mxc://h/c" },
  ] } };
  assert.deepEqual(cardOf(push), { kind: "pubaccount", preview: false, articles: [
    { title: "春节安保部署", digest: "各单位注意", url: "http://h/_jwwx/client/v1/pubaccounts/articles/7", cover: "mxc://h/c" },
  ] });
  const textcard = { "cn.jwwx.wecom": { msgtype: "textcard", textcard: { title: "待办", description: "请审批", url: "https://oa/x" } } };
  assert.equal(cardOf(textcard).button, "详情");
  assert.equal(previewOf(push), "[文章] 春节安保部署");
  assert.equal(previewOf(textcard), "[卡片] 待办");
  assert.equal(cardOf(textcard).articles[0].digest, "请审批");
  const news = { "cn.jwwx.wecom": { msgtype: "news", news: { articles: [{ title: "a", picurl: "https://p" }, { title: "b" }] } } };
  assert.equal(cardOf(news).articles.length, 2);
  assert.equal(cardOf(news).articles[0].cover, "https://p");
  assert.equal(cardOf({ msgtype: "m.text", body: "plain" }), null);
  assert.equal(cardOf({ "cn.jwwx.wecom": { msgtype: "text", text: {} } }), null);
});

test("card links: our article pages carry the token, others do not, only http(s)", () => {
  const origin = "http://127.0.0.1:8008";
  assert.equal(cardLink("/_jwwx/client/v1/pubaccounts/articles/7", origin, "tok"),
    "http://127.0.0.1:8008/_jwwx/client/v1/pubaccounts/articles/7?access_token=tok");
  assert.equal(cardLink("https://oa.example/x?a=1", origin, "tok"), "https://oa.example/x?a=1");
  assert.equal(cardLink("javascript:alert(1)", origin, "tok"), null);
  assert.equal(cardLink("http://[bad", origin, "tok"), null);
});
