# SPDX-License-Identifier: AGPL-3.0-or-later
"""The bureau's IMAP server, through the standard library's IMAP4 client (blocking:
the bridge calls these in threads). Each call opens a session, does one thing and
logs out, so nothing of a mailbox stays in the bridge between calls.

Reminders and lists read headers with BODY.PEEK (the mail stays unread); reading a
mail fetches BODY[] in a read-write session, which marks it \\Seen on the server as
any mail client would; an attachment is fetched alone, by its section number
(BODYSTRUCTURE, then BODY.PEEK[n]: bridges/mail/parts.py). Folder names travel in
IMAP's modified UTF-7 (RFC 3501 5.1.3: "已发送" is "&XfJT0ZAB-"), through the codec
twisted.mail registers."""

import contextlib
import email
import imaplib
import re
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import default as policy
from typing import Any

from bridges.mail import parts
from bridges.mail.config import ServerConfig

# Registers the "imap4-utf-7" codec (RFC 3501's modified UTF-7 of folder names).
import twisted.mail.imap4  # noqa: F401,E402  isort: skip

HEADERS = "BODY.PEEK[HEADER.FIELDS (FROM SUBJECT DATE)]"
_UID = re.compile(rb"\bUID (\d+)")
_FLAGS = re.compile(rb"\bFLAGS \(([^)]*)\)")
_STATUS = re.compile(rb"\b(UIDVALIDITY|UIDNEXT|MESSAGES|UNSEEN) (\d+)")


class MailError(Exception):
    """kind: "auth" (the server refused the login), "unavailable" (no answer, or
    an error of the server), "not_found" (no mail with that UID)."""

    def __init__(self, kind: str, detail: str) -> None:
        self.kind = kind
        super().__init__(f"{kind}: {detail}")


@dataclass(frozen=True)
class Summary:
    uid: int
    sender: str
    subject: str
    date: str
    seen: bool

    def as_json(self) -> dict[str, Any]:
        return {
            "uid": self.uid,
            "from": self.sender,
            "subject": self.subject,
            "date": self.date,
            "seen": self.seen,
        }


@dataclass(frozen=True)
class Status:
    uid_validity: int
    last_uid: int  # UIDNEXT - 1: every mail up to it exists or was there
    messages: int
    unseen: int


def _open(server: ServerConfig, login: str, password: str) -> imaplib.IMAP4:
    try:
        if server.security == "ssl":
            imap: imaplib.IMAP4 = imaplib.IMAP4_SSL(
                server.host,
                server.port,
                ssl_context=ssl.create_default_context(),
                timeout=server.timeout_seconds,
            )
        else:
            imap = imaplib.IMAP4(server.host, server.port, server.timeout_seconds)
            if server.security == "starttls":
                imap.starttls(ssl.create_default_context())
    except (OSError, imaplib.IMAP4.error) as e:
        raise MailError("unavailable", f"IMAP {server.host}:{server.port}: {e}") from e
    try:
        imap.login(login, password)
    except imaplib.IMAP4.error as e:
        _close(imap)
        # The server's words only: the password is never part of a message.
        raise MailError("auth", f"IMAP login of {login!r} refused") from e
    except OSError as e:
        _close(imap)
        raise MailError("unavailable", f"IMAP login: {e}") from e
    return imap


def _close(imap: imaplib.IMAP4) -> None:
    with contextlib.suppress(OSError, imaplib.IMAP4.error):
        imap.logout()


def _session(server: ServerConfig, login: str, password: str, fn: Any) -> Any:
    imap = _open(server, login, password)
    try:
        return fn(imap)
    except imaplib.IMAP4.error as e:
        raise MailError("unavailable", f"IMAP: {e}") from e
    except (TimeoutError, OSError) as e:
        raise MailError("unavailable", f"IMAP connection: {e}") from e
    finally:
        _close(imap)


def _quoted(mailbox: str) -> str:
    """The folder's name as an IMAP quoted string, in modified UTF-7."""
    name = mailbox.encode("imap4-utf-7").decode("ascii")
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


_LIST = re.compile(rb'^\((?P<flags>[^)]*)\) (?:"(?:[^"\\]|\\.)*"|NIL) (?P<name>.*)$')


def _folder_name(raw: bytes) -> str:
    """A LIST answer's name (an atom or a quoted string) as text."""
    if raw.startswith(b'"') and raw.endswith(b'"') and len(raw) >= 2:
        raw = re.sub(rb"\\(.)", rb"\1", raw[1:-1])
    return raw.decode("imap4-utf-7")


