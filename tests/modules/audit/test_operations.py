# SPDX-License-Identifier: AGPL-3.0-or-later
"""The operation log listing's filters and CSV (modules/audit/operations.py), on records
as the archive opens them; the HTTP side is tests/admin_api/test_roles.py."""

import csv
import io

from twisted.trial import unittest

from modules.audit.operations import CSV_COLUMNS, OperationQuery, to_csv
from modules.audit.records import Record


def _record(seq: int, kind: str, body: dict[str, object]) -> Record:
    return Record(seq, kind, 1_764_400_000_000 + seq, "0" * 64, body)


def _query(**filters: object) -> OperationQuery:
    base: dict[str, object] = {
        "log": "admin",
        "actor": None,
        "action": None,
        "target": None,
        "from_ts": 0,
        "to_ts": 2**62,
        "after_seq": 0,
        "limit": 100,
        "csv": False,
    }
    return OperationQuery(**{**base, **filters})  # type: ignore[arg-type]


WRITE = _record(
    1,
    "admin",
    {
        "actor": "@boss:example",
        "action": "directory.member.update",
        "target": "member:ZhangSan",
        "before": {"mobile": "1"},
        "after": {"mobile": "=HYPERLINK(1)"},
        "detail": {"ip": "10.0.0.1"},
    },
)
SEARCH = _record(
    2,
    "audit",
    {
        "actor": "@auditor:example",
        "action": "search.messages",
        "query": {"keyword": "涉密"},
        "hits": 0,
    },
)


class OperationFilterTests(unittest.TestCase):
    def test_filters(self) -> None:
        cases = [
            ({}, True),
            ({"actor": "@boss:example"}, True),
            ({"actor": "@boss"}, False),  # exact user id
            ({"action": "directory.member.update"}, True),
            ({"action": "directory.member"}, True),  # a dotted prefix
            ({"action": "directory.mem"}, False),  # not a part of a name
            ({"target": "zhangsan"}, True),  # case-insensitive part
            ({"target": "lisi"}, False),
            ({"actor": "@boss:example", "target": "lisi"}, False),
        ]
        for filters, expected in cases:
            self.assertEqual(_query(**filters).matches(WRITE), expected, filters)
        # An audit admin's record has no target: its query is searched instead.
        self.assertTrue(_query(log="audit", target="涉密").matches(SEARCH))
        self.assertFalse(_query(log="audit", target="其他").matches(SEARCH))

    def test_csv(self) -> None:
        data = to_csv([WRITE.to_json(), SEARCH.to_json()])
        self.assertTrue(data.startswith("\ufeff".encode()))
        rows = list(csv.reader(io.StringIO(data.decode("utf-8").lstrip("\ufeff"))))
        self.assertEqual(tuple(rows[0]), CSV_COLUMNS)
        write = dict(zip(CSV_COLUMNS, rows[1], strict=True))
        self.assertEqual(write["time"], "2025-11-29T07:06:40.001Z")
        self.assertEqual(write["actor"], "'@boss:example")  # not a formula
        self.assertEqual(write["ip"], "10.0.0.1")
        self.assertEqual(write["after"], '{"mobile":"=HYPERLINK(1)"}')
        self.assertEqual(write["detail"], "")
        search = dict(zip(CSV_COLUMNS, rows[2], strict=True))
        self.assertEqual(
            (search["log"], search["action"]), ("audit", "search.messages")
        )
        self.assertIn("涉密", search["detail"])
