# SPDX-License-Identifier: AGPL-3.0-or-later
"""The input boundary: one place that reads what a request carries (path segments,
query parameters, JSON bodies) and parses ids, integers and bounded strings.

What it refuses, on every engine and in both dialects:
- NUL characters and lone UTF-16 surrogates in any text (PostgreSQL cannot store NUL,
  and a surrogate cannot be encoded into the answer);
- bodies over the size limit, JSON nested deeper than MAX_JSON_DEPTH (checked before
  parsing), NaN/Infinity, integers outside signed 64 bits;
- integers that are not plain ASCII digits ("²" passes str.isdigit()) or out of range.

Every refusal is an InputError: a 400 (413 for size) Matrix error that also carries the
WeCom errcode, so /cgi-bin answers the same refusal with WeCom's number. Messages
echo at most a short, sanitised excerpt of the bad value (excerpt()).
"""

import json
import re
from typing import Any
from urllib.parse import unquote_to_bytes

from modules.common.synapse.errors import Codes, SynapseError

MAX_BODY_BYTES = 10 * 1024 * 1024
MAX_JSON_DEPTH = 32
INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)
EXCERPT_CHARS = 32

# WeCom numbers the refusals map to (modules/openapi/errors.py holds the full table).
WECOM_INVALID_PARAMETER = 40058
WECOM_BAD_JSON = 47001
WECOM_INVALID_FILE_SIZE = 40006

_BAD_CHARS = re.compile("[\x00\ud800-\udfff]")
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\u2028\u2029]")
_DECIMAL = re.compile(r"-?[0-9]{1,19}")
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_OPENING = frozenset(b"[{")
_PARTNER = {ord("]"): ord("["), ord("}"): ord("{")}


class InputError(SynapseError):
    """Bad input found at the boundary. A Matrix error (status, errcode) that also
    names the WeCom errcode the /cgi-bin dialect answers with."""

    def __init__(
        self,
        message: str,
        errcode: str = Codes.INVALID_PARAM,
        status: int = 400,
        wecom: int = WECOM_INVALID_PARAMETER,
    ) -> None:
        super().__init__(status, message, errcode)
        self.wecom = wecom


def excerpt(value: Any, limit: int = EXCERPT_CHARS) -> str:
    """A short, printable excerpt of a value for an error message: control characters,
    NUL and lone surrogates escaped, cut to `limit` characters with "…"."""
    text = value if isinstance(value, str) else repr(value)
    cut = text[: limit + 1]
    shown = _UNPRINTABLE.sub(lambda m: f"\\u{ord(m.group()):04x}", cut[:limit])
    return shown + ("…" if len(cut) > limit else "")


def sanitise_message(message: str, limit: int = 200) -> str:
    """An error message fit to send: printable, at most `limit` characters."""
    return excerpt(message, limit)


def has_bad_chars(text: str) -> bool:
    # ASCII text (a flag CPython keeps) holds no surrogate: a NUL is all to look for,
    # a memchr instead of a regex scan of each long value.
    if text.isascii():
        return "\x00" in text
    return _BAD_CHARS.search(text) is not None


def check_text(value: str, field: str) -> str:
    """`value` unchanged, or 400 if it holds NUL or a lone surrogate."""
    if has_bad_chars(value):
        raise InputError(f"{field} 含有不允许的字符（NUL 或不成对的代理字符）")
    return value


# Request parts.


def path_parts(request: Any, prefix: str) -> list[str]:
    """The URL-decoded path segments after `prefix` (UTF-8; NUL refused)."""
    raw = bytes(request.path)
    head = prefix.encode("ascii")
    rest = raw[len(head) :] if raw.startswith(head) else b""
    parts = []
    for segment in rest.split(b"/"):
        if not segment:
            continue
        try:
            text = unquote_to_bytes(segment).decode("utf-8")
        except UnicodeDecodeError:
            raise InputError("路径不是合法的 UTF-8") from None
        parts.append(check_text(text, "路径"))
    return parts


def query_param(request: Any, name: str) -> str | None:
    """?name= as text (the first one), None when absent; NUL refused."""
    values = request.args.get(name.encode("ascii"))
    if not values:
        return None
    return check_text(bytes(values[0]).decode("utf-8", "replace"), f"参数 {name}")


def read_body(request: Any, limit: int = MAX_BODY_BYTES) -> bytes:
    raw = bytes(request.content.read(limit + 1))
    if len(raw) > limit:
        raise InputError("请求体过大", Codes.TOO_LARGE, 413, WECOM_INVALID_FILE_SIZE)
    return raw


