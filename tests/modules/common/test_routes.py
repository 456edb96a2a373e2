# SPDX-License-Identifier: AGPL-3.0-or-later
"""The route inventory under bad input (issue 15): every route our modules registered,
read from the running server (GET /_jwwx/admin/v1/http/routes, not a hand list, so a new
endpoint is covered without touching this file), gets a small corpus of bad input —
invalid JSON, wrong types, NUL, lone surrogates, huge and non-ASCII numbers, deep nesting,
long strings — in its path, query and body, without a token, as an officer, as an admin
(Matrix routes) and as an app (WeCom routes). Every answer must come within a timeout, be
below 500 (WeCom: errcode not -1), and nothing may change: the row counts of our tables
(and Synapse's rooms, users, events, media) are the same before and after."""

import json
import os
import sqlite3
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from twisted.internet import defer, reactor, task

from tests.harness import postgres
from tests.harness.case import PostgresCase, SQLiteCase
from tests.harness.client import MatrixClient
from tests.harness.server import TestServer
from tests.modules.openapi.helpers import create_app, token_for

ROUTES = "/_jwwx/admin/v1/http/routes"
ANSWER_TIMEOUT = 20.0  # a hang fails the test; no timing is asserted
CONCURRENCY = 4
SYNAPSE_TABLES = ("rooms", "users", "events", "local_media_repository")
# Tables every authenticated request may write, as Synapse's user_ips: who was active
# on which day (运营 statistics), not a change the request asked for.
ACTIVITY_TABLES = ("jwwx_acc_activity",)

# Actions that take no input at all: any request performs them, so they are probed for
# answers (no 5xx, no hang) after the state comparison. Each must be a registered route.
NO_INPUT_ACTIONS = {
    # start a TOTP enrolment (a pending secret for the caller)
    ("POST", "/_jwwx/client/v1/accounts/mfa/totp"),
    # issue (and cache) the corp's JS-SDK ticket
    ("GET", "/cgi-bin/get_jsapi_ticket"),
    # requeue failed account provisioning (logged as an admin operation)
    ("POST", "/_jwwx/admin/v1/directory/retry"),
    # build the open API's pool of spare broadcast rooms now (logged as an admin
    # operation)
    ("POST", "/_jwwx/admin/v1/openapi/broadcast/pool"),
}
_DIGITS = "9" * 5000
# Path segments (already percent-encoded).
PATH_VALUES = (
    "%00",
    "a%00b",
    "%ED%A0%80",  # a lone surrogate as UTF-8 bytes
    "%FF%FE",
    "%C2%B2",  # "²": str.isdigit() but not a number
    "18446744073709551616",
    "9" * 300,
    "x" * 3000,
)
QUERY_KEYS = (
    "q",
    "limit",
    "from",
    "id",
    "userid",
    "user_id",
    "department_id",
    "tagid",
    "media_id",
    "code",
    "type",
    "state",
    "filename",
    "consumer",
    "from_seq",
    "max_records",
    "width",
    "height",
    "method",
    "corpid",
    "corpsecret",
    "agentid",
    "appid",
    "redirect_uri",
    "response_type",
    "fetch_child",
    "kind",
)
# Every key gets the value (the request line stays under Twisted's 16 KB line limit,
# which drops longer lines before any module sees them)...
QUERY_VALUES = (
    "%00",
    "%C2%B2",
    "18446744073709551616",
    "%ED%A0%80",
    "9" * 300,
    "y" * 300,
)
# ...and Python's int-length limit (4,300 digits) on the paging parameters.
LONG_QUERY = f"limit={_DIGITS}&from={_DIGITS}"
BODY_KEYS = (
    "userid",
    "user_id",
    "user_ids",
    "useridlist",
    "name",
    "department",
    "parent_id",
    "parentid",
    "id",
    "tagid",
    "tagname",
    "userlist",
    "partylist",
    "agentid",
    "touser",
    "toparty",
    "totag",
    "msgtype",
    "text",
    "content",
    "code",
    "keywords",
    "watermark",
    "sharing",
    "ttl_seconds",
    "mute_all",
    "muted",
    "admin",
    "owner_only_manage",
    "room_id",
    "event_id",
    "gender",
    "order",
    "redirect_uri",
    "callback",
    "visible_range",
    "ip_allowlist",
    "from_ts",
    "to_ts",
    "kind",
    "consumer",
    "nonce",
    "mac",
    "user",
    "password",
    "new_password",
    "enabled",
    "max_members",
    "retention_days",
    "msgid",
    "url",
    "timestamp",
    "nonceStr",
    "signature",
)
# (Not [] or {}: an empty list is a valid value of some list fields, e.g. clearing the
# keyword list; a list of nulls or an object of nulls is wrong for every field.)
_WRONG_VALUES: tuple[Any, ...] = (
    [None],
    {"x": None},
    True,
    -1,
    1.5,
    "\x00",
    "\ud800",
    "z" * 100_000,
    [[[[["deep"]]]]],
)


