# SPDX-License-Identifier: AGPL-3.0-or-later
"""modules.common.storage's statement helpers on SQLite (in memory)."""

import sqlite3
import unittest

from modules.common.dbapi import DbApiTxn
from modules.common.storage import insert_rows, select_in


class StatementHelpersTest(unittest.TestCase):
    def setUp(self) -> None:
        self.connection = sqlite3.connect(":memory:")
        self.addCleanup(self.connection.close)
        self.txn = DbApiTxn(self.connection.cursor(), "sqlite")
        self.txn.execute("CREATE TABLE t (k INTEGER, v TEXT)")
        insert_rows(self.txn, "INSERT INTO t (k, v)", [(1, f"v{i}") for i in range(7)])
        insert_rows(self.txn, "INSERT INTO t (k, v)", [(2, "v0")])

    def test_select_in_reads_every_chunk_with_the_arguments_before_the_list(
        self,
    ) -> None:
        wanted = [f"v{i}" for i in range(7)] + ["absent"]
        rows = select_in(
            self.txn,
            "SELECT v FROM t WHERE k = ? AND v IN ({marks})",
            wanted,
            (1,),
            chunk=3,
        )
        self.assertEqual(sorted(r[0] for r in rows), [f"v{i}" for i in range(7)])

    def test_select_in_of_no_values_runs_nothing(self) -> None:
        self.assertEqual(
            select_in(self.txn, "SELECT v FROM t WHERE v IN ({marks})", []), []
        )


if __name__ == "__main__":
    unittest.main()
