# SPDX-License-Identifier: AGPL-3.0-or-later
"""The bureau's mail system for the tests: a real IMAP4rev1 server (twisted.mail's
IMAP4Server over TCP, in the test's reactor, with a portal that checks passwords) and
a real SMTP server (aiosmtpd in a thread, AUTH LOGIN/PLAIN without TLS on loopback).
It offers IDLE (RFC 2177): a session in IDLE on a mailbox is told of each new mail —
except to logins beginning "noidle", whose CAPABILITY after login lacks IDLE (a server
without it, for the bridge's fallback to polling).
It runs as its own process (`main`); the mailboxes live in its memory, and a mail
sent to a known login over SMTP lands in that login's INBOX as the bureau's MTA would:
the tests deliver mail by SMTP and look at what arrived over IMAP."""

import email
import email.message
import email.policy
import io
import re
import sys
from email.utils import formatdate
from typing import Any

from twisted.cred import checkers, portal
from twisted.internet import defer, protocol
from twisted.internet import reactor as installed
from twisted.mail import imap4

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from zope.interface import implementer

reactor: Any = installed


def _unfolded(value: str) -> str:
    return re.sub(r"\r?\n[ \t]+", " ", value)


@implementer(imap4.IMessagePart)
class MimePart:
    """A part of a stored mail as twisted.mail's server walks it (BODYSTRUCTURE and
    BODY[n] sections), like a real server: headers unfolded, bodies as sent."""

    def __init__(self, parsed: email.message.Message) -> None:
        self.parsed = parsed

    def getHeaders(self, negate: bool, *names: Any) -> dict[str, str]:
        wanted = {
            n.decode().lower() if isinstance(n, bytes) else n.lower() for n in names
        }
        return {
            k.lower(): _unfolded(str(v))
            for k, v in self.parsed.items()
            if not names or ((k.lower() in wanted) != negate)
        }

    def body(self) -> bytes:
        payload = self.parsed.get_payload()
        if isinstance(payload, str):  # an 8bit text comes back decoded: encode again
            charset = self.parsed.get_content_charset() or "utf-8"
            return payload.encode(charset, "surrogateescape")
        data = self.parsed.as_bytes()
        return data.split(b"\n\n", 1)[-1] if b"\n\n" in data else b""

    def getBodyFile(self) -> io.BytesIO:
        return io.BytesIO(self.body())

    def getSize(self) -> int:
        return len(self.body())

    def isMultipart(self) -> bool:
        return self.parsed.is_multipart()

    def getSubPart(self, part: int) -> Any:
        payload = self.parsed.get_payload()
        if not isinstance(payload, list) or not 0 <= part < len(payload):
            raise IndexError(part)
        return MimePart(payload[part])


@implementer(imap4.IMessage, imap4.IMessageFile)
class StoredMail(MimePart):
    def __init__(self, uid: int, data: bytes) -> None:
        super().__init__(email.message_from_bytes(data, policy=email.policy.compat32))
        self.uid = uid
        self.data = data
        self.flags: set[str] = set()
        self.date = formatdate()

    def open(self) -> io.BytesIO:
        """The mail as it came (BODY[]), not rebuilt from its parts."""
        return io.BytesIO(self.data)

    def getBodyFile(self) -> io.BytesIO:
        return io.BytesIO(self.data.split(b"\r\n\r\n", 1)[-1])

    def getSize(self) -> int:
        return len(self.data)

    def getUID(self) -> int:
        return self.uid

    def getFlags(self) -> list[str]:
        return sorted(self.flags)

    def getInternalDate(self) -> str:
        return self.date


@implementer(imap4.IMailbox)
class Mailbox:
    def __init__(self, uid_validity: int) -> None:
        self.uid_validity = uid_validity
        self.mails: list[StoredMail] = []
        self.next_uid = 1
        self.listeners: list[Any] = []

    def add(self, data: bytes) -> int:
        self.mails.append(StoredMail(self.next_uid, data))
        self.next_uid += 1
        # Sessions that selected the mailbox hear "* n EXISTS" (at once while in
        # IDLE: twisted.mail's IMAP4Server speaks RFC 2177 and sends it unasked).
        for listener in list(self.listeners):
            listener.newMessages(len(self.mails), None)
        return self.next_uid - 1

    def getFlags(self) -> list[str]:
        return ["\\Seen", "\\Answered", "\\Flagged", "\\Deleted", "\\Draft"]

    def getHierarchicalDelimiter(self) -> str:
        return "/"

    def getUIDValidity(self) -> int:
        return self.uid_validity

    def getUIDNext(self) -> int:
        return self.next_uid

    def getUID(self, message: int) -> int:
        return self.mails[message - 1].uid

    def getMessageCount(self) -> int:
        return len(self.mails)

    def getRecentCount(self) -> int:
        return 0

    def getUnseenCount(self) -> int:
        return sum(1 for m in self.mails if "\\Seen" not in m.flags)

    def isWriteable(self) -> bool:
        return True

    def destroy(self) -> None:
        self.mails = []

    def requestStatus(self, names: list[str]) -> dict[str, int]:
        return imap4.statusRequestHelper(self, names)

    def addListener(self, listener: Any) -> None:
        self.listeners.append(listener)

    def removeListener(self, listener: Any) -> None:
        self.listeners.remove(listener)

    def addMessage(self, message: Any, flags: Any = (), date: Any = None) -> Any:
        """APPEND (IMAP4Server wants a Deferred of the UID)."""
        uid = self.add(message.read())
        self.mails[-1].flags = {str(f) for f in flags or ()}
        return defer.succeed(uid)

    def expunge(self) -> list[int]:
        return []

    def fetch(self, messages: imap4.MessageSet, uid: bool) -> list[tuple[int, Any]]:
        if not self.mails:
            return []
        numbered = list(enumerate(self.mails, start=1))
        messages.last = self.mails[-1].uid if uid else len(self.mails)
        wanted = set(messages)
        return [(n, m) for n, m in numbered if (m.uid if uid else n) in wanted]

    def store(self, messages: Any, flags: Any, mode: int, uid: bool) -> dict[int, Any]:
        changed = {}
        for n, mail in self.fetch(messages, uid):
            names = {f.decode() if isinstance(f, bytes) else f for f in flags}
            if mode == 0:
                mail.flags = names
            elif mode > 0:
                mail.flags |= names
            else:
                mail.flags -= names
            changed[n] = mail.getFlags()
        return changed


