# SPDX-License-Identifier: AGPL-3.0-or-later
"""Collection forms (收集表): the rules, with no I/O (form_service.py does the rest).

A form is a resource of its own beside the documents (not a CRDT: its creator writes
its definition alone, and its answers are rows, one per officer):

    {"title": "节前安全检查", "description": "…",
     "questions": [{"id": "q1", "type": "text|number|date|single|multiple",
                    "title": "…", "required": true, "options": ["…"],   # choices
                    "min": 0, "max": 10,                                # number
                    "max_length": 200}],                                # text
     "respondents": {"users": ["@a:hs"], "departments": [12], "tags": [3],
                     "bureau": false},
     "deadline": 1765000000000, "editable": true, "anonymous": false}

An answer is {"answers": {"q1": "…", "q2": 3, "q3": "2026-12-07", "q4": "甲",
"q5": ["甲", "乙"]}}: every value checked against its question (type, options,
bounds, required), nothing stored when one fails (400 M_INVALID_PARAM naming the
question)."""

import math
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from modules.common.errors import error
from modules.common.synapse.errors import Codes

TYPES = ("text", "number", "date", "single", "multiple")
TYPE_NAMES = {
    "text": "文本",
    "number": "数字",
    "date": "日期",
    "single": "单选",
    "multiple": "多选",
}
MAX_TITLE = 200
MAX_DESCRIPTION = 5000
MAX_QUESTIONS = 100
MAX_OPTIONS = 50
MAX_OPTION = 100
DEFAULT_TEXT = 2000
MAX_TEXT = 10000
MAX_RESPONDENTS = 500  # entries of each list (a department counts once)
_QID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_USER = re.compile(r"^@[^:\s]{1,255}:[^\s]{1,255}$")
DEFINITION_KEYS = {
    "title",
    "description",
    "questions",
    "respondents",
    "deadline",
    "editable",
    "anonymous",
}


def invalid(message: str, **extra: Any) -> Exception:
    return error(400, Codes.INVALID_PARAM, message, **extra)


@dataclass(frozen=True)
class Respondents:
    users: tuple[str, ...] = ()
    departments: tuple[int, ...] = ()
    tags: tuple[int, ...] = ()
    bureau: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "users": list(self.users),
            "departments": list(self.departments),
            "tags": list(self.tags),
            "bureau": self.bureau,
        }


def title(value: Any) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_TITLE:
        raise invalid(f"title 须为 1..{MAX_TITLE} 个字符")
    return value.strip()


