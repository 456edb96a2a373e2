# SPDX-License-Identifier: AGPL-3.0-or-later
"""Every admin write is in the operation log (管理端操作日志), checked over the live
route inventory (GET /_jwwx/admin/v1/http/routes), not a hand list: each POST/PUT/DELETE
route under /_jwwx/admin/ gets one valid request (drivers.py), as the super admin (the
audit admin for the archive's searches), and exactly one new record of the archive's
operation log (kinds admin and audit) must appear for it. A new admin endpoint fails
here until it has a driver and logs its writes.

NOT_YET_LOGGED lists the routes whose module has not been wired yet, each with its
owner; a route there that does log fails too, so the set only shrinks: take a route out
when its module logs it. NOT_ADMIN_OPERATIONS are writes under /_jwwx/admin/ that no
admin makes.

The classes also run test_module_scopes' checks (one server per engine for both)."""

import time

from twisted.internet import reactor, task

from tests.harness.case import PostgresCase, SQLiteCase

from .drivers import DRIVERS, Act, Context, prepare
from .test_module_scopes import ModuleScopeTests
from .wiring import MODULE_CONFIG, OperationLog, pull_token

ROUTES = "/_jwwx/admin/v1/http/routes"
ADMIN_PATHS = "/_jwwx/admin/"
WRITES = ("POST", "PUT", "DELETE")

# Admin writes not logged yet, with the helper who wires them (remove when it logs).
NOT_YET_LOGGED: set[tuple[str, str]] = set()
# Writes under /_jwwx/admin/ that are no admin's operation.
NOT_ADMIN_OPERATIONS = {
    # an export credential (the bureau's log system) acknowledging what it read
    ("PUT", "/_jwwx/admin/v1/audit/export/{kind}/cursor"),
    # an admin's own second-factor step-up for its session (a login step, not an
    # operation on anyone's data; the admin login's refusals are logged by admin_api)
    ("POST", "/_jwwx/admin/v1/admins/session/verify"),
    # the keyword test box: matches a sample text, stores nothing (a read with a body)
    ("POST", "/_jwwx/admin/v1/policy/keywords/test"),
}


def _now_ms() -> int:
    return int(time.time() * 1000)


async def _sleep(seconds: float) -> None:
    await task.deferLater(reactor, seconds, lambda: None)


class OperationLogCoverageTests:
    async def _admin_writes(self, ctx: Context) -> set[tuple[str, str]]:
        listed = await ctx.boss.ok("GET", ROUTES)
        return {
            (r["method"], r["path"])
            for r in listed["routes"]
            if r["method"] in WRITES and r["path"].startswith(ADMIN_PATHS)
        }

    async def test_every_admin_write_is_logged_once(self) -> None:
        self.maxDiff = None  # the whole list of routes when it fails
        ctx = await prepare(self)
        routes = await self._admin_writes(ctx)
        exempt = NOT_YET_LOGGED | NOT_ADMIN_OPERATIONS
        self.assertEqual(
            sorted(exempt - routes), [], "listed here but no longer registered"
        )
        self.assertEqual(
            sorted(routes - exempt - set(DRIVERS)),
            [],
            "admin writes without a driver in tests/admin_api/drivers.py: add one",
        )
        log = OperationLog(self.server.base_url, pull_token())
        await log.refresh()
        windows: dict[tuple[str, str], tuple[int, int]] = {}
        for route in sorted(routes - NOT_ADMIN_OPERATIONS):
            act: Act = await DRIVERS[route](ctx)  # set-up outside the window
            await _sleep(0.01)  # its records never share the window's first millisecond
            start = _now_ms()
            status, body = await act()
            windows[route] = (start, _now_ms())
            self.assertEqual(status, 200, f"{route}: {body}")
            await _sleep(0.01)  # windows never share a millisecond
        # A last logged write: once it is archived, everything before it is (the
        # archiver appends its inbox in time order).
        sentinel = await ctx.sentinel()
        await log.wait_for_action(sentinel[0], sentinel[1])

        def within(window: tuple[int, int]) -> list[str]:
            return [
                f"{r['record'].get('actor')} {r['record'].get('action')}"
                for r in log.records
                if window[0] <= r["ts"] <= window[1]
            ]

        found = {route: within(window) for route, window in windows.items()}
        counts = {route: len(records) for route, records in found.items()}
        self.assertEqual(
            {
                r: found[r]
                for r, n in counts.items()
                if r not in NOT_YET_LOGGED and n != 1
            },
            {},
            "admin writes that did not write exactly one operation-log record",
        )
        self.assertEqual(
            sorted(r for r in NOT_YET_LOGGED if counts.get(r)),
            [],
            "these log now: take them out of NOT_YET_LOGGED",
        )


class _Wiring(OperationLogCoverageTests, ModuleScopeTests):
    module_config = MODULE_CONFIG


class AdminWiringSQLiteTest(_Wiring, SQLiteCase):
    pass


class AdminWiringPostgresTest(_Wiring, PostgresCase):
    pass
