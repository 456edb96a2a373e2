# SPDX-License-Identifier: AGPL-3.0-or-later
"""The operation log as the super admin reads it (管理端操作日志, docs/audit.md).

GET /_jwwx/admin/v1/audit/operations lists the records of one log, newest last:
  log=audit (default): the audit admins' own actions (searches, verifications, exports,
      cursor resets), which only the super admin may see;
  log=admin: every admin's writes in every module (actor, action, target, before,
      after, detail.ip).
Filters (all optional, combined): actor (exact user id), action (exact, or a dotted
prefix: `directory.member` finds directory.member.update), target (a case-insensitive
part of the target; for the audit log, of the query), from_ts/to_ts (ms). Paging:
after_seq and limit; an answer with complete=false continues from next_seq.
format=csv answers the same page as a CSV download (UTF-8 with BOM, so spreadsheet
programs read the Chinese; cells that a spreadsheet would run as a formula get a
leading apostrophe).

Records are sealed, so filters are applied after decrypting the records of the log in
the time range (at most search_max_records per call, like the audit searches).
"""

import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from modules.audit.records import Record
from modules.common.errors import error
from modules.common.inputs import parse_int, query_param
from modules.common.synapse.errors import Codes

LOGS = ("audit", "admin")
MAX_JSON_LIMIT = 500
MAX_CSV_LIMIT = 10_000
MAX_FILTER = 256
CSV_COLUMNS = (
    "seq",
    "time",
    "log",
    "actor",
    "action",
    "target",
    "ip",
    "before",
    "after",
    "detail",
)
# What a spreadsheet would take for a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _invalid(message: str) -> Exception:
    return error(400, Codes.INVALID_PARAM, message)


@dataclass(frozen=True)
class OperationQuery:
    log: str
    actor: str | None
    action: str | None
    target: str | None
    from_ts: int
    to_ts: int
    after_seq: int
    limit: int
    csv: bool

    def matches(self, record: Record) -> bool:
        body = record.body
        if self.actor is not None and body.get("actor") != self.actor:
            return False
        if self.action is not None:
            action = str(body.get("action") or "")
            if action != self.action and not action.startswith(self.action + "."):
                return False
        if self.target is not None:
            return self.target in _target_text(body).casefold()
        return True

    def described(self) -> dict[str, Any]:
        return {
            k: v
            for k, v in (
                ("log", self.log),
                ("actor", self.actor),
                ("action", self.action),
                ("target", self.target),
            )
            if v is not None
        }


def _filter_text(request: Any, name: str) -> str | None:
    value = query_param(request, name)
    if value is None or value == "":
        return None
    value = value.strip()
    if not value or len(value) > MAX_FILTER:
        raise _invalid(f"{name} 应为 1 到 {MAX_FILTER} 个字符")
    return value


def parse_query(request: Any, now_ms: int) -> OperationQuery:
    """The listing's query parameters, or 400 M_INVALID_PARAM naming the bad one."""
    log = query_param(request, "log") or "audit"
    if log not in LOGS:
        raise _invalid(f"log 应为 {' 或 '.join(LOGS)}")
    fmt = query_param(request, "format") or "json"
    if fmt not in ("json", "csv"):
        raise _invalid("format 应为 json 或 csv")
    high = MAX_CSV_LIMIT if fmt == "csv" else MAX_JSON_LIMIT
    from_ts = parse_int(query_param(request, "from_ts"), "from_ts", 0, 2**62, 0)
    to_ts = parse_int(query_param(request, "to_ts"), "to_ts", 0, 2**62, now_ms)
    if from_ts > to_ts:
        raise _invalid("from_ts 不能晚于 to_ts")
    target = _filter_text(request, "target")
    return OperationQuery(
        log=log,
        actor=_filter_text(request, "actor"),
        action=_filter_text(request, "action"),
        target=target.casefold() if target is not None else None,
        from_ts=from_ts,
        to_ts=to_ts,
        after_seq=parse_int(
            query_param(request, "after_seq"), "after_seq", 0, 2**62, 0
        ),
        limit=parse_int(query_param(request, "limit"), "limit", 1, high, 100),
        csv=fmt == "csv",
    )


def _target_text(body: dict[str, Any]) -> str:
    target = body.get("target")
    if target is not None:
        return str(target)
    query = body.get("query")
    return _json(query) if query is not None else ""


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def matcher(query: OperationQuery) -> Callable[[Record], dict[str, Any] | None]:
    def match(record: Record) -> dict[str, Any] | None:
        return record.to_json() if query.matches(record) else None

    return match


def _cell(value: Any) -> str:
    text = "" if value is None else value if isinstance(value, str) else _json(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def to_csv(operations: list[dict[str, Any]]) -> bytes:
    """One row per operation, the columns of CSV_COLUMNS."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for op in operations:
        body = op["record"]
        detail = dict(body.get("detail") or {})
        ip = detail.pop("ip", None)
        if op["kind"] == "audit":  # an audit admin's action: its query and result
            detail = {k: v for k, v in body.items() if k not in ("actor", "action")}
        when = datetime.fromtimestamp(op["ts"] / 1000, tz=UTC)
        writer.writerow(
            [
                str(op["seq"]),
                when.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                op["kind"],
                _cell(body.get("actor")),
                _cell(body.get("action")),
                _cell(body.get("target")),
                _cell(ip),
                _cell(body.get("before")),
                _cell(body.get("after")),
                _cell(detail or None),
            ]
        )
    return ("\ufeff" + out.getvalue()).encode("utf-8")