def _bodies() -> list[bytes]:
    deep = b"[" * 50_000 + b"]" * 50_000
    bodies = [
        b"{",
        b"\xff\xfe{}",
        b"[]",
        b'"text"',
        b"NaN",
        deep,
        b'{"a": ' * 40 + b"1" + b"}" * 40,
        b'{"x": 1' + b"0" * 5000 + b"}",
        json.dumps({k: 2**64 for k in BODY_KEYS}).encode(),
    ]
    for value in _WRONG_VALUES:
        bodies.append(json.dumps({k: value for k in BODY_KEYS}).encode())
    return bodies


BODIES = _bodies()


def _fill(path: str, value: str) -> str:
    out, rest = [], path
    while "{" in rest:
        head, _, tail = rest.partition("{")
        out.append(head + value)
        rest = tail.partition("}")[2]
    return "".join(out) + rest


def row_counts(server: TestServer) -> dict[str, int]:
    """Rows per table: ours (jwwx_*) and a few of Synapse's."""
    if server.engine == "sqlite":
        conn: Any = sqlite3.connect(server.data_dir / "homeserver.db", timeout=30)
        list_sql = "SELECT name FROM sqlite_master WHERE type = 'table'"
    else:
        assert server.pg_database is not None
        conn = postgres.connect(server.pg_database)
        list_sql = "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
    try:
        cur = conn.cursor()
        cur.execute(list_sql)
        names = sorted(
            r[0]
            for r in cur.fetchall()
            if (r[0].startswith("jwwx") or r[0] in SYNAPSE_TABLES)
            and r[0] not in ACTIVITY_TABLES
        )
        counts = {}
        for name in names:
            cur.execute(f"SELECT COUNT(*) FROM {name}")  # noqa: S608 - catalogue names
            counts[name] = int(cur.fetchone()[0])
        return counts
    finally:
        conn.close()


