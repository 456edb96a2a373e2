# SPDX-License-Identifier: AGPL-3.0-or-later
"""Fields of a resident ID card (居民身份证: the front, or the back with 签发机关 and
有效期限) and a motor-vehicle driving licence (机动车驾驶证) from the OCR lines in
reading order. The card's printed labels split
the text: each field is what lies between its label and the next one. The ID number's
check character (GB 11643, ISO 7064 MOD 11-2) is verified, and the birth date and sex
it encodes are compared with the printed ones."""

import re
import unicodedata
from collections.abc import Sequence
from datetime import date
from typing import Any

_NOISE = frozenset({"So", "Sk", "Co", "Cn"})  # symbols, private use, unassigned
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_ID = re.compile(r"\d{17}[\dX]")


def id_number_valid(number: str) -> bool:
    """An 18-character resident ID number with the right check character and a real
    birth date."""
    if not _ID.fullmatch(number):
        return False
    total = sum(int(d) * w for d, w in zip(number[:17], _WEIGHTS, strict=True))
    if _CHECK[total % 11] != number[17]:
        return False
    try:
        date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    return True


def _joined(texts: Sequence[str]) -> str:
    # Labels and values come as separate lines or run together; spaces carry nothing,
    # nor do symbols the recogniser sees in a gap of a photo's noise (☑, ◆).
    text = "".join(texts)
    text = "".join(c for c in text if unicodedata.category(c) not in _NOISE)
    text = re.sub(r"\s+", "", text)
    return text.replace("x", "X").replace("：", "").replace(":", "")


def _between(text: str, label: str, following: Sequence[str]) -> str:
    start = text.find(label)
    if start < 0:
        return ""
    start += len(label)
    ends = [i for i in (text.find(f, start) for f in following) if i >= 0]
    return text[start : min(ends)] if ends else text[start:]


def _birth(text: str) -> str:
    """出生 1985年3月7日 → 1985-03-07 ("" when it does not read as a date)."""
    m = re.fullmatch(r"(\d{4})年(\d{1,2})月(\d{1,2})日?", text)
    if not m:
        return ""
    try:
        return date(int(m[1]), int(m[2]), int(m[3])).isoformat()
    except ValueError:
        return ""


def id_card(texts: Sequence[str]) -> dict[str, Any]:
    """{name, sex, nation, birth, address, id_number, id_number_valid, consistent}:
    missing fields are "". `consistent` says the number's birth date and sex agree
    with the printed ones."""
    text = _joined(texts)
    number_match = _ID.search(
        text[text.find("公民身份号码") :] if "公民身份号码" in text else text
    )
    number = number_match.group(0) if number_match else ""
    fields: dict[str, Any] = {
        "name": _between(text, "姓名", ("性别", "民族", "出生")),
        "sex": _between(text, "性别", ("民族", "出生"))[:1],
        "nation": _between(text, "民族", ("出生", "住址")),
        "birth": _birth(_between(text, "出生", ("住址", "公民身份号码"))),
        "address": _between(text, "住址", ("公民身份号码",)),
        "id_number": number,
    }
    valid = id_number_valid(number)
    encoded_birth = f"{number[6:10]}-{number[10:12]}-{number[12:14]}" if valid else ""
    encoded_sex = ("男" if int(number[16]) % 2 else "女") if valid else ""
    fields["id_number_valid"] = valid
    fields["consistent"] = bool(
        valid and fields["birth"] == encoded_birth and fields["sex"] == encoded_sex
    )
    return fields


# The back: 签发机关 杭州市公安局西湖分局 / 有效期限 2015.03.07-2035.03.07 (or -长期).
_DOTTED = r"(\d{4})[.,·]?(\d{2})[.,·]?(\d{2})"
_VALIDITY = re.compile(rf"有效期限{_DOTTED}[-－—~至]+(?:{_DOTTED}|(长期))")


def id_card_side(texts: Sequence[str]) -> str:
    """ "back" when the lines are an ID card's back (签发机关 / 有效期限 without the
    front's labels), else "front"."""
    text = _joined(texts)
    front = "公民身份号码" in text or "姓名" in text
    back = "签发机关" in text or "有效期限" in text
    return "back" if back and not front else "front"


