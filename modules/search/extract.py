# SPDX-License-Identifier: AGPL-3.0-or-later
"""What the index keeps of an event of Synapse's stream (pure functions).

- An m.room.message (or m.sticker) becomes a Document: its visible text (body without
  the reply fallback, formatted_body as visible text when it says more, the file name
  and caption of a file), its kind (text, file, image, video, audio…) and file facts.
- An edit (m.replace) becomes an Edit: the original's text is replaced by the new
  content, and the edit itself is not indexed (it would be a second hit). The newest
  edit wins (origin_server_ts, then event id: Synapse's choice); a redacted edit gives
  way to the one before it, or to the original's own text.
- A redaction becomes a Forget of the event it redacts.
- A room's name (m.room.name) and its members (m.room.member: joined or not, display
  name) keep the group search's tables current.
Burn-after-read messages are never indexed (they disappear after reading; what relates
to them finds no original to change). Encrypted events have no text to index.
"""

import html.parser
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from modules.common.markers import BURN_FIELDS

KINDS = {
    "m.text": "text",
    "m.notice": "text",
    "m.emote": "text",
    "m.file": "file",
    "m.image": "image",
    "m.video": "video",
    "m.audio": "audio",
    "m.location": "location",
}
MAX_TEXT = 65536  # an event is at most 64 KiB anyway


@dataclass(frozen=True)
class Document:
    event_id: str
    room_id: str
    sender: str
    origin_ts: int
    kind: str
    msgtype: str
    text: str
    file_name: str | None = None
    mimetype: str | None = None
    mxc: str | None = None


@dataclass(frozen=True)
class Edit:
    event_id: str  # the edit's own id (a redaction of it restores what was before)
    original_id: str
    sender: str
    origin_ts: int
    body: str  # m.new_content's body: what clients show
    text: str  # everything indexed of the new content


@dataclass(frozen=True)
class Forget:
    event_id: str


@dataclass(frozen=True)
class RoomName:
    room_id: str
    name: str  # "" when the name was removed


@dataclass(frozen=True)
class Membership:
    room_id: str
    user_id: str
    joined: bool
    displayname: str | None


Action = Document | Edit | Forget | RoomName | Membership


class _VisibleText(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag == "mx-reply":
            self._skip += 1
        elif tag in ("br", "p", "div", "li", "tr"):
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag == "mx-reply" and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def visible_text(formatted: str) -> str:
    parser = _VisibleText()
    try:
        parser.feed(formatted[:MAX_TEXT])
        parser.close()
    except Exception:  # malformed markup: index none of it rather than fail
        return ""
    return "".join(parser.parts)


def _without_reply_fallback(body: str, content: Mapping[str, Any]) -> str:
    relates = content.get("m.relates_to")
    if not (isinstance(relates, Mapping) and "m.in_reply_to" in relates):
        return body
    lines = body.split("\n")
    while lines and lines[0].startswith(">"):
        lines.pop(0)
    while lines and not lines[0].strip():
        lines.pop(0)
    return "\n".join(lines)


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def content_text(content: Mapping[str, Any]) -> str:
    """The visible text of a message's content (new content of an edit included)."""
    body = _str(content.get("body")) or ""
    body = _without_reply_fallback(body[:MAX_TEXT], content)
    parts = [body]
    formatted = _str(content.get("formatted_body"))
    if formatted and content.get("format") == "org.matrix.custom.html":
        shown = visible_text(formatted).strip()
        if shown and " ".join(shown.split()) != " ".join(body.split()):
            parts.append(shown)
    file_name = _str(content.get("filename"))
    if file_name and file_name != body:
        parts.append(file_name[:1024])
    return "\n".join(p for p in parts if p)


def is_burn(content: Mapping[str, Any]) -> bool:
    return any(field in content for field in BURN_FIELDS)


def _state_action(room_id: str, event: Mapping[str, Any]) -> Action | None:
    content = event.get("content")
    content = content if isinstance(content, Mapping) else {}
    state_key = event.get("state_key")
    if event.get("type") == "m.room.name" and state_key == "":
        name = _str(content.get("name")) or ""
        return RoomName(room_id, name[:255])
    if event.get("type") == "m.room.member" and isinstance(state_key, str):
        shown = _str(content.get("displayname"))
        return Membership(
            room_id,
            state_key,
            content.get("membership") == "join",
            shown[:255] if shown else None,
        )
    return None


def action_of(event_id: str, room_id: str, event: Mapping[str, Any]) -> Action | None:
    """What an event of the stream does to the index (None: nothing)."""
    event_type = event.get("type")
    if "state_key" in event:
        return _state_action(room_id, event)
    if event_type == "m.room.redaction":
        content = event.get("content")
        redacts = event.get("redacts")
        if isinstance(content, Mapping) and isinstance(content.get("redacts"), str):
            redacts = content["redacts"]
        return Forget(redacts) if isinstance(redacts, str) else None
    if event_type not in ("m.room.message", "m.sticker"):
        return None
    content = event.get("content")
    sender = event.get("sender")
    if not isinstance(content, Mapping) or not isinstance(sender, str):
        return None
    if is_burn(content):
        return None
    ts = event.get("origin_server_ts")
    ts = ts if isinstance(ts, int) and not isinstance(ts, bool) else 0
    relates = content.get("m.relates_to")
    if isinstance(relates, Mapping) and relates.get("rel_type") == "m.replace":
        original = relates.get("event_id")
        new = content.get("m.new_content")
        if isinstance(original, str) and isinstance(new, Mapping) and not is_burn(new):
            body = (_str(new.get("body")) or "")[:MAX_TEXT]
            return Edit(event_id, original, sender, ts, body, content_text(new))
        return None
    msgtype = "m.sticker" if event_type == "m.sticker" else content.get("msgtype")
    if not isinstance(msgtype, str):
        return None
    kind = "image" if msgtype == "m.sticker" else KINDS.get(msgtype, "other")
    file_name = mimetype = mxc = None
    if kind in ("file", "image", "video", "audio"):
        file_name = _str(content.get("filename")) or _str(content.get("body"))
        info = content.get("info")
        if isinstance(info, Mapping):
            mimetype = _str(info.get("mimetype"))
        url = _str(content.get("url"))
        mxc = url if url and url.startswith("mxc://") else None
    return Document(
        event_id,
        room_id,
        sender,
        ts,
        kind,
        msgtype,
        content_text(content),
        file_name[:1024] if file_name else None,
        mimetype[:255] if mimetype else None,
        mxc[:1024] if mxc else None,
    )