def folders(server: ServerConfig, login: str, password: str) -> list[str]:
    """The names of the folders that can be opened (LIST, without \\Noselect)."""

    def listed(imap: imaplib.IMAP4) -> list[str]:
        kind, data = imap.list()
        if kind != "OK":
            raise MailError("unavailable", f"LIST: {data!r}")
        names = []
        for item in data:
            # A name sent as a literal comes as (line ending in {n}, the name).
            line = item[0] if isinstance(item, tuple) else item
            found = _LIST.match(line) if isinstance(line, bytes) else None
            if found is None or b"\\noselect" in found.group("flags").lower():
                continue
            if isinstance(item, tuple):
                names.append(bytes(item[1]).decode("imap4-utf-7"))
            else:
                names.append(_folder_name(found.group("name")))
        return names

    return _session(server, login, password, listed)


def _status(imap: imaplib.IMAP4, mailbox: str) -> Status:
    kind, data = imap.status(_quoted(mailbox), "(MESSAGES UIDVALIDITY UIDNEXT UNSEEN)")
    if kind == "NO":  # no such folder (or not his)
        raise MailError("not_found", f"STATUS {mailbox}: {data!r}")
    if kind != "OK" or not data or not isinstance(data[0], bytes):
        raise MailError("unavailable", f"STATUS {mailbox}: {kind}")
    found = {k.decode(): int(v) for k, v in _STATUS.findall(data[0])}
    return Status(
        found.get("UIDVALIDITY", 0),
        found.get("UIDNEXT", 1) - 1,
        found.get("MESSAGES", 0),
        found.get("UNSEEN", 0),
    )


def _select(imap: imaplib.IMAP4, mailbox: str, readonly: bool) -> None:
    kind, data = imap.select(_quoted(mailbox), readonly=readonly)
    if kind == "NO":
        raise MailError("not_found", f"SELECT {mailbox}: {data!r}")
    if kind != "OK":
        raise MailError("unavailable", f"SELECT {mailbox}: {data!r}")


def _fetched(data: list[Any]) -> list[tuple[bytes, bytes]]:
    """(the response line, its literal) of each message of a FETCH answer."""
    return [
        (part[0], part[1])
        for part in data
        if isinstance(part, tuple) and len(part) == 2
    ]


def _summary(line: bytes, literal: bytes) -> Summary | None:
    uid = _UID.search(line)
    if uid is None:
        return None
    flags = _FLAGS.search(line)
    headers = email.message_from_bytes(literal, policy=policy)
    return Summary(
        uid=int(uid.group(1)),
        sender=str(headers.get("From", "")),
        subject=str(headers.get("Subject", "")),
        date=str(headers.get("Date", "")),
        seen=bool(flags and b"\\Seen" in flags.group(1)),
    )


def status(server: ServerConfig, login: str, password: str) -> Status:
    """The mailbox's UIDVALIDITY, last UID, size and unread count (checks the login)."""
    return _session(server, login, password, lambda imap: _status(imap, server.mailbox))


def newer(
    server: ServerConfig, login: str, password: str, after_uid: int
) -> tuple[Status, list[Summary]]:
    """The mailbox's status and the headers of the mails with a UID above
    `after_uid` (the caller compares UIDVALIDITY before trusting them)."""

    def fetch(imap: imaplib.IMAP4) -> tuple[Status, list[Summary]]:
        state = _status(imap, server.mailbox)
        if state.last_uid <= after_uid or state.messages == 0:
            return state, []
        _select(imap, server.mailbox, readonly=True)
        kind, data = imap.uid("FETCH", f"{after_uid + 1}:*", f"(UID FLAGS {HEADERS})")
        if kind != "OK":
            raise MailError("unavailable", f"FETCH: {data!r}")
        found = [_summary(line, literal) for line, literal in _fetched(data)]
        # "n:*" names the last mail even when its UID is below n (RFC 3501).
        return state, sorted(
            (s for s in found if s is not None and s.uid > after_uid),
            key=lambda s: s.uid,
        )

    return _session(server, login, password, fetch)


def latest(
    server: ServerConfig,
    login: str,
    password: str,
    limit: int,
    folder: str | None = None,
) -> tuple[Status, list[Summary]]:
    """The newest `limit` mails' headers, newest first (of `folder`, else the
    configured mailbox)."""
    mailbox = folder or server.mailbox

    def fetch(imap: imaplib.IMAP4) -> tuple[Status, list[Summary]]:
        state = _status(imap, mailbox)
        if state.messages == 0:
            return state, []
        _select(imap, mailbox, readonly=True)
        first = max(1, state.messages - limit + 1)
        kind, data = imap.fetch(f"{first}:*", f"(UID FLAGS {HEADERS})")
        if kind != "OK":
            raise MailError("unavailable", f"FETCH: {data!r}")
        found = [_summary(line, literal) for line, literal in _fetched(data)]
        return state, sorted((s for s in found if s is not None), key=lambda s: -s.uid)

    return _session(server, login, password, fetch)


