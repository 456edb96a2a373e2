# SPDX-License-Identifier: AGPL-3.0-or-later
"""The officers' mail API, on the bridge's listener (route /_jwwx/mail/ to it from
the reverse proxy in front of the homeserver). Each request carries the officer's own
Matrix access token (Authorization: Bearer), which the homeserver vouches for
(/account/whoami); answers are Matrix-style errors.

  GET    /_jwwx/mail/v1/account                 {"bound", "login", "reminder"}
  PUT    /_jwwx/mail/v1/account/reminder        {"reminder": "subject" | "count"}: what
                                                his reminders show
  PUT    /_jwwx/mail/v1/account                 {"login", "password"}: checked on the
                                                IMAP server, then kept (sealed)
  DELETE /_jwwx/mail/v1/account                 forget it
  GET    /_jwwx/mail/v1/folders                 {"folders": [name, …]}: his folders
  GET    /_jwwx/mail/v1/messages?limit=20       the newest mails' headers, live
  GET    /_jwwx/mail/v1/messages/{uid}          one mail, live (marked read)
  POST   /_jwwx/mail/v1/messages/{uid}/reply    {"text"}: a quick reply over SMTP
  GET    /_jwwx/mail/v1/messages/{uid}/attachments/{n}
                                                the mail's attachment n (0-based, as
                                                listed by the mail's "attachments"),
                                                live, as a download; never kept

The calls under messages/ take ?folder=NAME (a name from folders; default the
configured mailbox, INBOX): 404 M_NOT_FOUND when he has no such folder.

Input is judged before the token and the mailbox: bad input is a 400 whatever else."""

import json
import logging
from typing import Any
from urllib.parse import parse_qs, urlsplit

from bridges.common.appservice import bearer_token
from bridges.common.matrix import BotClient, MatrixError
from bridges.mail.config import REMINDERS
from bridges.mail.imap import MailError
from bridges.mail.service import MailService
from modules.common.http import RawBody

logger = logging.getLogger(__name__)
PREFIX = ["_jwwx", "mail", "v1"]
MAX_REQUEST = 64 * 1024
MAX_REPLY_CHARS = 20000
MAX_FIELD = 256
MAX_ATTACHMENTS = 1000
Answer = tuple[int, Any]


class BadInputError(Exception):
    pass


def _error(status: int, errcode: str, error: str) -> Answer:
    return status, {"errcode": errcode, "error": error}


def _json_body(request: Any) -> dict[str, Any]:
    raw = request.content.read(MAX_REQUEST + 1)
    if len(raw) > MAX_REQUEST:
        raise BadInputError("请求体过大")
    try:
        body = json.loads(raw)
    except ValueError as e:
        raise BadInputError("请求体不是 JSON") from e
    if not isinstance(body, dict):
        raise BadInputError("请求体必须是 JSON 对象")
    return body


def _field(body: dict[str, Any], key: str, limit: int) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value.strip():
        raise BadInputError(f"缺少 {key}")
    if len(value) > limit or (limit == MAX_FIELD and any(c in value for c in "\r\n")):
        raise BadInputError(f"{key} 不合法")
    return value


