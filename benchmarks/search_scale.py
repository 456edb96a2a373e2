# SPDX-License-Identifier: AGPL-3.0-or-later
"""The message index at scale, as the product queries it (docs/search.md):

    python -m benchmarks.search_scale [--messages 1000000] [--engine sqlite|postgres]

Builds modules.search's schema (its own schema files) on a bare engine with N generated
messages over 5,000 rooms, then times the query searcher.py runs for an officer in 200
rooms: every phrase, room_id IN (200 rooms), newest 20 (p50/p99 per query kind), and
reports the index size per million messages. The SQL below mirrors storage.search_txn
(benchmarks may not import a module's storage); Synapse's visibility check of the 20
hits comes on top in the product.
"""

import argparse
import os
import random
import sqlite3
import tempfile
import time
from importlib import resources
from typing import Any

from psycopg2.extras import execute_values

from benchmarks.search_corpus import QUERY_KINDS, messages, queries
from benchmarks.search_tokenisers import percentile
from modules.common.migrations import select_migrations
from modules.search.syntax import (
    fts5_match,
    tsquery_candidates,
    tsquery_literal,
    tsvector_literal,
)
from modules.search.text import index_tokens, query_phrases
from tests.harness import postgres

ROOMS = 5000
OFFICER_ROOMS = 200
CHUNK = 10000


def _schema(engine: str) -> list[str]:
    """Every statement of modules.search's schema files for this engine, in order."""
    folder = resources.files("modules.search").joinpath("schema")
    files = {
        f.name: f.read_text(encoding="utf-8")
        for f in folder.iterdir()
        if f.name.endswith((".sql", f".sql.{engine}"))
    }
    statements = []
    for migration in select_migrations(files, engine):
        statements.extend(migration.statements())
    return statements


def _rows(count: int) -> Any:
    for i, message in enumerate(messages(count, ROOMS, 20000)):
        yield i + 1, f"$e{i}", f"!r{message.room}:bench", message.text


def build_sqlite(path: str, count: int) -> sqlite3.Connection:
    db = sqlite3.connect(path)
    for statement in _schema("sqlite"):
        db.execute(statement)
    batch: list[Any] = []
    for row in _rows(count):
        batch.append(row)
        if len(batch) >= CHUNK:
            _sqlite_insert(db, batch)
            batch = []
    _sqlite_insert(db, batch)
    db.execute("INSERT INTO jwwx_search_fts(jwwx_search_fts) VALUES ('optimize')")
    db.commit()
    db.execute("VACUUM")
    db.execute("ANALYZE")
    return db


def _sqlite_insert(db: sqlite3.Connection, batch: list[Any]) -> None:
    db.executemany(
        "INSERT INTO jwwx_search_docs (stream_ordering, event_id, room_id, sender,"
        " origin_ts, kind, msgtype) VALUES (?, ?, ?, '@s:bench', 0, 'text', 'm.text')",
        [(o, e, r) for o, e, r, _t in batch],
    )
    db.executemany(
        "INSERT INTO jwwx_search_fts (rowid, terms) VALUES (?, ?)",
        [(o, " ".join(index_tokens(t))) for o, _e, _r, t in batch],
    )
    db.commit()


def build_postgres(dbname: str, count: int) -> Any:
    conn = postgres.connect(dbname)
    conn.autocommit = True
    cur = conn.cursor()
    for statement in _schema("postgres"):
        cur.execute(statement)
    batch: list[Any] = []
    for row in _rows(count):
        batch.append(row)
        if len(batch) >= CHUNK:
            _pg_insert(cur, batch)
            batch = []
    _pg_insert(cur, batch)
    cur.execute("VACUUM ANALYZE jwwx_search_docs")
    return conn