def message(
    server: ServerConfig,
    login: str,
    password: str,
    uid: int,
    peek: bool = False,
    folder: str | None = None,
) -> tuple[EmailMessage, bool]:
    """The whole mail with this UID (marked \\Seen unless `peek`) and whether it was
    seen before; MailError("not_found") when the folder (or the mailbox) has none."""

    def fetch(imap: imaplib.IMAP4) -> tuple[EmailMessage, bool]:
        _select(imap, folder or server.mailbox, readonly=peek)
        part = "BODY.PEEK[]" if peek else "BODY[]"
        kind, data = imap.uid("FETCH", str(uid), f"(UID FLAGS {part})")
        if kind != "OK":
            raise MailError("unavailable", f"FETCH: {data!r}")
        for line, literal in _fetched(data):
            found = _UID.search(line)
            if found is not None and int(found.group(1)) == uid:
                flags = _FLAGS.search(line)
                seen = bool(flags and b"\\Seen" in flags.group(1))
                parsed = email.message_from_bytes(literal, policy=policy)
                assert isinstance(parsed, EmailMessage)
                return parsed, seen
        raise MailError("not_found", f"no mail with UID {uid}")

    return _session(server, login, password, fetch)


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes


def attachment(
    server: ServerConfig,
    login: str,
    password: str,
    uid: int,
    index: int,
    max_bytes: int,
    folder: str | None = None,
) -> Attachment:
    """The mail's attachment number `index` (in the order parts.attachments() lists
    them), fetched alone: BODYSTRUCTURE names its section, then BODY.PEEK[n.MIME] and
    BODY.PEEK[n] bring its headers and content (the mail stays unread, its other
    parts stay on the server). MailError not_found (no such mail or attachment) or
    too_large (above max_bytes decoded; refused before fetching when its encoded size
    already says so)."""

    def fetch(imap: imaplib.IMAP4) -> Attachment:
        _select(imap, folder or server.mailbox, readonly=True)
        structure = _items(imap, uid, "(UID BODYSTRUCTURE)").get("BODYSTRUCTURE")
        if not isinstance(structure, list):
            raise MailError("unavailable", f"no BODYSTRUCTURE of mail {uid}")
        try:
            found = parts.structure_attachments(structure)
        except parts.StructureError as e:
            raise MailError("unavailable", f"BODYSTRUCTURE of mail {uid}: {e}") from e
        if not 0 <= index < len(found):
            raise MailError("not_found", f"mail {uid} has no attachment {index}")
        part = found[index]
        if part.smallest_decoded() > max_bytes:
            raise MailError("too_large", f"attachment of {part.size} octets encoded")
        mime, body = f"BODY[{part.number}.MIME]", f"BODY[{part.number}]"
        items = _items(
            imap, uid, f"(UID BODY.PEEK[{part.number}.MIME] BODY.PEEK[{part.number}])"
        )
        return _decoded(items.get(mime), items.get(body), index, max_bytes)

    return _session(server, login, password, fetch)


def _items(imap: imaplib.IMAP4, uid: int, query: str) -> dict[str, Any]:
    """The FETCH items of the mail with this UID; MailError not_found without it."""
    kind, data = imap.uid("FETCH", str(uid), query)
    if kind != "OK":
        raise MailError("unavailable", f"FETCH: {data!r}")
    try:
        answers = parts.fetched_items(data)
    except parts.StructureError as e:
        raise MailError("unavailable", f"FETCH of mail {uid}: {e}") from e
    for items in answers:
        if parts.text(items.get("UID")) == str(uid):
            return items
    raise MailError("not_found", f"no mail with UID {uid}")


def _raw(item: Any) -> bytes:
    if isinstance(item, bytes):
        return item
    return b"" if item is None else str(item).encode("utf-8")


def _decoded(mime: Any, body: Any, index: int, max_bytes: int) -> Attachment:
    headers = _raw(mime).rstrip(b"\r\n")
    if not headers:
        raise MailError("unavailable", f"no MIME header of attachment {index}")
    part = email.message_from_bytes(headers + b"\r\n\r\n" + _raw(body), policy=policy)
    assert isinstance(part, EmailMessage)
    if part.get_content_maintype() in ("message", "multipart"):
        data = _raw(body)  # an attached mail: handed on as it came
    else:
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
    if len(data) > max_bytes:
        raise MailError("too_large", f"attachment of {len(data)} bytes")
    return Attachment(
        part.get_filename() or f"attachment-{index}", part.get_content_type(), data
    )
