# SPDX-License-Identifier: AGPL-3.0-or-later
"""What the admin-wiring tests share (test_module_scopes, test_operation_log_coverage):
the server's configuration before it starts, officers that are directory members with a
Matrix account, and a reader of the audit archive's operation log."""

import itertools
import os
import secrets
import tempfile
from pathlib import Path
from typing import Any

from tests.harness.client import MatrixClient
from tests.modules.audit.helpers import wait_for
from tests.modules.directory.helpers import ADMIN as DIRECTORY
from tests.modules.directory.helpers import member

AUDIT = "/_jwwx/admin/v1/audit"
ADMINS = "/_jwwx/admin/v1/admins"
CONSUMER = "wiring"
TOKEN_FILE = "wiring_pull_token"
AUDITOR = "wiringauditor"
LOG_KINDS = ("admin", "audit")  # the operation log: admins' and audit admins' records
_names = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix}{next(_names)}{os.urandom(2).hex()}"


def _token_file() -> Path:
    """A pull consumer's export credential, written once per test process."""
    path = Path(tempfile.mkdtemp(prefix="jwwx-wiring-")) / TOKEN_FILE
    path.write_text(secrets.token_hex(24))
    return path


PULL_TOKEN = _token_file()
# The servers' module config (ServerCase.module_config): a pull consumer reads the
# archive (its reads are not logged, so they never count as operations), the archiver
# polls fast, and small lockout counts (the lockout endpoints need locks).
MODULE_CONFIG: dict[str, dict[str, Any]] = {
    "modules.audit.AuditModule": {
        "poll_interval_seconds": 0.2,
        "pull_consumers": [{"name": CONSUMER, "token_file": str(PULL_TOKEN)}],
    },
    "modules.accounts.AccountsModule": {
        "lockout": {"max_failures": 2, "ip_max_failures": 3}
    },
}


def pull_token() -> str:
    return PULL_TOKEN.read_text().strip()


class OperationLog:
    """The operation-log records of the archive, read by the pull consumer."""

    def __init__(self, base_url: str, token: str) -> None:
        self._client = MatrixClient(base_url, "", token)
        self.records: list[dict[str, Any]] = []

    async def refresh(self) -> list[dict[str, Any]]:
        """Reads every record archived since the last call."""
        for kind in LOG_KINDS:
            while True:
                page = await self._client.ok("GET", f"{AUDIT}/export/{kind}?limit=500")
                self.records.extend(page["records"])
                if page["records"]:
                    await self._client.ok(
                        "PUT",
                        f"{AUDIT}/export/{kind}/cursor",
                        {"position": page["next_cursor"]},
                    )
                if not page["more"]:
                    break
        return self.records

    def actions(self, action: str) -> list[dict[str, Any]]:
        return [
            r["record"] for r in self.records if r["record"].get("action") == action
        ]

    async def wait_for_action(
        self, action: str, target: str | None = None
    ) -> dict[str, Any]:
        async def found() -> Any:
            await self.refresh()
            hits = [
                r
                for r in self.actions(action)
                if target is None or r.get("target") == target
            ]
            return hits[-1] if hits else None

        return dict(await wait_for(found))


async def officer(
    case: Any, boss: MatrixClient, departments: list[int], name: str = "民警"
) -> tuple[MatrixClient, str]:
    """A registered account that is also a directory member (the directory adopts the
    existing account): (its client, its userid)."""
    client = case.user("mj")
    userid = client.user_id[1:].split(":", 1)[0]
    created = await member(boss, userid, name, departments)

    async def provisioned() -> bool:
        job = await boss.ok("GET", f"{DIRECTORY}/jobs/{created['job_id']}")
        return bool(job["finished"])

    await wait_for(provisioned)
    return client, userid


async def directory_member(boss: MatrixClient, userid: str) -> dict[str, Any]:
    return dict(await boss.ok("GET", f"{DIRECTORY}/members/{userid}"))
