# SPDX-License-Identifier: AGPL-3.0-or-later
"""Which tokenisation for modules.search: measured, not guessed (docs/search.md).

    python -m benchmarks.search_tokenisers [--messages 200000] [--queries 20]

Builds the same generated corpus (benchmarks/search_corpus.py) into each candidate
index on SQLite and PostgreSQL and reports build time, index size, query latency
(p50/p99, newest 20 matches) and recall against the ground truth (Python's substring
test on normalised text) for several kinds of query:

- bigrams: ours (modules/search/text.py): bigrams + last character of CJK/digit runs,
  phrase queries; FTS5 (unicode61 over our tokens) and a tsvector with GIN.
- jieba: words of jieba's search mode (cut_for_search), phrase of the query's words;
  FTS5 and tsvector. Optional: skipped when jieba is not installed.
- trigram: SQLite FTS5's trigram tokenizer on the text (MATCH for 3+ characters,
  LIKE for shorter ones); PostgreSQL pg_trgm (GIN gin_trgm_ops, LIKE '%q%').
No server is involved: this compares index designs on the bare engines.
"""

import argparse
import os
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from typing import Any

from psycopg2.extras import execute_values

from benchmarks.search_corpus import QUERY_KINDS, messages, queries
from modules.search.syntax import fts5_match, tsquery_literal, tsvector_literal
from modules.search.text import index_tokens, normalise, query_phrases
from tests.harness import postgres

try:  # only for the comparison; not a dependency of the product
    import jieba  # type: ignore[import-untyped]
except ImportError:  # pragma: no cover
    jieba = None

LIMIT = 20


def jieba_tokens(text: str) -> list[str]:
    return [
        w for w in jieba.cut_for_search(normalise(text)) if w.strip() and w.isalnum()
    ]


def jieba_query(term: str) -> str:
    words = [w for w in jieba.cut(normalise(term)) if w.strip() and w.isalnum()]
    return '"' + " ".join(words) + '"' if words else '""'


def jieba_tsquery(term: str) -> str:
    words = [w for w in jieba.cut(normalise(term)) if w.strip() and w.isalnum()]
    return " <-> ".join("'" + w.replace("'", "''") + "'" for w in words) or "''"


