# SPDX-License-Identifier: AGPL-3.0-or-later
"""The database Synapse shares with our modules: which engine, an isolation level the
ModuleApi does not offer, and maintenance that cannot run inside a transaction.
(Statements on Synapse's own tables are in tables.py.)"""

import hashlib
import re
import secrets
import weakref
from collections.abc import Callable, Sequence
from typing import Any, TypeVar, cast

from synapse.module_api import ModuleApi

from modules.common.synapse._internal import hs_of

T = TypeVar("T")


def engine_of_txn(txn: Any) -> str:
    """'sqlite' or 'postgres' for a transaction given by run_db_interaction (or a raw cursor)."""
    explicit = getattr(txn, "jwwx_engine", None)
    if explicit in ("sqlite", "postgres"):
        return str(explicit)
    engine = getattr(txn, "database_engine", None)
    if engine is not None:
        name = type(engine).__name__.lower()
    else:
        name = type(txn).__module__.lower()
    if "sqlite" in name:
        return "sqlite"
    if "postgres" in name or "psycopg" in name:
        return "postgres"
    raise ValueError(f"unknown database engine for {txn!r}")


def _runs_on_postgres(store: Any) -> bool:
    return "postgres" in type(store.database_engine).__name__.lower()


async def vacuum_analyze(api: ModuleApi, tables: tuple[str, ...]) -> None:
    """PostgreSQL: VACUUM ANALYZE the tables, which cannot run inside a transaction.

    After a bulk load the visibility map is empty until autovacuum comes round, so every
    index-only scan still reads the heap: member search at 55,000 members measured 2–3×
    slower until then. SQLite needs nothing (its ANALYZE runs in the import)."""
    store = hs_of(api).get_datastores().main
    if not _runs_on_postgres(store):
        return

    def vacuum_txn(txn: Any) -> None:
        txn.execute("VACUUM ANALYZE " + ", ".join(tables))

    await store.db_pool.runInteraction(
        "jwwx_vacuum_analyze", vacuum_txn, db_autocommit=True
    )


# Synapse's tables whose rows hold message content (event_search's SQLite FTS4 shadow
# tables included): what scrub_after_purge cleans after tables.censor_event_txn.
CONTENT_TABLES = ("event_json", "event_search")
_UNREMOVABLE = re.compile(
    r"(\d+) (?:dead row versions cannot be removed yet|are dead but not yet removable)"
)


async def scrub_after_purge(api: ModuleApi, rewrite: bool) -> bool:
    """After tables.censor_event_txn: make the purged text unrecoverable from the
    database files (tested in tests/modules/burn, B3; docs/burn.md). Returns False when
    it could not be completed (to be retried later).

    SQLite: secure_delete (set by censor_event_txn) zeroed the freed cells; the WAL,
    which still holds the old page images, is checkpointed and truncated to zero
    bytes (False if a reader kept it busy). `rewrite`: first the FTS4 index of
    event_search is merged ('optimize'), as its segments keep the terms of deleted
    rows until then.
    PostgreSQL: VACUUM marks the dead tuples free, but their bytes stay in the pages
    and a GIN index keeps the deleted lexemes as keys; `rewrite`: VACUUM FULL writes
    both tables and their indexes anew (ACCESS EXCLUSIVE lock while it runs) and the
    old files are removed. An older snapshot still open somewhere keeps dead rows
    ("cannot be removed yet", read from VACUUM VERBOSE): then False."""
    store = hs_of(api).get_datastores().main
    if _runs_on_postgres(store):
        command = "VACUUM (FULL, VERBOSE) " if rewrite else "VACUUM (VERBOSE) "

        def vacuum_txn(txn: Any) -> int:
            notices = txn.txn.connection.notices
            del notices[:]
            txn.execute(command + ", ".join(CONTENT_TABLES))
            kept = 0
            for notice in notices:
                for found in _UNREMOVABLE.findall(str(notice)):
                    kept += int(found)
            return kept

        kept = await store.db_pool.runInteraction(
            "jwwx_burn_vacuum", vacuum_txn, db_autocommit=True
        )
        return int(kept) == 0

    def optimize_txn(txn: Any) -> None:
        txn.execute("PRAGMA secure_delete = ON")
        txn.execute("INSERT INTO event_search(event_search) VALUES ('optimize')")

    def checkpoint_txn(txn: Any) -> bool:
        txn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        row = txn.fetchone()
        return row is not None and int(row[0]) == 0

    if rewrite:
        await store.db_pool.runInteraction("jwwx_burn_fts_optimize", optimize_txn)
    done = await store.db_pool.runInteraction(
        "jwwx_burn_checkpoint", checkpoint_txn, db_autocommit=True
    )
    return bool(done)