def _iso(year: str, month: str, day: str) -> str:
    try:
        return date(int(year), int(month), int(day)).isoformat()
    except ValueError:
        return ""


def id_card_back(texts: Sequence[str]) -> dict[str, Any]:
    """{authority, valid_from, valid_to}: the issuing office and the validity (ISO
    dates; valid_to "长期" for a card without end); missing fields are ""."""
    text = _joined(texts)
    found = _VALIDITY.search(text)
    valid_from = valid_to = ""
    if found:
        valid_from = _iso(*found.group(1, 2, 3))
        valid_to = "长期" if found.group(7) else _iso(*found.group(4, 5, 6))
    return {
        "authority": _between(text, "签发机关", ("有效期限",)),
        "valid_from": valid_from,
        "valid_to": valid_to,
    }


_DATE = r"\d{4}-\d{2}-\d{2}"


def _first(pattern: str, text: str) -> str:
    m = re.search(pattern, text)
    return m.group(1) if m else ""


_LICENCE_LABELS = (
    "证号",
    "姓名",
    "性别",
    "国籍",
    "住址",
    "出生日期",
    "初次领证日期",
    "准驾车型",
    "有效期限",
)


def _near(window: str, label: str) -> bool:
    """`window` is `label` with one character misread (not a digit: values are)."""
    wrong = [(a, b) for a, b in zip(window, label, strict=True) if a != b]
    return len(wrong) == 1 and not wrong[0][0].isdigit()


def _locate(text: str, labels: Sequence[str]) -> list[tuple[int, int]]:
    """(start, end) of each printed label found, in the card's order: the exact label
    (after the previous one, else anywhere), else the first place after the previous
    label that reads as it with one character misread (国藉 for 国籍)."""
    found: list[tuple[int, int]] = []
    at = 0
    for label in labels:
        start = text.find(label, at)
        if start < 0:
            start = text.find(label)
        if start < 0:
            start = next(
                (
                    i
                    for i in range(at, len(text) - len(label) + 1)
                    if _near(text[i : i + len(label)], label)
                ),
                -1,
            )
        if start < 0:
            found.append((-1, -1))
            continue
        found.append((start, start + len(label)))
        at = max(at, start + len(label))
    return found


def _values(text: str, labels: Sequence[str]) -> dict[str, str]:
    """Each found label's value: from its end to the next label found after it."""
    places = _locate(text, labels)
    starts = sorted(start for start, _end in places if start >= 0)
    values = {}
    for label, (start, end) in zip(labels, places, strict=True):
        if start < 0:
            values[label] = ""
            continue
        following = [s for s in starts if s >= end]
        values[label] = text[end : following[0]] if following else text[end:]
    return values


def driving_licence(texts: Sequence[str]) -> dict[str, Any]:
    """{licence_number, name, sex, nationality, address, birth, first_issue, class,
    valid_from, valid_to, licence_number_valid}; missing fields are "". The text
    fields lie between printed labels, found in the card's order and with one misread
    character allowed (the labels print small: 国藉, 娃名)."""
    text = _joined(texts)
    values = _values(text, _LICENCE_LABELS)
    number = _first(r"(\d{17}[\dX])", values["证号"])
    valid = values["有效期限"]
    return {
        "licence_number": number,
        "licence_number_valid": id_number_valid(number),
        "name": values["姓名"],
        "sex": values["性别"][:1],
        "nationality": values["国籍"],
        "address": values["住址"],
        "birth": _first(rf"^({_DATE})", values["出生日期"]),
        "first_issue": _first(rf"^({_DATE})", values["初次领证日期"]),
        "class": _first(r"^([A-DFMNP][1-3]?(?:[A-DFMNP][1-3]?)*)", values["准驾车型"]),
        "valid_from": _first(rf"^({_DATE})", valid),
        "valid_to": _first(rf"^{_DATE}至({_DATE}|长期)", valid),
    }