def _uid(text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 2**32:
        raise BadInputError("邮件编号必须是正整数")
    return int(text)


def _index(text: str) -> int:
    if not text.isdigit() or int(text) >= MAX_ATTACHMENTS:
        raise BadInputError("附件编号必须是 0 起的整数")
    return int(text)


def _folder(request: Any) -> str | None:
    query = parse_qs(urlsplit(request.uri.decode("latin-1")).query)
    values = query.get("folder")
    if not values:
        return None
    name = values[0]  # percent-decoded as UTF-8 (bad bytes become U+FFFD)
    if (
        not 0 < len(name) <= MAX_FIELD
        or "\ufffd" in name
        or any(ord(c) < 32 for c in name)
    ):
        raise BadInputError("folder 不合法")
    return name


def _limit(request: Any) -> int:
    query = parse_qs(urlsplit(request.uri.decode("latin-1")).query)
    text = query.get("limit", ["20"])[0]
    if not text.isdigit() or not 1 <= int(text) <= 100:
        raise BadInputError("limit 必须在 1 到 100 之间")
    return int(text)


def _failure(error: MailError) -> Answer:
    if error.kind == "auth":
        return _error(
            403,
            "CN_JWWX_MAIL_LOGIN_REFUSED",
            "邮件服务器拒绝了登录（用户名或密码错误）",
        )
    if error.kind == "rejected":
        return _error(400, "CN_JWWX_MAIL_REJECTED", "邮件服务器拒收了这封回复")
    if error.kind == "not_found":
        return _error(404, "M_NOT_FOUND", "没有这封邮件或这个附件")
    if error.kind == "too_large":
        return _error(
            413, "CN_JWWX_MAIL_ATTACHMENT_TOO_LARGE", "附件过大，请在邮箱中查看"
        )
    return _error(503, "CN_JWWX_MAIL_UNAVAILABLE", "邮件服务器暂时无法访问")


class MailApi:
    def __init__(self, server_name: str, bot: BotClient, service: MailService):
        self._server_name = server_name
        self._bot = bot
        self._service = service

    @staticmethod
    def handles(path: str) -> bool:
        return [p for p in path.split("/") if p][:3] == PREFIX

    async def handle(self, request: Any) -> Answer:
        parts = [p for p in urlsplit(request.uri.decode("latin-1")).path.split("/")]
        parts = [p for p in parts if p][3:]
        method = request.method.decode("ascii")
        try:
            call = self._route(method, parts, request)
        except BadInputError as e:
            return _error(400, "M_INVALID_PARAM", str(e))
        if call is None:
            return _error(404, "M_UNRECOGNIZED", "unknown endpoint")
        token = bearer_token(request)
        if token is None:
            return _error(401, "M_MISSING_TOKEN", "需要登录")
        try:
            user_id = await self._bot.whoami(token)
        except MatrixError as e:
            logger.warning("whoami: %s", e)
            return _error(503, "M_UNKNOWN", "homeserver did not answer")
        if user_id is None:
            return _error(401, "M_UNKNOWN_TOKEN", "登录已失效")
        if not user_id.endswith(":" + self._server_name):
            return _error(403, "M_FORBIDDEN", "只有本单位的民警可以使用")
        try:
            return await call(user_id)
        except MailError as e:
            logger.info("mail of %s: %s", user_id, e)
            return _failure(e)

    def _route(self, method: str, parts: list[str], request: Any) -> Any:
        """The call for this request, its input judged; None for an unknown one."""
        if parts == ["account"]:
            if method == "GET":
                return self._get_account
            if method == "DELETE":
                return self._delete_account
            if method == "PUT":
                body = _json_body(request)
                login = _field(body, "login", MAX_FIELD)
                password = _field(body, "password", MAX_FIELD)
                return lambda user_id: self._put_account(user_id, login, password)
        if parts == ["account", "reminder"] and method == "PUT":
            reminder = _json_body(request).get("reminder")
            if reminder not in REMINDERS:
                raise BadInputError("reminder 只能是 subject 或 count")
            return lambda user_id: self._put_reminder(user_id, str(reminder))
        if parts == ["folders"] and method == "GET":
            return self._folders
        folder = _folder(request) if parts[:1] == ["messages"] else None
        if parts == ["messages"] and method == "GET":
            limit = _limit(request)
            return lambda user_id: self._list(user_id, limit, folder)
        if len(parts) == 2 and parts[0] == "messages" and method == "GET":
            uid = _uid(parts[1])
            return lambda user_id: self._read(user_id, uid, folder)
        if (
            len(parts) == 4
            and parts[0] == "messages"
            and parts[2] == "attachments"
            and method == "GET"
        ):
            uid, index = _uid(parts[1]), _index(parts[3])
            return lambda user_id: self._attachment(user_id, uid, index, folder)
        if len(parts) == 3 and parts[::2] == ["messages", "reply"] and method == "POST":
            uid = _uid(parts[1])
            text = _field(_json_body(request), "text", MAX_REPLY_CHARS)
            return lambda user_id: self._reply(user_id, uid, text, folder)
        return None

    async def _get_account(self, user_id: str) -> Answer:
        account = self._service.account(user_id)
        if account is None:
            return 200, {"bound": False}
        return 200, {
            "bound": True,
            "login": account.login,
            "reminder": self._service.reminder(account),
        }

    async def _put_reminder(self, user_id: str, reminder: str) -> Answer:
        if not self._service.set_reminder(user_id, reminder):
            return _error(404, "CN_JWWX_MAIL_NOT_BOUND", "还没有绑定邮箱")
        return 200, {"reminder": reminder}

    async def _put_account(self, user_id: str, login: str, password: str) -> Answer:
        account = await self._service.bind(user_id, login, password)
        return 200, {"bound": True, "login": account.login, "room_id": account.room_id}

    async def _delete_account(self, user_id: str) -> Answer:
        if not self._service.unbind(user_id):
            return _error(404, "CN_JWWX_MAIL_NOT_BOUND", "还没有绑定邮箱")
        return 200, {}

    async def _folders(self, user_id: str) -> Answer:
        account = self._service.account(user_id)
        if account is None:
            return _error(404, "CN_JWWX_MAIL_NOT_BOUND", "还没有绑定邮箱")
        return 200, {"folders": await self._service.folders(account)}

    async def _list(self, user_id: str, limit: int, folder: str | None) -> Answer:
        account = self._service.account(user_id)
        if account is None:
            return _error(404, "CN_JWWX_MAIL_NOT_BOUND", "还没有绑定邮箱")
        state, found = await self._service.latest(account, limit, folder)
        return 200, {
            "total": state.messages,
            "unseen": state.unseen,
            "messages": [s.as_json() for s in found],
        }

    async def _read(self, user_id: str, uid: int, folder: str | None) -> Answer:
        account = self._service.account(user_id)
        if account is None:
            return _error(404, "CN_JWWX_MAIL_NOT_BOUND", "还没有绑定邮箱")
        return 200, await self._service.read(account, uid, folder)

    async def _attachment(
        self, user_id: str, uid: int, index: int, folder: str | None
    ) -> Answer:
        account = self._service.account(user_id)
        if account is None:
            return _error(404, "CN_JWWX_MAIL_NOT_BOUND", "还没有绑定邮箱")
        name, content_type, data = await self._service.attachment(
            account, uid, index, folder
        )
        return 200, RawBody(content_type, data, filename=name)

    async def _reply(
        self, user_id: str, uid: int, text: str, folder: str | None
    ) -> Answer:
        account = self._service.account(user_id)
        if account is None:
            return _error(404, "CN_JWWX_MAIL_NOT_BOUND", "还没有绑定邮箱")
        await self._service.reply(account, uid, text, folder)
        return 200, {"sent": True}
