"""Benchmark (not a test): password login latency with 55,000 accounts present.

    TMPDIR=/tmp/x .venv/bin/python -m tests.modules.accounts.bench_login \
        [--engine sqlite|postgres] [--accounts 55000] [--logins 400] [--bcrypt-rounds 4]

Runs vanilla Synapse (modules: []) and then ours on the same engine, one at a time. Both
get 55,000 accounts written straight into Synapse's `users` table (bcrypt hashes of the
given cost: 4 shows what our modules add; 12 is Synapse's production default, where the
hash dominates), and ours also a login log of 4 entries per account. Then each of
`--logins` distinct accounts logs in once with m.login.password from a phone user agent
(a non-first login: the account has its own password), and makes one authenticated
request (whoami: the first request of a new token, which the first-login check reads from
the database). Latencies are end to end over loopback, nearest-rank percentiles.
It belongs in benchmarks/ with the other scenarios (it reuses benchmarks.servers/stats).
"""

import argparse
import http.client
import json
import random
import sqlite3
import time
from typing import Any
from urllib.parse import urlsplit

import bcrypt
import psycopg2
import psycopg2.extras

from benchmarks.servers import BenchServer, running
from benchmarks.stats import Summary
from tests.harness import postgres

PASSWORD = "Bench-Pass-2026!"
ANDROID = "Element/1.6.10 (Linux; U; Android 13; SM-S9080; MatrixAndroidSdk2 1.6.10)"


def _connect(server: BenchServer) -> tuple[Any, str]:
    if server.engine == "postgres":
        assert server.pg_database is not None
        return postgres.connect(server.pg_database), "%s"
    conn = sqlite3.connect(str(server.data_dir / "homeserver.db"), timeout=60)
    return conn, "?"


def ip_of(k: int, i: int) -> str:
    """Earlier logins: the newest from the loopback network the benchmark logs in from
    (the usual case: a known place and client, so no new-login notice)."""
    return "127.0.0.1" if k == 0 else f"10.{k}.{i % 250}.{i % 200}"


def populate(server: BenchServer, accounts: int, rounds: int, ours: bool) -> float:
    started = time.perf_counter()
    hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds)).decode()
    now = int(time.time() * 1000)
    conn, p = _connect(server)
    try:
        cur = conn.cursor()
        rows = [
            (f"@bench{i:05d}:{server.server_name}", hashed, now // 1000)
            for i in range(accounts)
        ]
        sql = f"INSERT INTO users (name, password_hash, creation_ts, admin, is_guest, deactivated) VALUES ({p}, {p}, {p}, 0, 0, 0)"
        if server.engine == "postgres":
            psycopg2.extras.execute_batch(cur, sql, rows, page_size=1000)
        else:
            cur.executemany(sql, rows)
        if ours:
            log_sql = (
                "INSERT INTO jwwx_acc_login_log (ts, kind, user_id, identifier, login_type, ip,"
                " device_id, user_agent, platform, result) VALUES"
                f" ({p}, 'login', {p}, {p}, 'm.login.password', {p}, {p}, {p}, 'mobile', 'ok')"
            )
            log_rows = [
                (
                    now - k * 86_400_000,
                    name,
                    name,
                    ip_of(k, i),
                    f"OLD{k}{i}",
                    ANDROID,
                )
                for k in range(4)
                for i, (name, _, _) in enumerate(rows)
            ]
            if server.engine == "postgres":
                psycopg2.extras.execute_batch(cur, log_sql, log_rows, page_size=1000)
            else:
                cur.executemany(log_sql, log_rows)
        conn.commit()
        if server.engine == "postgres":
            conn.autocommit = True
            conn.cursor().execute("ANALYZE")
    finally:
        conn.close()
    return time.perf_counter() - started


def _request(
    conn: http.client.HTTPConnection,
    method: str,
    path: str,
    body: Any = None,
    token: str = "",
) -> tuple[float, int, Any]:
    headers = {"Content-Type": "application/json", "User-Agent": ANDROID}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    started = time.perf_counter()
    conn.request(
        method, path, body=None if body is None else json.dumps(body), headers=headers
    )
    response = conn.getresponse()
    content = response.read()
    elapsed = time.perf_counter() - started
    return elapsed, response.status, json.loads(content) if content else None


def measure(server: BenchServer, accounts: int, logins: int) -> dict[str, Summary]:
    url = urlsplit(server.base_url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    picks = random.Random(7).sample(range(accounts), logins + 20)
    login_s, whoami_s = [], []
    try:
        for n, i in enumerate(picks):
            body = {
                "type": "m.login.password",
                "identifier": {"type": "m.id.user", "user": f"bench{i:05d}"},
                "password": PASSWORD,
            }
            elapsed, status, result = _request(
                conn, "POST", "/_matrix/client/v3/login", body
            )
            if status != 200:
                raise RuntimeError(f"login bench{i:05d}: {status} {result}")
            who, status, _ = _request(
                conn,
                "GET",
                "/_matrix/client/v3/account/whoami",
                token=result["access_token"],
            )
            if status != 200:
                raise RuntimeError(f"whoami: {status}")
            if n >= 20:  # the first 20 warm the caches
                login_s.append(elapsed)
                whoami_s.append(who)
    finally:
        conn.close()
    return {
        "login": Summary.of(login_s),
        "first request (whoami)": Summary.of(whoami_s),
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--engine", default="sqlite", choices=("sqlite", "postgres"))
    parser.add_argument("--accounts", type=int, default=55_000)
    parser.add_argument("--logins", type=int, default=400)
    parser.add_argument("--bcrypt-rounds", type=int, default=4)
    args = parser.parse_args()
    results: dict[str, dict[str, Summary]] = {}
    for vanilla in (True, False):
        with running(args.engine, vanilla=vanilla) as server:
            seconds = populate(
                server, args.accounts, args.bcrypt_rounds, ours=not vanilla
            )
            print(
                f"[{server.label}] {args.accounts} accounts written in {seconds:.1f}s",
                flush=True,
            )
            results[server.label] = measure(server, args.accounts, args.logins)
    print()
    print(
        f"engine {args.engine}, {args.accounts} accounts, bcrypt cost {args.bcrypt_rounds}, "
        f"{args.logins} logins (distinct accounts), milliseconds"
    )
    print(f"{'what':28} {'server':8} {'p50':>8} {'p95':>8} {'p99':>8} {'max':>8}")
    for what in ("login", "first request (whoami)"):
        for label in ("vanilla", "ours"):
            s = results[label][what]
            print(
                f"{what:28} {label:8} {s.p50:8.1f} {s.p95:8.1f} {s.p99:8.1f} {s.max:8.1f}"
            )
        ratio = results["ours"][what].p50 / results["vanilla"][what].p50
        print(f"{'':28} {'ours/van':8} {ratio:8.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
