// SPDX-License-Identifier: AGPL-3.0-or-later
// 邮件: the bridge's errors as the officer reads them (src/mail_api.js).
import assert from "node:assert/strict";
import { test } from "node:test";
import { ApiError } from "../src/api.js";
import { mailError } from "../src/mail_api.js";

test("the mail bridge's errors in the officer's words", () => {
  assert.equal(mailError(new ApiError(403, { errcode: "CN_JWWX_MAIL_LOGIN_REFUSED", error: "x" })), "邮箱账号或密码错误，请重新绑定");
  assert.equal(mailError(new ApiError(503, { errcode: "CN_JWWX_MAIL_UNAVAILABLE" })), "邮件服务器暂时无法连接，请稍后再试");
  assert.equal(mailError(new ApiError(404, { errcode: "M_NOT_FOUND" })), "邮件不存在（可能已被删除）");
  // No bridge behind this origin: the homeserver's own 404.
  assert.equal(mailError(new ApiError(404, { errcode: "M_UNRECOGNIZED", error: "Unrecognized request" })), "邮件服务未接入，请联系管理员");
  assert.equal(mailError(new ApiError(400, { errcode: "M_INVALID_PARAM", error: "login: 必填" })), "login: 必填");
  assert.equal(mailError(new Error("boom")), "操作失败");
});