def _pg_insert(cur: Any, batch: list[Any]) -> None:
    if batch:
        execute_values(
            cur,
            "INSERT INTO jwwx_search_docs (stream_ordering, event_id, room_id, sender,"
            " origin_ts, kind, msgtype, terms) VALUES %s",
            [(o, e, r, tsvector_literal(index_tokens(t))) for o, e, r, t in batch],
            template="(%s, %s, %s, '@s:bench', 0, 'text', 'm.text', %s::tsvector)",
        )


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=30)
    parser.add_argument("--engine", choices=("sqlite", "postgres"), default="sqlite")
    args = parser.parse_args()
    rooms = [
        f"!r{i}:bench" for i in random.Random(3).sample(range(ROOMS), OFFICER_ROOMS)
    ]
    marks = ", ".join("?" * len(rooms))
    texts = [m.text for m in messages(20000, ROOMS, 20000)]
    started = time.perf_counter()
    if args.engine == "sqlite":
        folder = tempfile.mkdtemp(prefix="jwwx_search_scale_")
        path = os.path.join(folder, "index.db")
        db = build_sqlite(path, args.messages)
        size = os.path.getsize(path)
        sql = (
            "SELECT d.stream_ordering FROM jwwx_search_fts AS f JOIN jwwx_search_docs"
            " AS d ON d.stream_ordering = f.rowid WHERE jwwx_search_fts MATCH ? AND"
            f" d.room_id IN ({marks}) ORDER BY f.rowid DESC LIMIT 20"
        )

        def search(term: str) -> int:
            match = fts5_match(query_phrases(term))
            return len(db.execute(sql, (match, *rooms)).fetchall())

    else:
        dbname = str(postgres.create_database("jwwx_bench_scale")["dbname"])
        conn = build_postgres(dbname, args.messages)
        cur = conn.cursor()
        cur.execute("SELECT pg_total_relation_size('jwwx_search_docs')")
        size = int(cur.fetchone()[0])
        rooms_in = f"d.room_id IN ({marks.replace('?', '%s')})"
        phrase_sql = (
            "SELECT d.stream_ordering FROM jwwx_search_docs AS d WHERE d.terms @@"
            f" (SELECT %s::tsquery) AND {rooms_in}"
            " AND ts_match_vq(d.terms, %s::tsquery)"
            " ORDER BY d.stream_ordering DESC LIMIT 20"
        )
        token_sql = (
            "SELECT d.stream_ordering FROM jwwx_search_docs AS d WHERE d.terms @@"
            f" %s::tsquery AND {rooms_in} ORDER BY d.stream_ordering DESC LIMIT 20"
        )

        def search(term: str) -> int:
            phrases = query_phrases(term)
            candidates = tsquery_candidates(phrases)
            if any(len(phrase.tokens) > 1 for phrase in phrases):
                exact = tsquery_literal(phrases)
                cur.execute(phrase_sql, (candidates, *rooms, exact))
            else:
                cur.execute(token_sql, (candidates, *rooms))
            return len(cur.fetchall())

    built = time.perf_counter() - started
    per_million = size / 2**20 * 1_000_000 / args.messages
    print(
        f"{args.engine}: {args.messages} messages in {ROOMS} rooms, built in {built:.0f} s,"
        f" {size / 2**20:.0f} MiB ({per_million:.0f} MiB per million messages);"
        f" an officer in {OFFICER_ROOMS} rooms; load average {_load()}"
    )
    print("kind       | p50 ms | p99 ms | max ms | hits (avg)")
    for kind in QUERY_KINDS:
        latencies, hits = [], []
        for term in queries(texts, kind, args.queries):
            t0 = time.perf_counter()
            hits.append(search(term))
            latencies.append((time.perf_counter() - t0) * 1000)
        print(
            f"{kind:10} | {percentile(latencies, 50):6.1f} | {percentile(latencies, 99):6.1f}"
            f" | {max(latencies):6.1f} | {sum(hits) / len(hits):.1f}"
        )
    print(f"load average at the end: {_load()}")
    if args.engine == "postgres":
        conn.close()
        postgres.drop_database(dbname)
    else:
        db.close()
        os.remove(path)
        os.rmdir(folder)


if __name__ == "__main__":
    main()
