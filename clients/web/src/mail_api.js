// SPDX-License-Identifier: AGPL-3.0-or-later
// 邮件: the mail bridge's officer API and its errors in the officer's words (mail.js
// draws the page; this file has no UI imports so node's test runner reads it alone).
import { ApiError, call } from "./api.js";

const MAIL = "/_jwwx/mail/v1";

export const mailApi = {
  account: (token) => call("GET", `${MAIL}/account`, undefined, token),
  bind: (token, login, password) => call("PUT", `${MAIL}/account`, { login, password }, token),
  unbind: (token) => call("DELETE", `${MAIL}/account`, undefined, token),
  list: (token, limit) => call("GET", `${MAIL}/messages?limit=${limit}`, undefined, token),
  read: (token, uid) => call("GET", `${MAIL}/messages/${encodeURIComponent(uid)}`, undefined, token),
  reply: (token, uid, text) => call("POST", `${MAIL}/messages/${encodeURIComponent(uid)}/reply`, { text }, token),
};

// The bridge's errors in the officer's words (its own messages are for admins).
export function mailError(e) {
  if (!(e instanceof ApiError)) return "操作失败";
  if (e.status === 404 && e.errcode !== "M_NOT_FOUND" && e.errcode !== "CN_JWWX_MAIL_NOT_BOUND") return "邮件服务未接入，请联系管理员";
  return {
    CN_JWWX_MAIL_LOGIN_REFUSED: "邮箱账号或密码错误，请重新绑定",
    CN_JWWX_MAIL_UNAVAILABLE: "邮件服务器暂时无法连接，请稍后再试",
    CN_JWWX_MAIL_REJECTED: "邮件服务器拒绝发送此回复",
    CN_JWWX_MAIL_NOT_BOUND: "尚未绑定邮箱",
    M_NOT_FOUND: "邮件不存在（可能已被删除）",
  }[e.errcode] || e.message;
}