# JSON.


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def json_too_deep(raw: bytes, max_depth: int = MAX_JSON_DEPTH) -> bool:
    """Whether the JSON text nests arrays/objects deeper than max_depth, decided
    without parsing, in one scan of the brackets outside strings: a pair's height is
    one more than the highest pair inside it (what peeling empty pairs level by level
    would take); a bracket that pairs with nothing blocks the pairs around it, and the
    text is too deep when its highest pair is above max_depth (or at it, with such a
    leftover). Linear: a body of brackets up to the size limit costs one pass."""
    # Fewer opening brackets (in strings too) than levels allowed: cannot be deeper.
    if raw.count(b"[") + raw.count(b"{") < max_depth:
        return False
    brackets = _JSON_STRING.sub(b"", raw).translate(None, _NOT_BRACKETS)
    opened: list[int] = []  # the open bracket (or a blocking close) at each level
    inside: list[int] = []  # the highest pair closed within it so far
    highest = 0
    for byte in brackets:
        if byte in _OPENING or not opened or opened[-1] != _PARTNER[byte]:
            opened.append(byte)
            inside.append(0)
            continue
        opened.pop()
        height = inside.pop() + 1
        if inside and height > inside[-1]:
            inside[-1] = height
        highest = max(highest, height)
    return highest > max_depth or (highest == max_depth and bool(opened))


def check_json_value(value: Any, where: str = "请求体") -> None:
    """Refuse NUL/lone surrogates in strings and keys, integers outside 64 bits."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            check_text(item, where)
        elif isinstance(item, bool) or item is None or isinstance(item, float):
            continue
        elif isinstance(item, int):
            if not INT64_MIN <= item <= INT64_MAX:
                raise InputError(f"{where}中的整数超出范围", Codes.BAD_JSON)
        elif isinstance(item, dict):
            for key, child in item.items():
                check_text(key, where)
                stack.append(child)
        elif isinstance(item, list):
            stack.extend(item)


def parse_json(
    raw: bytes, max_depth: int = MAX_JSON_DEPTH, where: str = "请求体"
) -> Any:
    """JSON text → value, refusing what the boundary refuses (see the module doc)."""
    if json_too_deep(raw, max_depth):
        raise InputError(
            f"{where}的 JSON 嵌套超过 {max_depth} 层",
            Codes.BAD_JSON,
            wecom=WECOM_BAD_JSON,
        )
    try:
        value = json.loads(raw.decode("utf-8"), parse_constant=_refuse_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise InputError(
            f"{where}不是合法的 JSON", Codes.NOT_JSON, wecom=WECOM_BAD_JSON
        ) from None
    check_json_value(value, where)
    return value


def read_json(request: Any, limit: int = MAX_BODY_BYTES) -> Any:
    return parse_json(read_body(request, limit))


def read_json_object(request: Any, limit: int = MAX_BODY_BYTES) -> dict[str, Any]:
    """The request body as a JSON object, or M_NOT_JSON / M_BAD_JSON."""
    body = read_json(request, limit)
    if not isinstance(body, dict):
        raise InputError("请求体必须是 JSON 对象", Codes.BAD_JSON, wecom=WECOM_BAD_JSON)
    return body


# Numbers and strings.


def decimal(text: str, max_digits: int = 18) -> int | None:
    """Plain ASCII decimal text of at most max_digits digits → int, else None."""
    if 0 < len(text) <= max_digits and text.isascii() and text.isdigit():
        return int(text)
    return None


def parse_int(
    text: str | None,
    field: str,
    low: int = 0,
    high: int = INT64_MAX,
    default: int | None = None,
) -> int:
    """Decimal ASCII text → an int in [low, high]; `default` when absent or empty
    (400 when absent without a default)."""
    if text is None or text == "":
        if default is None:
            raise InputError(f"缺少参数 {field}", Codes.MISSING_PARAM)
        return default
    if _DECIMAL.fullmatch(text) is None or not low <= int(text) <= high:
        raise InputError(
            f"{field} 应为 {low} 到 {high} 之间的整数，收到“{excerpt(text)}”"
        )
    return int(text)


def int_value(
    value: Any,
    field: str,
    low: int = 0,
    high: int = INT64_MAX,
    allow_text: bool = False,
) -> int:
    """A JSON value → an int in [low, high] (not a bool; decimal text if allowed)."""
    if allow_text and isinstance(value, str):
        return parse_int(value, field, low, high)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(f"{field} 必须是整数")
    if not low <= value <= high:
        raise InputError(f"{field} 应在 {low} 到 {high} 之间")
    return value


def bounded_str(
    value: Any, field: str, max_chars: int, min_chars: int = 1, strip: bool = False
) -> str:
    """A JSON value → a string of min_chars..max_chars characters (NUL refused)."""
    if not isinstance(value, str):
        raise InputError(f"{field} 必须是字符串")
    text = value.strip() if strip else value
    if not min_chars <= len(text) <= max_chars:
        raise InputError(f"{field} 长度应为 {min_chars} 到 {max_chars} 个字符")
    return check_text(text, field)
