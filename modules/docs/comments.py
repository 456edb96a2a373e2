# SPDX-License-Identifier: AGPL-3.0-or-later
"""Comments on a range of a document.

A comment lives in the document itself, in its Yjs map "comments" (comment id → a
JSON object), so every open editor receives it as an ordinary update and it is sealed
and chained with the content, kept by restores (a restore copies the content roots
only) and found by the verifier like any revision. Only the server writes it, on an
officer's request over HTTP, so commenters (who may not send updates on the socket)
can comment and a comment's author is the caller's Matrix identity:

POST   {doc_id}/comments        {body, start, end, quote?}  (commenter or more)
PUT    {doc_id}/comments/{id}   {resolved: bool}            (the author or an editor)
DELETE {doc_id}/comments/{id}                                (the author or an editor)

`start` and `end` are the range's ends as Yjs relative positions (Y.encodeRelativePosition,
base64): they stay on the same characters while others edit around them. They must
decode and point into this document (an item or type it holds, or its root "default"
or "content"); `quote` is the text they covered when the comment was made (for
showing, not checked). Editors may also change the map over the socket like any
content (the audit archive keeps who edited).

    {"id", "author", "body", "quote", "start", "end", "ts", "resolved"}
"""

import base64
import binascii
import secrets
from collections.abc import Callable
from typing import Any

from pycrdt import Doc, Map

from modules.common.errors import error
from modules.common.synapse.errors import Codes

ROOT = "comments"
MAX_BODY = 2000
MAX_QUOTE = 500
MAX_ANCHOR = 1024  # base64 characters of one relative position
MAX_COMMENTS = 5000
CONTENT_ROOTS = ("default", "content")
COMMENT_NOT_FOUND = "CN_JWWX_DOC_COMMENT_NOT_FOUND"


def _text(value: Any, name: str, maximum: int, required: bool) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or len(value) > maximum:
        raise error(400, Codes.INVALID_PARAM, f"{name} 须为至多 {maximum} 个字符")
    value = value.strip()
    if required and not value:
        raise error(400, Codes.INVALID_PARAM, f"{name} 不能为空")
    if any(ord(c) < 32 and c not in "\n\t" for c in value):
        raise error(400, Codes.INVALID_PARAM, f"{name} 含有控制字符")
    return value


class _Reader:
    """lib0's variable-length integers, as Yjs encodes state vectors and positions."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.at = 0

    def byte(self) -> int:
        if self.at >= len(self.data):
            raise ValueError("truncated")
        self.at += 1
        return self.data[self.at - 1]

    def uint(self) -> int:
        value, shift = 0, 0
        while True:
            byte = self.byte()
            value |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                return value
            if shift > 63:
                raise ValueError("integer too long")

    def sint(self) -> int:
        byte = self.byte()
        value, shift, negative = byte & 0x3F, 6, byte & 0x40
        while byte & 0x80:
            byte = self.byte()
            value |= (byte & 0x7F) << shift
            shift += 7
            if shift > 63:
                raise ValueError("integer too long")
        return -value if negative else value

    @property
    def done(self) -> bool:
        return self.at == len(self.data)


def _state_vector(doc: Doc[Any]) -> dict[int, int]:
    """client id → how many of its items the document holds (Yjs' state vector)."""
    reader = _Reader(doc.get_state())
    return {reader.uint(): reader.uint() for _ in range(reader.uint())}


def _position(raw: bytes) -> tuple[str, Any]:
    """A Yjs relative position (Y.encodeRelativePosition): ("item"|"type", (client,
    clock)) or ("tname", root name); ValueError if it is not one."""
    reader = _Reader(raw)
    tag = reader.uint()
    ref: Any
    if tag in (0, 2):
        ref = (reader.uint(), reader.uint())
    elif tag == 1:
        size = reader.uint()
        if size > 255:
            raise ValueError("root name too long")
        ref = bytes(reader.byte() for _ in range(size)).decode("utf-8")
    else:
        raise ValueError("unknown position kind")
    if not reader.done:
        reader.sint()  # assoc
    if not reader.done:
        raise ValueError("trailing bytes")
    return ("item", "tname", "type")[tag], ref


def _anchor(value: Any, name: str, doc: Doc[Any]) -> str:
    """A relative position of this document, as given (base64)."""
    if not isinstance(value, str) or not 0 < len(value) <= MAX_ANCHOR:
        raise error(400, Codes.INVALID_PARAM, f"{name} 须为 Yjs 相对位置（base64）")
    try:
        kind, ref = _position(base64.b64decode(value, validate=True))
    except (binascii.Error, ValueError):
        raise error(
            400, Codes.INVALID_PARAM, f"{name} 不是有效的 Yjs 相对位置"
        ) from None
    if kind == "tname":
        inside = ref in CONTENT_ROOTS
    else:
        client, clock = ref
        inside = clock < _state_vector(doc).get(client, 0)
    if not inside:
        raise error(400, Codes.INVALID_PARAM, f"{name} 不在此文档中")
    return value


def new_comment(
    doc: Doc[Any], author: str, body: dict[str, Any], now: int
) -> dict[str, Any]:
    """The comment a request asks for, checked against the live document."""
    if set(body) - {"body", "start", "end", "quote"}:
        raise error(400, Codes.INVALID_PARAM, "只可有 body、start、end、quote")
    text = _text(body.get("body"), "body", MAX_BODY, True)
    quote = _text(body.get("quote"), "quote", MAX_QUOTE, False)
    start = _anchor(body.get("start"), "start", doc)
    end = _anchor(body.get("end"), "end", doc)
    if len(doc.get(ROOT, type=Map)) >= MAX_COMMENTS:
        raise error(403, Codes.FORBIDDEN, f"评论数已达上限 {MAX_COMMENTS}")
    return {
        "id": secrets.token_urlsafe(9),
        "author": author,
        "body": text,
        "quote": quote,
        "start": start,
        "end": end,
        "ts": now,
        "resolved": False,
    }


def resolved_flag(body: dict[str, Any]) -> bool:
    if set(body) != {"resolved"} or not isinstance(body["resolved"], bool):
        raise error(400, Codes.INVALID_PARAM, "请求体须为 {resolved: true|false}")
    return bool(body["resolved"])


def existing(doc: Doc[Any], comment_id: str) -> dict[str, Any]:
    found = doc.get(ROOT, type=Map).get(comment_id)
    if not isinstance(found, dict):
        raise error(404, COMMENT_NOT_FOUND, "评论不存在")
    return dict(found)


def put(comment: dict[str, Any]) -> Callable[[Doc[Any]], None]:
    def edit(live: Doc[Any]) -> None:
        live.get(ROOT, type=Map)[comment["id"]] = comment

    return edit


def remove(comment_id: str) -> Callable[[Doc[Any]], None]:
    def edit(live: Doc[Any]) -> None:
        del live.get(ROOT, type=Map)[comment_id]

    return edit


def listing(doc: Doc[Any]) -> list[dict[str, Any]]:
    found = [dict(c) for c in doc.get(ROOT, type=Map).values() if isinstance(c, dict)]
    return sorted(found, key=lambda c: (c.get("ts", 0), c.get("id", "")))