class RouteInventoryTests:
    maxDiff = None
    # ~9,000 requests: trial's default 120 s is too short on a busy machine (each
    # request has its own ANSWER_TIMEOUT; this only bounds the whole walk).
    timeout = 900
    # Who sends the corpus to each route. The token gates answer alike on both engines,
    # so the PostgreSQL class sends it only as the callers that reach the database
    # (the engine-specific part: types, lengths, NUL bytes), a third of the requests.
    matrix_callers: tuple[str, ...] = ("none", "officer", "admin")
    wecom_callers: tuple[str, ...] = ("app", "none")

    async def test_every_route_answers_bad_input_without_5xx_or_change(self) -> None:
        admin = self.user("fuzzadmin", admin=True)
        officer = self.user("fuzzofficer")
        anonymous = self.anonymous()
        routes = (await admin.ok("GET", ROUTES))["routes"]
        self.assertGreater(len(routes), 100)
        self.assertIn({"method": "GET", "path": ROUTES, "dialect": "matrix"}, routes)
        app = await create_app(admin, name="模糊测试", directory_write=True)
        app_token = await token_for(anonymous, app["secret"])
        await self._settle()
        before = row_counts(self.server)

        known = {(r["method"], r["path"]) for r in routes}
        self.assertEqual(NO_INPUT_ACTIONS - known, set(), "not registered any more")
        failures: list[str] = []
        checked = [
            r for r in routes if (r["method"], r["path"]) not in NO_INPUT_ACTIONS
        ]
        total = await self._fuzz(
            checked, officer, admin, anonymous, app_token, failures
        )
        await self._settle()
        after = row_counts(self.server)
        changed = {
            t: (before[t], after.get(t)) for t in before if before[t] != after.get(t)
        }
        unchecked = [r for r in routes if (r["method"], r["path"]) in NO_INPUT_ACTIONS]
        total += await self._fuzz(
            unchecked, officer, admin, anonymous, app_token, failures
        )
        report = os.environ.get("JWWX_ROUTES_REPORT")
        if report:
            lines = failures + ["accepted (2xx to a write):", *_accepted]
            Path(report).write_text("\n".join(lines), encoding="utf-8")
        # Both at once: 5xx/unanswered requests (first per route) and changed tables.
        self.assertEqual(
            {"failed": _summary(failures), "changed (rows before, after)": changed},
            {"failed": [], "changed (rows before, after)": {}},
            f"{len(failures)} of {total} requests failed",
        )

    async def _fuzz(
        self,
        routes: list[dict[str, str]],
        officer: MatrixClient,
        admin: MatrixClient,
        anonymous: MatrixClient,
        app_token: str,
        failures: list[str],
    ) -> int:
        """Send the corpus to each route as each fitting caller; the number sent."""
        limiter = defer.DeferredSemaphore(CONCURRENCY)
        calls: list[Coroutine[Any, Any, None]] = []
        for route in routes:
            method, path, dialect = route["method"], route["path"], route["dialect"]
            known = {
                "app": (anonymous, app_token),
                "none": (anonymous, ""),
                "officer": (officer, ""),
                "admin": (admin, ""),
            }
            wanted = self.wecom_callers if dialect == "wecom" else self.matrix_callers
            for label in wanted:
                client, app_tok = known[label]
                for url, body in self._cases(method, path):
                    if app_tok:
                        sep = "&" if "?" in url else "?"
                        url = f"{url}{sep}access_token={app_tok}"
                    calls.append(
                        self._probe(client, label, dialect, method, url, body, failures)
                    )
        await defer.gatherResults(
            [
                defer.ensureDeferred(limiter.run(lambda c=c: defer.ensureDeferred(c)))
                for c in calls
            ],
            consumeErrors=True,
        )
        return len(calls)

    async def _settle(self) -> None:
        """Let background work triggered by the set-up (provisioning, the audit
        archiver's 1 s poll of the event stream) finish before counting rows: the
        counts must stay the same over two polls."""
        previous, steady = None, 0
        for _ in range(40):
            counts = row_counts(self.server)
            steady = steady + 1 if counts == previous else 0
            if steady >= 2:
                return
            previous = counts
            await _sleep(1.0)

    @staticmethod
    def _cases(method: str, path: str) -> list[tuple[str, bytes | None]]:
        with_body = method in ("POST", "PUT", "DELETE")
        cases: list[tuple[str, bytes | None]] = []
        if "{" in path:
            for value in PATH_VALUES:
                cases.append((_fill(path, value), None))
        base = _fill(path, "1")
        for value in QUERY_VALUES:
            query = "&".join(f"{k}={value}" for k in QUERY_KEYS)
            cases.append((f"{base}?{query}", None))
        cases.append((f"{base}?{LONG_QUERY}", None))
        if with_body:
            cases.extend((base, body) for body in BODIES)
        return cases

    async def _probe(
        self,
        client: MatrixClient,
        label: str,
        dialect: str,
        method: str,
        url: str,
        body: bytes | None,
        failures: list[str],
    ) -> None:
        where = f"{label} {method} {url[:120]} body={(body or b'')[:60]!r}"
        try:
            status, answer = await client.request(
                method,
                url,
                raw=body,
                token="" if label in ("none", "app") else None,
                timeout=ANSWER_TIMEOUT,
            )
        except Exception as e:  # a timeout or a dropped connection
            failures.append(f"{where}: no answer ({type(e).__name__})")
            return
        if status < 300 and method != "GET" and _errcode(answer) in (None, 0):
            _accepted.append(f"{where}: {status} {str(answer)[:200]}")
        if status >= 500 and not (status == 503 and _starting(answer)):
            failures.append(f"{where}: {status} {str(answer)[:200]}")
        elif (
            dialect == "wecom"
            and isinstance(answer, dict)
            and answer.get("errcode") == -1
        ):
            failures.append(f"{where}: errcode -1 {str(answer)[:200]}")


_accepted: list[str] = []  # for the report only


def _summary(failures: list[str], limit: int = 40) -> list[str]:
    """The first failure of each (caller, method, route), at most `limit` of them."""
    seen: dict[str, str] = {}
    for line in failures:
        key = " ".join(line.split(" ")[:3]).split("?")[0]
        seen.setdefault(key, line[:400])
    return list(seen.values())[:limit]


def _errcode(answer: Any) -> Any:
    return answer.get("errcode") if isinstance(answer, dict) else None


def _starting(answer: Any) -> bool:
    return (
        isinstance(answer, dict) and answer.get("errcode") == "CN_JWWX_MODULE_STARTING"
    )


async def _sleep(seconds: float) -> None:
    await task.deferLater(reactor, seconds, lambda: None)


class RouteInventorySQLiteTest(RouteInventoryTests, SQLiteCase):
    pass


class RouteInventoryPostgresTest(RouteInventoryTests, PostgresCase):
    matrix_callers = ("admin",)
    wecom_callers = ("app",)
