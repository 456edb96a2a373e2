# SPDX-License-Identifier: AGPL-3.0-or-later
"""database.execute_prepared: a read of ours prepared once per PostgreSQL connection
(the login read, issue 17 item 4), run through Synapse's own LoggingTransaction as
run_single_read runs it (autocommit). It must answer what a plain execute answers,
prepare once per connection, prepare again when the connection lost the statement,
and leave transactions and SQLite alone."""

import sqlite3
from typing import Any

from twisted.trial import unittest

from modules.common.synapse import database
from tests.harness import postgres

SQL = (
    "SELECT 'a?' AS k, v FROM jwwx_prep_t WHERE k = ? AND v >= ?"
    " UNION ALL SELECT 'it''s ?', v FROM jwwx_prep_t WHERE k = ?"
)


class PostgresEngine:
    """Synapse's engine as LoggingTransaction uses it (`?` becomes `%s`)."""

    @staticmethod
    def convert_param_style(sql: str) -> str:
        return sql.replace("?", "%s")


class Sqlite3Engine:
    @staticmethod
    def convert_param_style(sql: str) -> str:
        return sql


def logging_txn(cursor: Any, engine: Any) -> Any:
    from synapse.storage.database import LoggingTransaction

    return LoggingTransaction(
        txn=cursor, name="test", server_name="test", database_engine=engine
    )


class NumberingTest(unittest.TestCase):
    def test_placeholders_outside_literals_are_numbered(self) -> None:
        numbered, count = database.numbered_placeholders(SQL)
        self.assertEqual(count, 3)
        self.assertEqual(
            numbered,
            "SELECT 'a?' AS k, v FROM jwwx_prep_t WHERE k = $1 AND v >= $2"
            " UNION ALL SELECT 'it''s ?', v FROM jwwx_prep_t WHERE k = $3",
        )

    def test_the_synapse_transaction_keeps_its_cursor(self) -> None:
        # execute_prepared reaches the connection through LoggingTransaction.txn.
        from synapse.storage.database import LoggingTransaction

        self.assertIn("txn", LoggingTransaction.__slots__)


class PostgresPreparedTest(unittest.TestCase):
    def setUp(self) -> None:
        self.conn = postgres.scratch_database(self)
        self.conn.autocommit = True
        with self.conn.cursor() as cur:
            cur.execute("CREATE TABLE jwwx_prep_t (k TEXT, v BIGINT)")
            cur.execute(
                "INSERT INTO jwwx_prep_t VALUES ('x', 1), ('x', 5), ('y', 7), ('z', 9)"
            )

    def read(self, *args: Any, sql: str = SQL) -> list[tuple[Any, ...]]:
        with self.conn.cursor() as cur:
            txn = logging_txn(cur, PostgresEngine())
            database.execute_prepared(txn, sql, args)
            return sorted(cur.fetchall())

    def prepared(self) -> list[str]:
        with self.conn.cursor() as cur:
            cur.execute("SELECT statement FROM pg_prepared_statements")
            return [row[0] for row in cur.fetchall()]

    def test_answers_as_a_plain_read_and_prepares_once(self) -> None:
        self.assertEqual(self.read("x", 2, "y"), [("a?", 5), ("it's ?", 7)])
        self.assertEqual(self.read("x", 0, "z"), [("a?", 1), ("a?", 5), ("it's ?", 9)])
        self.assertEqual(self.read("q", 0, "q"), [])
        statements = self.prepared()
        self.assertEqual(len(statements), 1, statements)
        self.assertIn("k = $1 AND v >= $2", statements[0])

    def test_later_executions_see_the_rows_of_now(self) -> None:
        # PostgreSQL plans the first five executions with their values and may keep a
        # generic plan after: every one must still read what is there at the time.
        with self.conn.cursor() as cur:
            for n in range(12):
                self.assertEqual(
                    self.read("w", 0, "q"), [("a?", v) for v in range(100, 100 + n)]
                )
                cur.execute("INSERT INTO jwwx_prep_t VALUES ('w', %s)", (100 + n,))
        self.assertEqual(len(self.prepared()), 1)

    def test_prepares_again_when_the_connection_lost_it(self) -> None:
        self.assertEqual(
            self.read("y", 0, "x"), [("a?", 7), ("it's ?", 1), ("it's ?", 5)]
        )
        with self.conn.cursor() as cur:
            cur.execute("DEALLOCATE ALL")  # a reset session, as a pooler may do
        self.assertEqual(self.read("x", 2, "y"), [("a?", 5), ("it's ?", 7)])
        self.assertEqual(len(self.prepared()), 1)

    def test_inside_a_transaction_it_executes_plainly(self) -> None:
        self.conn.autocommit = False
        # (A plain execute is Synapse's: no `?` inside literals there.)
        plain = SQL.replace("a?", "a").replace("it''s ?", "b")
        self.assertEqual(self.read("x", 2, "y", sql=plain), [("a", 5), ("b", 7)])
        self.conn.rollback()
        self.conn.autocommit = True
        self.assertEqual(self.prepared(), [])

    def test_placeholders_and_arguments_must_match(self) -> None:
        with self.assertRaises(ValueError):
            self.read("x", 2)


class SqlitePlainTest(unittest.TestCase):
    def test_sqlite_executes_plainly(self) -> None:
        conn = sqlite3.connect(":memory:", isolation_level=None)
        self.addCleanup(conn.close)
        conn.execute("CREATE TABLE jwwx_prep_t (k TEXT, v BIGINT)")
        conn.execute("INSERT INTO jwwx_prep_t VALUES ('x', 1), ('y', 7)")
        cursor = conn.cursor()
        plain = SQL.replace("a?", "a").replace("it''s ?", "b")
        database.execute_prepared(
            logging_txn(cursor, Sqlite3Engine()), plain, ("x", 0, "y")
        )
        self.assertEqual(sorted(cursor.fetchall()), [("a", 1), ("b", 7)])
