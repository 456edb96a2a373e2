# SPDX-License-Identifier: AGPL-3.0-or-later
"""What the mail bridge does for an officer: bind his mailbox (the login is checked on
the IMAP server, the password sealed), remind him of new mail in a chat of two with the
bot, list and read his mail live, and send a quick reply. Mails pass through memory
only: nothing of a mail is written to disk here, nor sent to the homeserver except the
reminder (sender and subject, or only a count: `reminder`)."""

import logging
from email.message import EmailMessage
from typing import Any

from twisted.internet import defer, threads

from prometheus_client import CollectorRegistry, Counter, Gauge

from bridges.common.matrix import BotClient
from bridges.mail import imap, parts, smtp
from bridges.mail.config import MailConfig
from bridges.mail.idle import IdleWatcher
from bridges.mail.imap import MailError, Summary
from bridges.mail.storage import Account, MailStore

logger = logging.getLogger(__name__)
MAX_REMINDERS = 10  # per mailbox and check; more are counted in one line
WELCOME = (
    "邮箱 {login} 已绑定。有新邮件时我会在这里提醒您；在邮件页面阅读。"
    "快速回复：发送「回复 邮件编号 内容」；发送「未读」查看未读数量；"
    "「解绑」解除绑定。"
)
HELP = (
    "可用命令：「未读」、「回复 邮件编号 内容」、「提醒 主题」或「提醒 数量」"
    "（提醒里是否写发件人和主题）、「解绑」。邮件内容请在邮件页面阅读。"
)
NOT_BOUND = "您还没有绑定邮箱（在邮件页面绑定）。"
UNAVAILABLE = "邮件服务器暂时无法访问，请稍后再试。"
LOGIN_REFUSED = "邮件服务器拒绝了登录（密码可能已修改），请在邮件页面重新绑定邮箱。"


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.checks = Counter(
            "jwwx_mail_checks", "mailbox checks", ["result"], registry=self.registry
        )
        self.reminders = Counter(
            "jwwx_mail_reminders", "new-mail reminders sent", registry=self.registry
        )
        self.reads = Counter(
            "jwwx_mail_reads", "mails read", ["result"], registry=self.registry
        )
        self.replies = Counter(
            "jwwx_mail_replies", "quick replies", ["result"], registry=self.registry
        )
        self.idle_sessions = Gauge(
            "jwwx_mail_idle_sessions",
            "mailboxes with an IMAP IDLE session open now (the others are polled)",
            registry=self.registry,
        )
        self.idle_wakeups = Counter(
            "jwwx_mail_idle_wakeups",
            "new mail told by the IMAP server over IDLE",
            registry=self.registry,
        )


def _text(mail: EmailMessage, limit: int) -> tuple[str, bool]:
    """The mail's readable text (plain preferred, else HTML) and whether it was cut."""
    body = mail.get_body(preferencelist=("plain", "html"))
    text = ""
    if body is not None:
        try:
            text = str(body.get_content())
        except (LookupError, ValueError):
            payload = body.get_payload(decode=True)
            text = (
                payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
            )

    return text[:limit], len(text) > limit


def mail_json(uid: int, mail: EmailMessage, limit: int) -> dict[str, Any]:
    text, cut = _text(mail, limit)
    body = mail.get_body(preferencelist=("plain", "html"))
    return {
        "uid": uid,
        "from": str(mail.get("From", "")),
        "to": str(mail.get("To", "")),
        "cc": str(mail.get("Cc", "")),
        "subject": str(mail.get("Subject", "")),
        "date": str(mail.get("Date", "")),
        "content_type": body.get_content_type() if body is not None else "text/plain",
        "text": text,
        "truncated": cut,
        "attachments": [
            {
                "filename": part.get_filename() or "",
                "content_type": part.get_content_type(),
                "size": len(part.get_payload(decode=True) or b""),
            }
            for _number, part in parts.attachments(mail)
        ],
    }


