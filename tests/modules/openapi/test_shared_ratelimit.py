# SPDX-License-Identifier: AGPL-3.0-or-later
"""With Redis configured (as workers require), the per-app call limit is counted in Redis,
so calls on every worker add up: counts made elsewhere refuse calls here (45009)."""

import shutil
import subprocess
import time
from typing import Any

from twisted.trial import unittest

from tests.harness.case import PostgresCase, SQLiteCase
from tests.harness.server import free_port
from tests.modules.openapi.helpers import create_app, token_for, wecom

KEY_PREFIX = "jwwx:openapi:rate"
LIMIT = 12000  # the default rate_limit_per_minute


class SharedRateLimitTests:
    _redis: Any = None
    _redis_port = 0

    @classmethod
    def prepare_class(cls) -> None:
        if shutil.which("redis-server") is None:
            raise unittest.SkipTest("skipped: redis-server is not installed")
        cls._redis_port = free_port()
        cls._redis = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(cls._redis_port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(1800):
            if cls._cli("PING") == "PONG":
                break
            time.sleep(0.05)
        cls.init_args = (  # type: ignore[attr-defined]
            "--redis-host",
            "127.0.0.1",
            "--redis-port",
            str(cls._redis_port),
        )

    @classmethod
    def finish_class(cls) -> None:
        if cls._redis is not None:
            cls._redis.terminate()
            cls._redis.wait(timeout=10)
            cls._redis = None

    @classmethod
    def _cli(cls, *args: str) -> str:
        result = subprocess.run(
            ["redis-cli", "-p", str(cls._redis_port), *args],
            capture_output=True,
            text=True,
            check=False,
        )
        return result.stdout.strip()

    async def test_calls_counted_in_redis(self) -> None:
        admin = self.user("rladmin", admin=True)  # type: ignore[attr-defined]
        client = self.anonymous()  # type: ignore[attr-defined]
        app = await create_app(admin)
        t = await token_for(client, app["secret"])
        minute = int(time.time() // 60)
        for _ in range(3):
            answer = await wecom(client, "tag/list", t)
            self.assertEqual(answer["errcode"], 0, answer)  # type: ignore[attr-defined]
        counted = sum(
            int(self._cli("GET", f"{KEY_PREFIX}:{app['agentid']}:{m}") or 0)
            for m in (minute, minute + 1)
        )
        self.assertEqual(counted, 3)  # type: ignore[attr-defined]
        # Other workers used up this minute (and the next, should it start now).
        for m in (minute, minute + 1):
            self._cli("SET", f"{KEY_PREFIX}:{app['agentid']}:{m}", str(LIMIT))
        answer = await wecom(client, "tag/list", t)
        self.assertEqual(answer["errcode"], 45009, answer)  # type: ignore[attr-defined]
        # Another app has its own count.
        other = await create_app(admin)
        o = await token_for(client, other["secret"])
        self.assertEqual(  # type: ignore[attr-defined]
            (await wecom(client, "tag/list", o))["errcode"], 0
        )


class SharedRateLimitSQLiteTest(SharedRateLimitTests, SQLiteCase):
    pass


class SharedRateLimitPostgresTest(SharedRateLimitTests, PostgresCase):
    pass
