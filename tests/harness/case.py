# SPDX-License-Identifier: AGPL-3.0-or-later
"""Test cases that share one real server per test class (a start costs seconds).

Trial has no setUpClass, so the server starts in the first setUp and stops after the
class's last test (an atexit hook catches runs that select single tests).

Write the tests once in a mixin and bind them to both engines:

    class KeywordTests(ServerTests): ...
    class KeywordSQLiteTest(KeywordTests, SQLiteCase): ...
    class KeywordPostgresTest(KeywordTests, PostgresCase): ...
"""

import itertools
from typing import Any, ClassVar
from unittest import TestLoader

from twisted.trial import unittest

from tests.harness import postgres
from tests.harness.client import MatrixClient
from tests.harness.server import TestServer

_unique = itertools.count(1)


class ServerCase(unittest.TestCase):
    engine: ClassVar[str] = "sqlite"
    keywords: ClassVar[tuple[str, ...]] = ()
    init_args: ClassVar[tuple[str, ...]] = ()
    # True: the server keeps the shipped login rate limits (others lift them).
    shipped_login_limits: ClassVar[bool] = False
    # Module config keys changed from the start, e.g. {"admin_api.AdminApiModule":
    # {"idle_timeout_seconds": 4}} (conf.d; saves a restart).
    module_config: ClassVar[dict[str, dict[str, Any]]] = {}
    _server: ClassVar[TestServer | None] = None
    _done: ClassVar[int] = 0

    @property
    def server(self) -> TestServer:
        assert type(self)._server is not None
        return type(self)._server

    def setUp(self) -> None:
        cls = type(self)
        if cls.engine == "postgres":
            postgres.skip_unless_ready(postgres.unavailable_reason(), "PostgreSQL")
        if cls._server is None:
            cls.prepare_class()
            server = TestServer(
                cls.engine,
                cls.keywords,
                cls.init_args,
                shipped_login_limits=cls.shipped_login_limits,
                module_config=cls.module_config,
                configure=cls.configure_server,
                wait_for_flush=False,
            )
            try:
                server.start()
            except BaseException:
                server.stop()
                raise
            cls._server = server
            cls._done = 0

    @classmethod
    def prepare_class(cls) -> None:
        """Hook: start what the server needs (e.g. an SMTP stand-in) before it starts."""

    @classmethod
    def configure_server(cls, server: TestServer) -> None:
        """Hook: after init, before the server first starts (e.g. conf.d files)."""

    @classmethod
    def finish_class(cls) -> None:
        """Hook: stop what prepare_class started."""

    def tearDown(self) -> None:
        cls = type(self)
        cls._done += 1
        total = len(TestLoader().getTestCaseNames(cls))
        if cls._done >= total and cls._server is not None:
            cls._server.stop()
            cls._server = None
            cls.finish_class()

    # Helpers

    def user(self, prefix: str = "user", admin: bool = False) -> MatrixClient:
        """A newly registered, logged-in client with a unique localpart."""
        localpart = f"{prefix}{next(_unique)}"
        user_id, token = self.server.register(localpart, admin=admin)
        return MatrixClient(self.server.base_url, user_id, token)

    def anonymous(self) -> MatrixClient:
        return MatrixClient(self.server.base_url)

    def assertErrcode(self, answer: tuple[int, Any], status: int, errcode: str) -> Any:
        code, body = answer
        self.assertEqual(
            (code, body.get("errcode") if isinstance(body, dict) else body),
            (status, errcode),
            body,
        )
        return body


class SQLiteCase(ServerCase):
    engine = "sqlite"


class PostgresCase(ServerCase):
    engine = "postgres"