async def run_single_read(
    api: ModuleApi, desc: str, fn: Callable[..., T], *args: Any
) -> T:
    """fn(txn, *args), which sends ONE read statement, outside an explicit transaction:
    on PostgreSQL two round trips instead of three (BEGIN, the statement, COMMIT): the
    statement, and the `SET default_transaction_isolation` psycopg2 sends when the
    connection leaves autocommit (Synapse's connections run REPEATABLE READ; measured
    on loopback: 0.18 vs 0.33 ms); a single statement reads one snapshot anyway.
    SQLite runs it in a transaction as usual. The ModuleApi offers no autocommit, hence the db pool (its `db_autocommit`,
    pinned in tests/modules/common/test_synapse_patches.py). Never for writes or for
    more than one statement (each would commit, or read, on its own)."""
    store = hs_of(api).get_datastores().main
    return cast(
        T, await store.db_pool.runInteraction(desc, fn, *args, db_autocommit=True)
    )


# Statements prepared on each PostgreSQL connection (psycopg2's connection → names):
# named per process, so that no name can be one another process left behind.
_PREPARED: "weakref.WeakKeyDictionary[Any, set[str]]" = weakref.WeakKeyDictionary()
_PREPARED_PREFIX = f"jwwx_{secrets.token_hex(4)}_"
_PLACEHOLDER_OR_LITERAL = re.compile(r"'(?:[^']|'')*'|\?")


def numbered_placeholders(sql: str) -> tuple[str, int]:
    """`sql` with its `?` placeholders (not those inside '…' literals) as $1, $2, …,
    and how many there are."""
    count = 0

    def number(found: re.Match[str]) -> str:
        nonlocal count
        if found.group(0) != "?":
            return found.group(0)
        count += 1
        return f"${count}"

    return _PLACEHOLDER_OR_LITERAL.sub(number, sql), count


def execute_prepared(txn: Any, sql: str, args: Sequence[Any]) -> None:
    """txn.execute(sql, args) for a read run by run_single_read: on PostgreSQL the
    statement is prepared once per connection (PREPARE) and then only executed, so
    PostgreSQL plans it once instead of at every call (the login read's plan cost
    0.5 ms of PostgreSQL CPU per login, its execution 0.2 ms; issue 17, item 4).

    Only outside a transaction (autocommit, as run_single_read runs): there a failed
    EXECUTE (a connection reset under us, a pooler that does not keep sessions) aborts
    nothing, and it is prepared again once. Elsewhere, and on SQLite, a plain execute.
    The arguments must be as many as the placeholders."""
    connection = getattr(getattr(txn, "txn", None), "connection", None)
    if (
        engine_of_txn(txn) != "postgres"
        or connection is None
        or not getattr(connection, "autocommit", False)
    ):
        txn.execute(sql, args)
        return
    numbered, count = numbered_placeholders(sql)
    if count != len(args):
        raise ValueError(f"{count} placeholders, {len(args)} arguments")
    name = _PREPARED_PREFIX + hashlib.sha1(numbered.encode("utf-8")).hexdigest()[:20]
    names = _PREPARED.setdefault(connection, set())
    execute = f"EXECUTE {name}" + (f" ({', '.join('?' * count)})" if count else "")
    if name in names:
        try:
            txn.execute(execute, args)
            return
        except Exception as e:
            if getattr(e, "pgcode", None) != "26000":  # invalid_sql_statement_name
                raise
            names.discard(name)
    # On the cursor itself: Synapse's execute would turn a `?` inside a literal into
    # a placeholder (PREPARE takes no arguments).
    txn.txn.execute(f"PREPARE {name} AS {numbered}")
    names.add(name)
    txn.execute(execute, args)


async def run_serialized_write(
    api: ModuleApi, desc: str, lock_name: str, fn: Callable[..., T], *args: Any
) -> T:
    """Run fn(txn, *args) as the only writer named `lock_name` at a time.

    Synapse runs transactions at REPEATABLE READ on PostgreSQL, where two writers of the
    same rows (e.g. member counts maintained up a department's chain) fail with
    serialization errors; after Synapse's few retries the request answers 500 (seen with
    4 concurrent member creations in one department). Here the transaction runs at READ
    COMMITTED and first takes a transaction-scoped advisory lock, so each later
    statement sees every earlier writer's commit. SQLite has one writer at a time anyway.
    The ModuleApi offers no isolation level, hence the db pool."""
    store = hs_of(api).get_datastores().main
    if not _runs_on_postgres(store):
        return cast(T, await api.run_db_interaction(desc, fn, *args))
    from synapse.storage.engines._base import IsolationLevel

    digest = hashlib.sha256(lock_name.encode()).digest()
    key = int.from_bytes(digest[:8], "big", signed=True)

    def locked_txn(txn: Any, *inner: Any) -> T:
        txn.execute("SELECT pg_advisory_xact_lock(?)", (key,))
        return fn(txn, *inner)

    return cast(
        T,
        await store.db_pool.runInteraction(
            desc, locked_txn, *args, isolation_level=IsolationLevel.READ_COMMITTED
        ),
    )
