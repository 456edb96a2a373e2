# SPDX-License-Identifier: AGPL-3.0-or-later
"""Passive replies (被动回复消息): an app server may answer a callback POST with an
encrypted reply instead of an empty body or "success"; WeCom then sends that reply to the
officer who wrote. This turns the reply's plaintext XML into a message/send body (text,
image, voice, video, news, markdown), so it is delivered and counted like any message.
"""

from typing import Any
from xml.etree import ElementTree

from modules.openapi.crypto import MsgCrypt, MsgCryptError, parse_xml

MEDIA_REPLIES = {"image": "Image", "voice": "Voice", "video": "Video"}


class ReplyError(ValueError):
    pass


def is_passive_reply(answer: bytes) -> bool:
    """A 2xx answer with something other than nothing or "success" is a reply."""
    return answer.strip() not in (b"", b"success")


def decrypt_reply(crypt: MsgCrypt, answer: bytes) -> str:
    """The reply's plaintext XML, after checking its MsgSignature."""
    try:
        envelope = parse_xml(answer)
        return crypt.decrypt_msg(
            answer,
            envelope.get("MsgSignature", ""),
            envelope.get("TimeStamp", ""),
            envelope.get("Nonce", ""),
        )
    except MsgCryptError as e:
        raise ReplyError(f"reply refused ({e.code}): {e}") from e


def _text(element: ElementTree.Element | None, tag: str) -> str:
    found = None if element is None else element.find(tag)
    return "" if found is None or found.text is None else found.text


def reply_body(xml: str) -> dict[str, Any]:
    """The message/send fields (msgtype and its object) of a reply's plaintext."""
    if "<!DOCTYPE" in xml or "<!ENTITY" in xml:
        raise ReplyError("DTDs are not allowed")
    try:
        root = ElementTree.fromstring(xml)  # noqa: S314 - DTDs refused above
    except ElementTree.ParseError as e:
        raise ReplyError(f"bad reply XML: {e}") from e
    msgtype = _text(root, "MsgType")
    if msgtype in ("text", "markdown"):
        return {"msgtype": msgtype, msgtype: {"content": _text(root, "Content")}}
    if msgtype in MEDIA_REPLIES:
        media = root.find(MEDIA_REPLIES[msgtype])
        payload = {"media_id": _text(media, "MediaId")}
        if msgtype == "video":
            payload["title"] = _text(media, "Title")
            payload["description"] = _text(media, "Description")
        return {"msgtype": msgtype, msgtype: payload}
    if msgtype == "news":
        articles = [
            {
                "title": _text(item, "Title"),
                "description": _text(item, "Description"),
                "url": _text(item, "Url"),
                "picurl": _text(item, "PicUrl"),
            }
            for item in root.iterfind("Articles/item")
        ]
        return {"msgtype": "news", "news": {"articles": articles}}
    raise ReplyError(f"reply MsgType {msgtype or '(none)'} not supported")
