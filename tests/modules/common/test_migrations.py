# SPDX-License-Identifier: AGPL-3.0-or-later
"""The schema migration runner on real SQLite and PostgreSQL databases."""

import sqlite3
from typing import Any

from twisted.trial import unittest

import psycopg2

from modules.common.dbapi import run_in_transaction
from modules.common.migrations import (
    MigrationError,
    apply_migrations_txn,
    package_schema_files,
    select_migrations,
)
from tests.harness import postgres

V1 = {"0001_things.sql": "CREATE TABLE things (id INTEGER PRIMARY KEY, name TEXT);\n"}
V2 = {
    **V1,
    "0002_more.sql.sqlite": "ALTER TABLE things ADD COLUMN note TEXT;\n",
    "0002_more.sql.postgres": "ALTER TABLE things ADD COLUMN note TEXT;\n"
    "-- engine specific\nCREATE INDEX things_name ON things USING btree (name);\n",
}


class SelectTest(unittest.TestCase):
    def test_picks_the_engine_variant(self) -> None:
        chosen = select_migrations(V2, "postgres")
        self.assertEqual([m.version for m in chosen], [1, 2])
        self.assertEqual(len(chosen[1].statements()), 2)
        self.assertEqual(len(select_migrations(V2, "sqlite")[1].statements()), 1)

    def test_refuses_a_gap(self) -> None:
        files = {**V1, "0003_late.sql": "SELECT 1;"}
        with self.assertRaisesRegex(MigrationError, "version 2 is missing"):
            select_migrations(files, "sqlite")

    def test_refuses_bad_names_and_mixed_variants(self) -> None:
        with self.assertRaisesRegex(MigrationError, "bad schema file name"):
            select_migrations({"1_x.sql": ""}, "sqlite")
        mixed = {**V1, "0001_things.sql.sqlite": "SELECT 1;"}
        with self.assertRaisesRegex(MigrationError, "both a shared and engine"):
            select_migrations(mixed, "sqlite")
        with self.assertRaisesRegex(MigrationError, "no file for postgres"):
            select_migrations({"0001_a.sql.sqlite": "SELECT 1;"}, "postgres")

    def test_every_module_schema_is_valid_for_both_engines(self) -> None:
        for package in ("modules.policy", "modules.directory"):
            files = package_schema_files(package)
            for engine in ("sqlite", "postgres"):
                self.assertTrue(select_migrations(files, engine), package)


class RunnerTests:
    engine = "sqlite"

    def connect(self) -> Any:
        raise NotImplementedError

    def apply(self, files: dict[str, str], module: str = "demo") -> list[int]:
        return run_in_transaction(
            self.conn, self.engine, apply_migrations_txn, module, files
        )

    def columns(self) -> list[str]:
        cur = self.conn.cursor()
        cur.execute("SELECT * FROM things WHERE 1 = 0")
        names = [d[0] for d in cur.description]
        cur.close()
        return names

    def test_applies_once_in_order(self) -> None:
        self.assertEqual(self.apply(V1), [1])
        self.assertEqual(self.apply(V1), [])
        self.assertEqual(self.apply(V2), [2])
        self.assertEqual(self.apply(V2), [])
        self.assertEqual(self.columns(), ["id", "name", "note"])

    def test_modules_are_independent(self) -> None:
        self.assertEqual(self.apply(V1, "one"), [1])
        other = {"0001_other.sql": "CREATE TABLE other_things (id INTEGER);"}
        self.assertEqual(self.apply(other, "two"), [1])

    def test_refuses_a_changed_applied_file(self) -> None:
        self.apply(V1)
        changed = {
            "0001_things.sql": V1["0001_things.sql"].replace("name TEXT", "label TEXT")
        }
        with self.assertRaisesRegex(MigrationError, "changed after it was applied"):
            self.apply(changed)

    def test_refuses_a_removed_applied_file(self) -> None:
        self.apply(V2)
        with self.assertRaisesRegex(MigrationError, "has no file any more"):
            self.apply(V1)

    def test_a_failing_migration_applies_nothing(self) -> None:
        self.apply(V1)
        broken = {
            **V1,
            "0002_broken.sql": "INSERT INTO things (id) VALUES (1);\nTHIS IS NOT SQL;\n",
        }
        with self.assertRaises((sqlite3.Error, psycopg2.Error)):
            self.apply(broken)
        cur = self.conn.cursor()
        cur.execute("SELECT COUNT(*) FROM things")
        self.assertEqual(cur.fetchone()[0], 0)
        cur.execute("SELECT COUNT(*) FROM jwwx_schema_migrations")
        self.assertEqual(cur.fetchone()[0], 1)
        cur.close()


class SQLiteRunnerTest(RunnerTests, unittest.TestCase):
    def setUp(self) -> None:
        self.conn = sqlite3.connect(":memory:", isolation_level=None)
        self.conn.isolation_level = None

    def tearDown(self) -> None:
        self.conn.close()


class PostgresRunnerTest(RunnerTests, unittest.TestCase):
    engine = "postgres"

    def setUp(self) -> None:
        self.conn = postgres.scratch_database(self)
