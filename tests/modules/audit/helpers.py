# SPDX-License-Identifier: AGPL-3.0-or-later
"""Helpers of the audit tests: direct database access, a real syslog collector
(RFC 5424 over TCP, octet-counting) and polling."""

import json
import sqlite3
from collections.abc import Awaitable, Callable
from typing import Any

from twisted.internet import defer, protocol, reactor, task
from twisted.web import resource, server

from modules.audit.syslog import parse_frames
from tests.harness import postgres
from tests.harness.server import TestServer

PREFIX = "/_jwwx/admin/v1/audit"


def sleep(seconds: float) -> Any:
    return task.deferLater(reactor, seconds, lambda: None)


async def wait_for(
    check: Callable[[], Awaitable[Any]], attempts: int = 450, delay: float = 0.2
) -> Any:
    """Poll until check() returns something truthy; fail after `attempts` tries (90 s
    by default: CI runs two jobs on a loaded machine, and a passing check returns at
    once, so only a failure waits that long)."""
    last = None
    for _ in range(attempts):
        last = await check()
        if last:
            return last
        await sleep(delay)
    raise AssertionError(f"condition not met; last value {last!r}")


def query(server: TestServer, sql: str, args: tuple[Any, ...] = ()) -> list[Any]:
    """Read or change the server's database directly, as an intruder would."""
    if server.engine == "sqlite":
        conn = sqlite3.connect(server.data_dir / "homeserver.db")
        try:
            rows = list(conn.execute(sql, args).fetchall())
            conn.commit()
            return rows
        finally:
            conn.close()
    assert server.pg_database is not None
    pg = postgres.connect(server.pg_database)
    try:
        with pg.cursor() as cur:
            cur.execute(sql.replace("?", "%s"), args)
            rows = list(cur.fetchall()) if cur.description else []
        pg.commit()
        return rows
    finally:
        pg.close()


class _Collector(protocol.Protocol):
    def __init__(self, sink: "SyslogCollector") -> None:
        self._sink = sink
        self._buffer = b""

    def connectionMade(self) -> None:
        self._sink.connections.add(self)

    def dataReceived(self, data: bytes) -> None:
        frames, self._buffer = parse_frames(self._buffer + data)
        for raw in frames:
            self._sink.messages.append(raw)

    def connectionLost(self, reason: Any = None) -> None:
        self._sink.connections.discard(self)


class SyslogCollector(protocol.Factory):
    """A syslog TCP listener that can go down and come back on the same port."""

    def __init__(self, port: int) -> None:
        self.messages: list[bytes] = []
        self.connections: set[_Collector] = set()
        self.port = port
        self._listening: Any = None

    def buildProtocol(self, addr: Any) -> _Collector:
        return _Collector(self)

    def start(self) -> None:
        self._listening = reactor.listenTCP(self.port, self, interface="127.0.0.1")
        self.port = self._listening.getHost().port

    async def stop(self) -> None:
        listening = self.close()
        if listening is not None:
            await listening

    def close(self) -> Any:
        """Drop every connection and stop listening (a Deferred, or None)."""
        for conn in list(self.connections):
            assert conn.transport is not None
            conn.transport.abortConnection()
        listening, self._listening = self._listening, None
        if listening is None:
            return None
        return defer.maybeDeferred(listening.stopListening)

    def records(self) -> list[dict[str, Any]]:
        out = []
        for raw in self.messages:
            header, _, msg = raw.partition(b" - ")
            assert header.startswith(b"<110>1 "), header
            kind, _, payload = msg.partition(b" - ")
            record = json.loads(payload)
            assert record["kind"] == kind.decode()
            out.append(record)
        return out


class _Ingest(resource.Resource):
    isLeaf = True

    def __init__(self, sink: "HttpCollector") -> None:
        super().__init__()
        self._sink = sink

    def render_POST(self, request: Any) -> bytes:
        self._sink.content_types.append(request.getHeader("content-type"))
        for line in request.content.read().decode("utf-8").splitlines():
            self._sink.records.append(json.loads(line))
        return b"{}"


class HttpCollector:
    """The bureau's log system over HTTP: takes POSTed JSON lines."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.records: list[dict[str, Any]] = []
        self.content_types: list[str] = []
        self._listening: Any = None

    def start(self) -> None:
        site = server.Site(_Ingest(self))
        self._listening = reactor.listenTCP(self.port, site, interface="127.0.0.1")

    async def stop(self) -> None:
        listening, self._listening = self._listening, None
        if listening is not None:
            await defer.maybeDeferred(listening.stopListening)