def percentile(values: Sequence[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


class Candidate:
    name = ""
    engine = ""

    def build(self, texts: list[str]) -> None: ...
    def size_bytes(self) -> int: ...
    def find(self, term: str, limit: int | None) -> list[int]: ...
    def close(self) -> None: ...


class SQLiteCandidate(Candidate):
    engine = "sqlite"

    def __init__(
        self,
        name: str,
        tokenize: str,
        tokens: Callable[[str], str] | None,
        match: Callable[[str], tuple[str, Any]],
    ) -> None:
        self.name = name
        self._dir = tempfile.mkdtemp(prefix="jwwx_search_bench_")
        self._path = os.path.join(self._dir, "index.db")
        self._db = sqlite3.connect(self._path)
        self._tokenize = tokenize
        self._tokens = tokens
        self._match = match

    def build(self, texts: list[str]) -> None:
        self._db.execute(
            f"CREATE VIRTUAL TABLE f USING fts5(terms, tokenize = {self._tokenize!r},"
            " detail = full)"
        )
        rows = (
            (i, self._tokens(t) if self._tokens else normalise(t))
            for i, t in enumerate(texts)
        )
        self._db.executemany("INSERT INTO f (rowid, terms) VALUES (?, ?)", rows)
        self._db.commit()
        self._db.execute("INSERT INTO f(f) VALUES ('optimize')")
        self._db.commit()
        self._db.execute("VACUUM")

    def size_bytes(self) -> int:
        return os.path.getsize(self._path)

    def find(self, term: str, limit: int | None) -> list[int]:
        where, arg = self._match(term)
        sql = f"SELECT rowid FROM f WHERE {where} ORDER BY rowid DESC"
        if limit is not None:
            sql += f" LIMIT {limit}"
        return [r[0] for r in self._db.execute(sql, (arg,)).fetchall()]

    def close(self) -> None:
        self._db.close()
        os.remove(self._path)
        os.rmdir(self._dir)


class PostgresCandidate(Candidate):
    engine = "postgres"

    def __init__(
        self,
        name: str,
        column: str,
        index: str,
        value: Callable[[str], str],
        where: Callable[[str], tuple[str, Any]],
    ) -> None:
        self.name = name
        self._dbname = str(postgres.create_database("jwwx_bench_search")["dbname"])
        self._conn = postgres.connect(self._dbname)
        self._conn.autocommit = True
        self._column = column
        self._index = index
        self._value = value
        self._where = where

    def build(self, texts: list[str]) -> None:
        cur = self._conn.cursor()
        cur.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        cur.execute(f"CREATE TABLE f (id BIGINT PRIMARY KEY, terms {self._column})")
        cast = "::tsvector" if self._column == "TSVECTOR" else ""
        rows = [(i, self._value(text)) for i, text in enumerate(texts)]
        for start in range(0, len(rows), 5000):
            execute_values(
                cur,
                "INSERT INTO f VALUES %s",
                rows[start : start + 5000],
                template=f"(%s, %s{cast})",
            )
        cur.execute(f"CREATE INDEX f_terms ON f USING GIN (terms {self._index})")
        cur.execute("VACUUM ANALYZE f")

    def size_bytes(self) -> int:
        cur = self._conn.cursor()
        cur.execute("SELECT pg_total_relation_size('f')")
        return int(cur.fetchone()[0])

    def find(self, term: str, limit: int | None) -> list[int]:
        where, arg = self._where(term)
        sql = f"SELECT id FROM f WHERE {where} ORDER BY id DESC"
        if limit is not None:
            sql += f" LIMIT {limit}"
        cur = self._conn.cursor()
        cur.execute(sql, (arg,))
        return [r[0] for r in cur.fetchall()]

    def close(self) -> None:
        self._conn.close()
        postgres.drop_database(self._dbname)


def _ours_match(term: str) -> tuple[str, Any]:
    phrases = query_phrases(term)
    return "f MATCH ?", fts5_match(phrases) if phrases else '""'


def _trigram_match(term: str) -> tuple[str, Any]:
    text = normalise(term)
    if len(text) >= 3:
        return "f MATCH ?", '"' + text.replace('"', "") + '"'
    return "terms LIKE ?", f"%{text}%"


def candidates(engines: Sequence[str]) -> list[Callable[[], Candidate]]:
    found: list[Callable[[], Candidate]] = []
    if "sqlite" in engines:
        found.append(
            lambda: SQLiteCandidate(
                "bigrams",
                "unicode61 remove_diacritics 0",
                lambda t: " ".join(index_tokens(t)),
                _ours_match,
            )
        )
        if jieba is not None:
            found.append(
                lambda: SQLiteCandidate(
                    "jieba",
                    "unicode61 remove_diacritics 0",
                    lambda t: " ".join(jieba_tokens(t)),
                    lambda q: ("f MATCH ?", jieba_query(q)),
                )
            )
        found.append(
            lambda: SQLiteCandidate("trigram", "trigram", None, _trigram_match)
        )
    if "postgres" in engines:
        found.append(
            lambda: PostgresCandidate(
                "bigrams",
                "TSVECTOR",
                "",
                lambda t: tsvector_literal(index_tokens(t)),
                lambda q: (
                    "terms @@ %s::tsquery",
                    tsquery_literal(query_phrases(q)) or "''",
                ),
            )
        )
        if jieba is not None:
            found.append(
                lambda: PostgresCandidate(
                    "jieba",
                    "TSVECTOR",
                    "",
                    lambda t: tsvector_literal(jieba_tokens(t)),
                    lambda q: ("terms @@ %s::tsquery", jieba_tsquery(q)),
                )
            )
        found.append(
            lambda: PostgresCandidate(
                "pg_trgm",
                "TEXT",
                "gin_trgm_ops",
                normalise,
                lambda q: ("terms LIKE %s", "%" + normalise(q).replace("%", "") + "%"),
            )
        )
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--queries", type=int, default=20)
    parser.add_argument(
        "--engine", choices=("sqlite", "postgres", "both"), default="both"
    )
    args = parser.parse_args()
    engines = ("sqlite", "postgres") if args.engine == "both" else (args.engine,)
    texts = [m.text for m in messages(args.messages, 5000, 20000)]
    folded = [normalise(t) for t in texts]
    mib = sum(len(t.encode()) for t in texts) / 2**20
    print(f"corpus: {len(texts)} messages, {mib:.1f} MiB of text (loaded machine)")
    print(
        "engine   | index   | build s | size MiB | kind       | p50 ms | p99 ms | recall"
    )
    for make in candidates(engines):
        candidate = make()
        started = time.perf_counter()
        candidate.build(texts)
        built = time.perf_counter() - started
        size = candidate.size_bytes() / 2**20
        for kind in QUERY_KINDS:
            terms = queries(texts, kind, args.queries)
            latencies, recalls = [], []
            for term in terms:
                t0 = time.perf_counter()
                candidate.find(term, LIMIT)
                latencies.append((time.perf_counter() - t0) * 1000)
                needle = normalise(term)
                wanted = {i for i, t in enumerate(folded) if needle in t}
                got = set(candidate.find(term, None))
                if wanted:
                    recalls.append(len(got & wanted) / len(wanted))
            recall = statistics.mean(recalls) if recalls else float("nan")
            print(
                f"{candidate.engine:8} | {candidate.name:7} | {built:7.1f} | {size:8.1f} |"
                f" {kind:10} | {percentile(latencies, 50):6.1f} |"
                f" {percentile(latencies, 99):6.1f} | {recall:6.3f}"
            )
        candidate.close()


if __name__ == "__main__":
    main()