def description(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > MAX_DESCRIPTION:
        raise invalid(f"description 须为至多 {MAX_DESCRIPTION} 个字符")
    return value.strip()


def flag(body: dict[str, Any], name: str, default: bool) -> bool:
    value = body.get(name, default)
    if not isinstance(value, bool):
        raise invalid(f"{name} 须为 true 或 false")
    return value


def deadline(value: Any, now: int) -> int | None:
    """A deadline in ms since the epoch, in the future (None: no deadline)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value <= now:
        raise invalid("deadline 须为将来的时间（毫秒时间戳）或 null")
    return value


def _number(value: Any, name: str) -> float | None:
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
    ):
        raise invalid(f"{name} 须为数字")
    return value


def questions(raw: Any) -> list[dict[str, Any]]:
    """The questions, checked; each gets an id ("q1", …) if it has none."""
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_QUESTIONS:
        raise invalid(f"questions 须为 1..{MAX_QUESTIONS} 个问题")
    found: list[dict[str, Any]] = []
    seen: set[str] = set()
    allowed = {"id", "type", "title", "required", "options", "min", "max"}
    for index, item in enumerate(raw, 1):
        where = f"第 {index} 题"
        if not isinstance(item, dict) or set(item) - (allowed | {"max_length"}):
            raise invalid(
                f"{where}须为 {{id?, type, title, required?, options?, min?, max?,"
                " max_length?}"
            )
        qtype = item.get("type")
        if qtype not in TYPES:
            raise invalid(f"{where}：type 可选：{', '.join(TYPES)}")
        qid = item.get("id", f"q{index}")
        if not isinstance(qid, str) or not _QID.match(qid) or qid in seen:
            raise invalid(f"{where}：id 须为 1..32 个字母、数字、_ 或 -，且不重复")
        seen.add(qid)
        text = item.get("title")
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_TITLE:
            raise invalid(f"{where}：title 须为 1..{MAX_TITLE} 个字符")
        required = item.get("required", False)
        if not isinstance(required, bool):
            raise invalid(f"{where}：required 须为 true 或 false")
        question: dict[str, Any] = {
            "id": qid,
            "type": qtype,
            "title": text.strip(),
            "required": required,
        }
        if qtype in ("single", "multiple"):
            options = item.get("options")
            if (
                not isinstance(options, list)
                or not 2 <= len(options) <= MAX_OPTIONS
                or not all(
                    isinstance(o, str) and 0 < len(o.strip()) <= MAX_OPTION
                    for o in options
                )
                or len({o.strip() for o in options}) != len(options)
            ):
                raise invalid(
                    f"{where}：options 须为 2..{MAX_OPTIONS} 个不重复的选项"
                    f"（各 1..{MAX_OPTION} 个字符）"
                )
            question["options"] = [o.strip() for o in options]
        elif "options" in item:
            raise invalid(f"{where}：只有单选、多选题有 options")
        if qtype == "number":
            low = _number(item.get("min"), f"{where}：min")
            high = _number(item.get("max"), f"{where}：max")
            if low is not None and high is not None and low > high:
                raise invalid(f"{where}：min 不能大于 max")
            question["min"], question["max"] = low, high
        elif "min" in item or "max" in item:
            raise invalid(f"{where}：只有数字题有 min、max")
        if qtype == "text":
            limit = item.get("max_length", DEFAULT_TEXT)
            if (
                isinstance(limit, bool)
                or not isinstance(limit, int)
                or not 1 <= limit <= MAX_TEXT
            ):
                raise invalid(f"{where}：max_length 须为 1..{MAX_TEXT}")
            question["max_length"] = limit
        elif "max_length" in item:
            raise invalid(f"{where}：只有文本题有 max_length")
        found.append(question)
    return found


def respondents(raw: Any, server_name: str) -> Respondents:
    """Who answers: persons (Matrix user ids of this bureau), departments (their
    subtrees), tags (from the directory), or everyone of the bureau with the link."""
    if not isinstance(raw, dict) or set(raw) - {
        "users",
        "departments",
        "tags",
        "bureau",
    }:
        raise invalid("respondents 须为 {users?, departments?, tags?, bureau?}")
    users = raw.get("users", [])
    if not isinstance(users, list) or len(users) > MAX_RESPONDENTS:
        raise invalid(f"respondents.users 须为至多 {MAX_RESPONDENTS} 个用户 ID")
    for user in users:
        if not isinstance(user, str) or not _USER.match(user):
            raise invalid(f"{user!r} 不是用户 ID")
        if user.partition(":")[2] != server_name:
            raise invalid(f"{user} 不是本局的账号")
    ids: dict[str, list[int]] = {}
    for name in ("departments", "tags"):
        values = raw.get(name, [])
        if (
            not isinstance(values, list)
            or len(values) > MAX_RESPONDENTS
            or not all(
                isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in values
            )
        ):
            raise invalid(f"respondents.{name} 须为至多 {MAX_RESPONDENTS} 个 ID")
        ids[name] = sorted(set(values))
    bureau = raw.get("bureau", False)
    if not isinstance(bureau, bool):
        raise invalid("respondents.bureau 须为 true 或 false")
    found = Respondents(
        tuple(sorted(set(users))), tuple(ids["departments"]), tuple(ids["tags"]), bureau
    )
    if not (found.users or found.departments or found.tags or found.bureau):
        raise invalid("respondents 不能为空：须有人员、部门、标签，或全局（bureau）")
    return found


def respondents_from_json(raw: dict[str, Any]) -> Respondents:
    return Respondents(
        tuple(raw.get("users", [])),
        tuple(raw.get("departments", [])),
        tuple(raw.get("tags", [])),
        bool(raw.get("bureau", False)),
    )


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def answer(qs: list[dict[str, Any]], body: dict[str, Any]) -> dict[str, Any]:
    """The answers checked against the questions (400 naming the question
    otherwise); empty optional answers are left out."""
    if set(body) != {"answers"} or not isinstance(body["answers"], dict):
        raise invalid("请求体须为 {answers: {问题ID: 答案}}")
    given: dict[str, Any] = body["answers"]
    known = {q["id"]: q for q in qs}
    unknown = sorted(set(given) - set(known))
    if unknown:
        raise invalid(f"没有这些问题：{', '.join(unknown)}", question=unknown[0])
    kept: dict[str, Any] = {}
    for q in qs:
        value = given.get(q["id"])
        where = f"「{q['title']}」"
        if isinstance(value, str) and q["type"] != "text":
            value = value.strip()
        if _empty(value) or (isinstance(value, str) and not value.strip()):
            if q["required"]:
                raise invalid(f"{where}为必填项", question=q["id"])
            continue
        kept[q["id"]] = _value(q, value, where)
    return kept


def _value(q: dict[str, Any], value: Any, where: str) -> Any:
    qtype = q["type"]

    def bad(message: str) -> Exception:
        return invalid(f"{where}：{message}", question=q["id"])

    if qtype == "text":
        if not isinstance(value, str):
            raise bad("须为文本")
        if len(value) > q["max_length"]:
            raise bad(f"至多 {q['max_length']} 个字符")
        return value
    if qtype == "number":
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
        ):
            raise bad("须为数字")
        if q.get("min") is not None and value < q["min"]:
            raise bad(f"不能小于 {_show(q['min'])}")
        if q.get("max") is not None and value > q["max"]:
            raise bad(f"不能大于 {_show(q['max'])}")
        return value
    if qtype == "date":
        if not isinstance(value, str) or not _DATE.match(value):
            raise bad("须为日期 YYYY-MM-DD")
        try:
            date.fromisoformat(value)
        except ValueError:
            raise bad(f"{value} 不是有效日期") from None
        return value
    if qtype == "single":
        if not isinstance(value, str) or value not in q["options"]:
            raise bad(f"须为以下之一：{'、'.join(q['options'])}")
        return value
    if (
        not isinstance(value, list)
        or not all(isinstance(v, str) for v in value)
        or len(set(value)) != len(value)
    ):
        raise bad("须为不重复的选项列表")
    wrong = [v for v in value if v not in q["options"]]
    if wrong:
        raise bad(f"没有选项 {'、'.join(wrong)}")
    return [o for o in q["options"] if o in value]  # in the options' order


def _show(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def summary(qs: list[dict[str, Any]], rows: list[dict[str, Any]]) -> list[Any]:
    """Per question: how many answered it, and the counts per option (choices), the
    minimum, maximum, sum and mean (numbers), the earliest and latest (dates), the
    last few answers (text)."""
    found = []
    for q in qs:
        values = [r[q["id"]] for r in rows if q["id"] in r]
        item: dict[str, Any] = {
            "id": q["id"],
            "title": q["title"],
            "type": q["type"],
            "answered": len(values),
        }
        if q["type"] in ("single", "multiple"):
            counts = {o: 0 for o in q["options"]}
            for value in values:
                for chosen in value if isinstance(value, list) else [value]:
                    if chosen in counts:
                        counts[chosen] += 1
            item["options"] = [{"option": o, "count": n} for o, n in counts.items()]
        elif q["type"] == "number" and values:
            total = sum(values)
            item.update(
                min=min(values),
                max=max(values),
                sum=total,
                mean=round(total / len(values), 4),
            )
        elif q["type"] == "date" and values:
            item.update(earliest=min(values), latest=max(values))
        elif q["type"] == "text":
            item["latest"] = values[-5:]
        found.append(item)
    return found


def cell_value(q: dict[str, Any], value: Any) -> Any:
    """An answer as a spreadsheet cell's value (choices joined by "、")."""
    if value is None:
        return None
    if isinstance(value, list):
        return "、".join(value)
    return value