SENT = "已发送"  # a second folder every login has (a non-ASCII name: modified UTF-7)


class Account(imap4.MemoryAccountWithoutNamespaces):
    def __init__(self, name: str, inbox: Mailbox, sent: Mailbox) -> None:
        super().__init__(name)
        self.addMailbox("INBOX", inbox)
        self.addMailbox(SENT, sent)


@implementer(portal.IRealm)
class Realm:
    def __init__(self, system: "MailSystem") -> None:
        self._system = system

    def requestAvatar(self, avatar_id: Any, mind: Any, *interfaces: Any) -> Any:
        name = avatar_id.decode() if isinstance(avatar_id, bytes) else avatar_id
        system = self._system
        account = Account(name, system.inbox(name), system.sent[name])
        return imap4.IAccount, account, lambda: None


class ImapServer(imap4.IMAP4Server):
    def lineReceived(self, line: bytes) -> Any:
        # What the bridge fetched, for the tests to check (FETCH commands only).
        log = self.factory.system.fetch_log
        if log is not None and b" FETCH " in line.upper():
            with open(log, "ab") as out:
                out.write(line.split(b" ", 1)[-1] + b"\n")
        return super().lineReceived(line)

    def capabilities(self) -> dict[bytes, Any]:
        offered: dict[bytes, Any] = super().capabilities()
        account = self.account
        if account is not None and str(account.name).startswith("noidle"):
            offered.pop(b"IDLE", None)
        return offered


class ImapFactory(protocol.ServerFactory):
    def __init__(self, system: "MailSystem") -> None:
        checker: Any = system.checker
        realm: Any = Realm(system)
        self.portal = portal.Portal(realm, [checker])
        self.system = system

    def buildProtocol(self, addr: Any) -> imap4.IMAP4Server:
        server: Any = ImapServer()
        server.portal = self.portal
        server.factory = self
        self.system.sessions += 1
        return server


class Mta:
    """aiosmtpd handler and authenticator: a mail to a known login lands in its
    INBOX (through the reactor); AUTH is checked against the same passwords, and the
    login a mail was submitted with is recorded as X-Authenticated-As."""

    def __init__(self, system: "MailSystem") -> None:
        self._system = system

    def __call__(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        if isinstance(data, LoginPassword):
            login, password = data.login.decode(), data.password.decode()
            if self._system.passwords.get(login) == password:
                return AuthResult(success=True, auth_data=login)
        return AuthResult(success=False, handled=False)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address not in self._system.passwords:
            return "550 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        who = str(session.auth_data or "")
        data = f"X-Authenticated-As: {who}\r\n".encode() + envelope.original_content
        for address in envelope.rcpt_tos:
            reactor.callFromThread(self._system.inbox(address).add, data)
        return "250 OK"


class MailSystem:
    def __init__(self, imap_port: int, smtp_port: int) -> None:
        self.imap_port = imap_port
        self.smtp_port = smtp_port
        self.passwords: dict[str, str] = {}
        self.boxes: dict[str, Mailbox] = {}
        self.sent: dict[str, Mailbox] = {}
        self.sessions = 0
        self.fetch_log: str | None = None  # a file each FETCH command is added to
        self.checker = checkers.InMemoryUsernamePasswordDatabaseDontUse()

    def add_user(self, login: str, password: str, uid_validity: int = 1) -> None:
        self.passwords[login] = password
        self.checker.addUser(login.encode(), password.encode())
        self.boxes[login] = Mailbox(uid_validity)
        self.sent[login] = Mailbox(uid_validity)

    def inbox(self, login: str) -> Mailbox:
        return self.boxes[login]

    def run(self) -> None:
        reactor.listenTCP(self.imap_port, ImapFactory(self), interface="127.0.0.1")
        mta = Mta(self)
        smtp = Controller(
            mta,
            hostname="127.0.0.1",
            port=self.smtp_port,
            authenticator=mta,
            auth_require_tls=False,
        )
        smtp.start()
        try:
            reactor.run()
        finally:
            smtp.stop()


def main() -> None:
    """python -m tests.bridges.mail.standin IMAP_PORT SMTP_PORT [--fetch-log=FILE]
    LOGIN=PASSWORD..."""
    system = MailSystem(int(sys.argv[1]), int(sys.argv[2]))
    users = sys.argv[3:]
    if users and users[0].startswith("--fetch-log="):
        system.fetch_log = users.pop(0).partition("=")[2]
    for pair in users:
        login, _, password = pair.partition("=")
        system.add_user(login, password)
    system.run()


if __name__ == "__main__":
    main()
