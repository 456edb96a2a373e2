# SPDX-License-Identifier: AGPL-3.0-or-later
"""What other modules call: `registry.lookup(api, public.SERVICE)` returns this
AuditService (as the Protocol of the same name in public.py).

    audit = registry.lookup(api, public.SERVICE)
    await audit.record_admin_operation(actor, "policy.keywords.replace", target,
                                       before, after)
    await audit.record_app_message(app_id, sender, targets, content, msgid=...)
    await audit.record_app_read(app_id, msgid, user_id)
    await audit.record_usage(user_id, "login", platform=..., client_version=..., ...)

Each call seals the record with the current SM4 key and stores it in the inbox in one
small insert; the archiver appends it to the chain within poll_interval_seconds. The
call returns once the record is durable, so a caller that awaits it before answering
cannot lose it. Values must be JSON-serialisable.

Login usage records are the exception (`queue_usage`): no answer waits for them, so they
are queued and written USAGE_COALESCE_S after the first of them, the records of all
logins meanwhile in one transaction; a login does not pay for its audit record's
commit, and a stream of logins (a shift change) costs one commit per interval, not one
per login (on SQLite every commit queues for the one connection).
"""

import logging
import secrets
from collections.abc import Mapping, Sequence
from typing import Any

from synapse.module_api import ModuleApi

from modules.audit import storage
from modules.audit.archiver import Archiver
from modules.audit.config import AuditConfig
from modules.audit.records import seal_body
from modules.common.runtime import ModuleRuntime

logger = logging.getLogger(__name__)

USAGE_COALESCE_S = 1.0  # below the archiver's default poll (1 s) plus its run


class AuditService:
    def __init__(
        self,
        api: ModuleApi,
        config: AuditConfig,
        runtime: ModuleRuntime,
        archiver: Archiver,
    ) -> None:
        self._api = api
        self._config = config
        self._runtime = runtime
        self._archiver = archiver
        # Usage records waiting for the writer (kind, body, time), and whether it runs.
        self._queued: list[tuple[str, dict[str, Any], int]] = []
        self._writing = False

    def _row(
        self, kind: str, body: Mapping[str, Any], now: int
    ) -> tuple[str, str, int, str, str]:
        record_id = f"{now:015d}-{secrets.token_hex(8)}"
        payload = seal_body(self._config.current_key, dict(body))
        return record_id, kind, now, self._config.current_key_id, payload

    async def record(self, kind: str, body: Mapping[str, Any]) -> None:
        """Store one record of `kind` (admin, usage, app, audit) durably."""
        await self._runtime.ready()
        row = self._row(kind, body, self._api.get_current_time_msec())
        await self._api.run_db_interaction(
            "jwwx_audit_inbox_add", storage.inbox_add_txn, *row
        )
        self._archiver.pacer.wake()

    def queue_usage(self, body: Mapping[str, Any]) -> None:
        """A usage record written shortly after, off the caller's path (see above)."""
        self._queued.append(("usage", dict(body), self._api.get_current_time_msec()))
        if not self._writing:
            self._writing = True
            self._api.run_as_background_process(
                "jwwx_audit_write_queued", self._write_queued
            )

    async def _write_queued(self) -> None:
        try:
            await self._runtime.ready()
            await self._api.sleep(USAGE_COALESCE_S)
            while self._queued:
                batch, self._queued = self._queued, []
                rows = [self._row(kind, body, ts) for kind, body, ts in batch]
                try:
                    await self._api.run_db_interaction(
                        "jwwx_audit_inbox_add_many", storage.inbox_add_many_txn, rows
                    )
                    self._archiver.pacer.wake()
                except Exception:
                    # Logged loudly, as a lost usage record always was.
                    logger.exception("audit: %d usage records lost", len(rows))
        finally:
            self._writing = False

    async def record_admin_operation(
        self,
        actor: str,
        action: str,
        target: str | None,
        before: Any = None,
        after: Any = None,
        **detail: Any,
    ) -> None:
        """An admin changed something: who, what (a dotted action name such as
        "policy.keywords.replace"), on what, and the value before and after."""
        await self.record(
            "admin",
            {
                "actor": actor,
                "action": action,
                "target": target,
                "before": before,
                "after": after,
                "detail": detail,
            },
        )

    async def record_usage(
        self,
        user_id: str,
        action: str,
        *,
        platform: str | None = None,
        client_version: str | None = None,
        device_id: str | None = None,
        ip: str | None = None,
        user_agent: str | None = None,
        result: str = "ok",
    ) -> None:
        """Usage: logins (and failed attempts), the platform and client version."""
        await self.record(
            "usage",
            usage_body(
                user_id,
                action,
                platform=platform,
                client_version=client_version,
                device_id=device_id,
                ip=ip,
                user_agent=user_agent,
                result=result,
            ),
        )

    async def record_document(
        self, user_id: str, action: str, doc_id: str, **detail: Any
    ) -> None:
        """A collaborative document (modules.docs): opened, an edit session, shared,
        exported, restored, deleted, an edit refused; `detail` says how."""
        await self.record(
            "document",
            {"user_id": user_id, "action": action, "doc_id": doc_id, **detail},
        )

    async def record_app_message(
        self,
        app_id: str,
        sender: str | None,
        targets: Mapping[str, Any],
        content: Any,
        msgid: str | None = None,
    ) -> None:
        """An app/push message: the sending app, who sent it, the target range (users,
        departments, tags as the API got them) and the content."""
        await self.record(
            "app",
            {
                "event": "message",
                "app_id": app_id,
                "sender": sender,
                "targets": dict(targets),
                "content": content,
                "msgid": msgid,
            },
        )

    async def record_app_read(self, app_id: str, msgid: str, user_id: str) -> None:
        """Someone read an app/push message."""
        await self.record(
            "app",
            {"event": "read", "app_id": app_id, "msgid": msgid, "user_id": user_id},
        )

    async def record_app_reads(
        self, reads: Sequence[tuple[str, str, str]], opens: Sequence[int] = ()
    ) -> None:
        """Read records (app_id, msgid, user_id) stored in one transaction; a record
        standing for more than one open of the message says how many (`opens`)."""
        if opens and len(opens) != len(reads):
            raise ValueError(f"{len(opens)} counts for {len(reads)} read records")
        await self._runtime.ready()
        now = self._api.get_current_time_msec()
        rows = []
        for i, (a, m, u) in enumerate(reads):
            body: dict[str, Any] = {
                "event": "read",
                "app_id": a,
                "msgid": m,
                "user_id": u,
            }
            if opens and opens[i] > 1:
                body["opens"] = opens[i]
            rows.append(self._row("app", body, now))
        await self._api.run_db_interaction(
            "jwwx_audit_inbox_add_many", storage.inbox_add_many_txn, rows
        )
        self._archiver.pacer.wake()

    async def archive_burned_message(self, event_json: str) -> None:
        """modules.burn's hook, called before a burn-after-read message is purged: the
        message is already in the event stream, so archiving up to now keeps it."""
        await self._runtime.ready()
        await self._archiver.catch_up()


def usage_body(
    user_id: str,
    action: str,
    *,
    platform: str | None,
    client_version: str | None,
    device_id: str | None,
    ip: str | None,
    user_agent: str | None,
    result: str,
) -> dict[str, Any]:
    return {
        "user_id": user_id,
        "action": action,
        "platform": platform,
        "client_version": client_version,
        "device_id": device_id,
        "ip": ip,
        "user_agent": user_agent,
        "result": result,
    }
