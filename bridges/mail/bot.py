# SPDX-License-Identifier: AGPL-3.0-or-later
"""The bot's side: commands an officer types in his reminder chat with the bot.

  未读                 how many mails his inbox has, and how many unread
  回复 <编号> <内容>    a quick reply to that mail, sent over SMTP as him
  提醒 主题|数量        his reminders show sender and subject, or only how many
  解绑                 forget his mailbox (login and sealed password)
  帮助                 the commands

The reply text is his own message in the chat (the homeserver keeps it like any
message he sends); the mail it answers is fetched from the IMAP server for the moment
of sending and not kept."""

import logging
import re
from typing import Any

from bridges.common.bot import InvitedBot
from bridges.common.matrix import BotClient
from bridges.mail.imap import MailError
from bridges.mail.service import (
    HELP,
    LOGIN_REFUSED,
    NOT_BOUND,
    UNAVAILABLE,
    MailService,
)
from bridges.mail.storage import Account

logger = logging.getLogger(__name__)
_REPLY = re.compile(r"^回复\s*(\d{1,10})\s+(.+)$", re.DOTALL)
NO_SUCH_MAIL = "收件箱里没有编号 {uid} 的邮件。"
REPLIED = "已回复邮件 {uid}。"
UNBOUND = "已解除邮箱绑定，不再提醒。"
COUNTS = "收件箱共 {messages} 封邮件，其中未读 {unseen} 封。"
REMINDER_CHOICES = {"主题": "subject", "数量": "count"}
REMINDER_SET = {
    "subject": "以后的新邮件提醒会写发件人和主题。",
    "count": "以后的新邮件提醒只写封数，不写发件人和主题。",
}


def failure_text(error: MailError) -> str:
    if error.kind == "auth":
        return LOGIN_REFUSED
    return UNAVAILABLE


class MailBot(InvitedBot):
    def __init__(self, server_name: str, bot: BotClient, service: MailService):
        super().__init__(server_name, bot)
        self._service = service

    async def _on_message(self, event: dict[str, Any]) -> None:
        sender = str(event.get("sender", ""))
        content = event.get("content") or {}
        if sender == self._bot.user_id or not self._local(sender):
            return
        if content.get("msgtype") != "m.text" or "m.new_content" in content:
            return
        room_id = str(event["room_id"])
        text = str(content.get("body", "")).strip()
        account = self._service.account(sender)
        if account is None:
            await self._service.notice(room_id, NOT_BOUND)
            return
        if account.room_id != room_id:
            return  # commands only in his reminder chat
        await self._service.notice(room_id, await self._command(account, text))

    async def _command(self, account: Account, text: str) -> str:
        reply = _REPLY.match(text)
        try:
            if reply is not None:
                uid = int(reply.group(1))
                await self._service.reply(account, uid, reply.group(2).strip())
                return REPLIED.format(uid=uid)
            if text == "未读":
                state = await self._service.status(account)
                return COUNTS.format(messages=state.messages, unseen=state.unseen)
            choice = text.removeprefix("提醒").strip()
            if text.startswith("提醒") and choice in REMINDER_CHOICES:
                reminder = REMINDER_CHOICES[choice]
                self._service.set_reminder(account.user_id, reminder)
                return REMINDER_SET[reminder]
            if text == "解绑":
                self._service.unbind(account.user_id)
                return UNBOUND
        except MailError as e:
            logger.info("command of %s: %s", account.user_id, e)
            if e.kind == "not_found" and reply is not None:
                return NO_SUCH_MAIL.format(uid=reply.group(1))
            if e.kind == "rejected":
                return "邮件服务器拒收了这封回复。"
            return failure_text(e)
        return HELP
