# SPDX-License-Identifier: AGPL-3.0-or-later
"""A mail's attachments, numbered the way IMAP numbers body parts (RFC 3501 6.4.5),
so that one can be fetched alone (BODY.PEEK[2], BODY.PEEK[1.3]) instead of the whole
mail. The same rule picks them from a parsed mail (reading it: the list the officer
sees) and from the server's BODYSTRUCTURE (downloading one): the leaves of the MIME
tree, depth first, that are not body text — a part marked as an attachment, or with
a file name, or whose type is not text/*. An attached mail (message/rfc822) is one
attachment; its own parts are not listed."""

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any


@dataclass(frozen=True)
class Part:
    number: str  # IMAP's section number: "2", "1.3"
    encoding: str  # Content-Transfer-Encoding, lower case ("base64", "7bit", …)
    size: int  # octets as sent (encoded), BODYSTRUCTURE's body size

    def smallest_decoded(self) -> int:
        """A lower bound of the decoded size (to refuse before fetching)."""
        if self.encoding == "base64":
            return self.size * 57 // 78 - 3  # 76 characters and CRLF per 57 octets
        if self.encoding == "quoted-printable":
            return self.size // 3
        return self.size


def is_attachment(maintype: str, disposition: str | None, named: bool) -> bool:
    return disposition == "attachment" or named or maintype != "text"


def _leaves(mail: EmailMessage, number: str) -> Iterator[tuple[str, EmailMessage]]:
    if mail.get_content_maintype() != "multipart":
        yield number or "1", mail
        return
    for i, sub in enumerate(mail.iter_parts(), 1):
        assert isinstance(sub, EmailMessage)
        yield from _leaves(sub, f"{number}.{i}" if number else str(i))


def attachments(mail: EmailMessage) -> list[tuple[str, EmailMessage]]:
    """(section number, part) of each attachment of a parsed mail, in order."""
    return [
        (number, part)
        for number, part in _leaves(mail, "")
        if is_attachment(
            part.get_content_maintype(),
            part.get_content_disposition(),
            part.get_filename() is not None,
        )
    ]


# --- BODYSTRUCTURE -----------------------------------------------------------------

_TOKEN = re.compile(rb'\s*(?:(\()|(\))|"((?:[^"\\]|\\.)*)"|\{(\d+)\}\r\n|([^\s()"{]+))')


class StructureError(ValueError):
    pass


def parse_list(data: bytes) -> list[Any]:
    """An IMAP answer's items (atoms, numbers and quoted strings as text, literals as
    bytes, NIL as None, parenthesised lists as lists)."""
    stack: list[list[Any]] = [[]]
    at = 0
    while at < len(data):
        if data[at:].isspace():
            break
        m = _TOKEN.match(data, at)
        if m is None:
            raise StructureError(f"cannot read the answer at {data[at : at + 20]!r}")
        at = m.end()
        opening, closing, quoted, literal, atom = m.groups()
        if opening:
            stack.append([])
        elif closing:
            if len(stack) == 1:
                raise StructureError("unbalanced parentheses")
            done = stack.pop()
            stack[-1].append(done)
        elif quoted is not None:
            text = re.sub(rb"\\(.)", rb"\1", quoted)
            stack[-1].append(text.decode("utf-8", "replace"))
        elif literal is not None:  # kept as bytes: a body part may be binary
            size = int(literal)
            stack[-1].append(data[at : at + size])
            at += size
        else:
            word = atom.decode("ascii", "replace")
            stack[-1].append(None if word.upper() == "NIL" else word)
    if len(stack) != 1:
        raise StructureError("unbalanced parentheses")
    return stack[0]


def text(item: Any) -> str:
    """A string item (quoted or a literal) as text; "" for NIL."""
    if isinstance(item, bytes):
        return item.decode("utf-8", "replace")
    return "" if item is None else str(item)


def _pairs(items: Any) -> dict[str, str]:
    if not isinstance(items, list):
        return {}
    return {
        text(k).lower(): text(v) for k, v in zip(items[::2], items[1::2], strict=False)
    }


def _named(*params: dict[str, str]) -> bool:
    return any(
        key.startswith(("filename", "name")) for found in params for key in found
    )


def _leaf(body: list[Any], number: str) -> tuple[Part, bool]:
    """(the part, whether it is an attachment) of a one-part body."""
    maintype, subtype = text(body[0]).lower(), text(body[1]).lower()
    try:
        size = int(body[6])
    except (IndexError, TypeError, ValueError) as e:
        raise StructureError(f"part {number}: no size") from e
    # The extension data (MD5, disposition, …) follow the type's own fields.
    if maintype == "text":
        extension = 8
    elif (maintype, subtype) == ("message", "rfc822"):
        extension = 10
    else:
        extension = 7
    found = body[extension + 1] if len(body) > extension + 1 else None
    disposition, params = None, {}
    if isinstance(found, list) and found:
        disposition = text(found[0]).split(";")[0].strip().lower()
        params = _pairs(found[1] if len(found) > 1 else None)
    part = Part(number, (text(body[5]) or "7bit").lower(), size)
    named = _named(_pairs(body[2]), params)
    return part, is_attachment(maintype, disposition, named)


def _is_list(item: Any) -> bool:
    return isinstance(item, list)


def structure_attachments(body: list[Any], number: str = "") -> list[Part]:
    """The attachments of a BODYSTRUCTURE, in the order attachments() gives them."""
    if body and isinstance(body[0], list):  # multipart: the parts, then the subtype
        found: list[Part] = []
        # Only the leading lists are parts (the extension data may hold lists too).
        for i, child in enumerate(itertools.takewhile(_is_list, body), 1):
            found += structure_attachments(child, f"{number}.{i}" if number else str(i))
        return found
    if len(body) < 7:
        raise StructureError(f"part {number or '1'}: too few fields")
    part, attached = _leaf(body, number or "1")
    return [part] if attached else []


def fetched_items(data: list[Any]) -> list[dict[str, Any]]:
    """Each message's FETCH items of an imaplib answer, {"UID": "5", "BODYSTRUCTURE":
    [...], "BODY[2]": "…"}: the answer's lines and literals joined again."""
    raw = b""
    for item in data:
        if isinstance(item, tuple) and len(item) == 2:
            raw += bytes(item[0]) + b"\r\n" + bytes(item[1])
        elif isinstance(item, bytes):
            raw += item + b" "
    parsed = parse_list(raw)
    messages = []
    for item in parsed:
        if isinstance(item, list):
            pairs = zip(item[::2], item[1::2], strict=False)
            messages.append({text(k).upper(): v for k, v in pairs})
    return messages