class MailService:
    def __init__(self, config: MailConfig, bot: BotClient, store: MailStore) -> None:
        self.config = config
        self._config = config
        self._bot = bot
        self._store = store
        self.metrics = Metrics()
        # Checks at once, whether from the poll round or an IDLE wake-up.
        self._gate = defer.DeferredSemaphore(config.check_concurrency)
        self._checking: set[str] = set()  # a check of the mailbox runs now
        self._again: set[str] = set()  # … and another must follow it
        self._failed: set[str] = set()  # its last check failed: polled
        self.watcher: IdleWatcher | None = None
        if config.idle:
            self.watcher = IdleWatcher(
                config.imap,
                config.idle_renew_seconds,
                config.idle_max_sessions,
                config.check_concurrency,
                config.poll_interval_seconds,
                self.kick,
            )
            self.watcher.on_idling = self.metrics.idle_sessions.set
            self.watcher.on_wakeup = self.metrics.idle_wakeups.inc

    def account(self, user_id: str) -> Account | None:
        return self._store.get(user_id)

    def address(self, login: str) -> str:
        if "@" in login or self._config.address_domain is None:
            return login
        return f"{login}@{self._config.address_domain}"

    async def bind(self, user_id: str, login: str, password: str) -> Account:
        """Check the login on the IMAP server, then keep it (sealed); reminders start
        after the mail already there. MailError when the server refuses or is down."""
        state = await threads.deferToThread(
            imap.status, self._config.imap, login, password
        )
        old = self._store.get(user_id)
        room_id = old.room_id if old is not None else None
        if room_id is None:
            room_id = await self._bot.direct_chat(user_id, "邮件提醒")
        account = Account(
            user_id,
            login,
            password,
            room_id,
            state.uid_validity,
            state.last_uid,
            old.reminder if old is not None else None,
        )
        self._store.put(account)
        if self.watcher is not None:
            self.watcher.watch(user_id, login, password)
        await self.notice(room_id, WELCOME.format(login=login))
        return account

    async def status(self, account: Account) -> imap.Status:
        return await threads.deferToThread(
            imap.status, self._config.imap, account.login, account.password
        )

    def unbind(self, user_id: str) -> bool:
        if self.watcher is not None:
            self.watcher.unwatch(user_id)
        return self._store.delete(user_id)

    async def folders(self, account: Account) -> list[str]:
        return await threads.deferToThread(
            imap.folders, self._config.imap, account.login, account.password
        )

    async def latest(
        self, account: Account, limit: int, folder: str | None = None
    ) -> tuple[imap.Status, list[Summary]]:
        return await threads.deferToThread(
            imap.latest,
            self._config.imap,
            account.login,
            account.password,
            limit,
            folder,
        )

    async def read(
        self, account: Account, uid: int, folder: str | None = None
    ) -> dict[str, Any]:
        try:
            mail, _seen = await self._message(account, uid, False, folder)
        except MailError as e:
            self.metrics.reads.labels(e.kind).inc()
            raise
        self.metrics.reads.labels("ok").inc()
        return mail_json(uid, mail, self._config.max_body_chars)

    async def _message(
        self, account: Account, uid: int, peek: bool, folder: str | None
    ) -> tuple[EmailMessage, bool]:
        """One mail fetched live over IMAP in a thread: (message, seen before)."""
        return await threads.deferToThread(
            imap.message,
            self._config.imap,
            account.login,
            account.password,
            uid,
            peek,
            folder,
        )

    async def attachment(
        self, account: Account, uid: int, index: int, folder: str | None = None
    ) -> tuple[str, str, bytes]:
        """(filename, content type, bytes) of the mail's attachment number `index`
        (as listed by read()), fetched alone over IMAP and handed on, never kept;
        MailError not_found (no such mail or attachment) or too_large."""
        try:
            found = await threads.deferToThread(
                imap.attachment,
                self._config.imap,
                account.login,
                account.password,
                uid,
                index,
                self._config.max_attachment_bytes,
                folder,
            )
        except MailError as e:
            self.metrics.reads.labels(f"attachment_{e.kind}").inc()
            raise
        self.metrics.reads.labels("attachment_ok").inc()
        return found.filename, found.content_type, found.data

    async def reply(
        self, account: Account, uid: int, text: str, folder: str | None = None
    ) -> None:
        try:
            original, _seen = await self._message(account, uid, True, folder)
            answer = smtp.reply_to(original, self.address(account.login), text)
            await threads.deferToThread(
                smtp.send, self._config.smtp, account.login, account.password, answer
            )
        except MailError as e:
            self.metrics.replies.labels(e.kind).inc()
            raise
        self.metrics.replies.labels("ok").inc()

    async def notice(self, room_id: str, text: str) -> None:
        await self._bot.send(room_id, {"msgtype": "m.notice", "body": text})

    # New-mail reminders.

    def watch_all(self) -> None:
        """IDLE sessions for exactly the bound mailboxes (at start, each round)."""
        if self.watcher is not None:
            self.watcher.sync(
                {a.user_id: (a.login, a.password) for a in self._store.all()}
            )

    async def check_all(self) -> None:
        """One poll round: every bound mailbox without a live IDLE session (or whose
        last check failed) is checked, `check_concurrency` at a time."""
        self.watch_all()
        watcher = self.watcher
        todo = [
            a.user_id
            for a in self._store.all()
            if watcher is None
            or not watcher.idling(a.user_id)
            or a.user_id in self._failed
        ]
        await defer.gatherResults(
            [defer.ensureDeferred(self.check_user(user_id)) for user_id in todo]
        )

    def kick(self, user_id: str) -> None:
        """Check this mailbox now (its IDLE session heard of new mail)."""
        defer.ensureDeferred(self.check_user(user_id))

    async def check_user(self, user_id: str) -> None:
        """Check the mailbox unless a check of it runs already: then once more after
        that one, so that no mail is missed and none is reminded of twice."""
        if user_id in self._checking:
            self._again.add(user_id)
            return
        self._checking.add(user_id)
        try:
            while True:
                self._again.discard(user_id)
                account = self._store.get(user_id)
                if account is None:
                    return
                await self._gate.run(
                    lambda a: defer.ensureDeferred(self._check_one(a)), account
                )
                if user_id not in self._again:
                    return
        finally:
            self._checking.discard(user_id)

    async def _check_one(self, account: Account) -> None:
        try:
            await self.check(account)
            self._failed.discard(account.user_id)
            return
        except MailError as e:
            self.metrics.checks.labels(e.kind).inc()
            logger.warning("mailbox of %s: %s", account.user_id, e)
        except Exception:
            self.metrics.checks.labels("error").inc()
            logger.exception("mailbox of %s", account.user_id)
        self._failed.add(account.user_id)

    async def check(self, account: Account) -> None:
        state, found = await threads.deferToThread(
            imap.newer,
            self._config.imap,
            account.login,
            account.password,
            account.last_uid,
        )
        self.metrics.checks.labels("ok").inc()
        if state.uid_validity != account.uid_validity:
            # The server renumbered the mailbox: old UIDs mean nothing; start afresh.
            self._store.seen(account.user_id, state.uid_validity, state.last_uid)
            return
        if not found:
            if state.last_uid > account.last_uid:
                self._store.seen(account.user_id, state.uid_validity, state.last_uid)
            return
        await self._remind(account, found)
        self._store.seen(
            account.user_id,
            state.uid_validity,
            max(state.last_uid, max(s.uid for s in found)),
        )

    def set_reminder(self, user_id: str, reminder: str) -> bool:
        """The officer's own choice of what his reminders show."""
        return self._store.set_reminder(user_id, reminder)

    def reminder(self, account: Account) -> str:
        return account.reminder or self._config.reminder

    async def _remind(self, account: Account, found: list[Summary]) -> None:
        if self.reminder(account) == "count":
            await self.notice(account.room_id, f"您有 {len(found)} 封新邮件。")
            self.metrics.reminders.inc()
            return
        for summary in found[:MAX_REMINDERS]:
            await self.notice(
                account.room_id,
                f"新邮件（编号 {summary.uid}）\n发件人：{summary.sender}\n"
                f"主题：{summary.subject or '（无主题）'}",
            )
            self.metrics.reminders.inc()
        if len(found) > MAX_REMINDERS:
            await self.notice(
                account.room_id, f"另有 {len(found) - MAX_REMINDERS} 封新邮件。"
            )
