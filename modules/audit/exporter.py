# SPDX-License-Identifier: AGPL-3.0-or-later
"""Push export to the bureau's log system: JSON lines over syslog (RFC 5424 over TCP,
octet-counting) or HTTP POST, at-least-once with a durable cursor per exporter.

Each tick, an exporter reads the records after its cursor (jwwx_audit_cursors,
consumer "push:<name>"), delivers a batch, and only then moves the cursor. A failed
delivery (collector down, reset, timeout, non-2xx) keeps the cursor and retries with
exponential backoff, so after a restart or an outage it resumes where it stopped; in
the normal path every record is delivered exactly once. The backlog (records not yet
delivered) is the Prometheus gauge jwwx_audit_export_backlog_records{exporter=...}.
"""

import json
import logging
from typing import Any

from twisted.internet import reactor
from twisted.web.http_headers import Headers

import treq
from prometheus_client import Gauge
from synapse.module_api import ModuleApi

from modules.audit import storage
from modules.audit.config import AuditConfig, ExporterConfig
from modules.audit.records import open_record
from modules.audit.syslog import frame, send_tcp
from modules.common.runtime import ModuleRuntime
from modules.common.synapse.runtime import await_foreign

logger = logging.getLogger(__name__)

BACKLOG = Gauge(
    "jwwx_audit_export_backlog_records",
    "Audit records not yet delivered by a push exporter",
    ["exporter"],
)
ALL_KINDS = "*"


class ExporterState:
    def __init__(self, config: ExporterConfig) -> None:
        self.config = config
        self.consumer = f"push:{config.name}"
        self.failures = 0
        self.retry_at = 0
        self.backlog = 0
        self.last_error: str | None = None
        self.delivered = 0


class PushExporters:
    def __init__(
        self, api: ModuleApi, config: AuditConfig, runtime: ModuleRuntime
    ) -> None:
        self._api = api
        self._config = config
        self._runtime = runtime
        self.states = [ExporterState(e) for e in config.exporters]
        self._busy = False

    async def tick(self) -> None:
        if not self._runtime.is_ready or self._busy:
            return
        self._busy = True
        try:
            for state in self.states:
                if self._api.get_current_time_msec() >= state.retry_at:
                    await self._drain(state)
        finally:
            self._busy = False

    async def _drain(self, state: ExporterState) -> None:
        config = state.config
        while True:
            position = await self._api.run_db_interaction(
                "jwwx_audit_push_cursor", storage.cursor_txn, state.consumer, ALL_KINDS
            )
            rows = await self._api.run_db_interaction(
                "jwwx_audit_push_read",
                storage.records_after_txn,
                position,
                config.kinds,
                config.batch_size,
            )
            await self._update_backlog(state, position)
            if not rows:
                return
            lines = [open_record(self._config.keys, row).to_json() for row in rows]
            try:
                await self._deliver(config, lines)
            except Exception as e:
                self._failed(state, e)
                return
            state.failures, state.last_error = 0, None
            state.delivered += len(rows)
            await self._api.run_db_interaction(
                "jwwx_audit_push_commit",
                storage.set_cursor_txn,
                state.consumer,
                ALL_KINDS,
                rows[-1].seq,
                self._api.get_current_time_msec(),
            )
            await self._update_backlog(state, rows[-1].seq)
            if len(rows) < config.batch_size:
                return

    def _failed(self, state: ExporterState, exc: Exception) -> None:
        config = state.config
        delay = min(
            config.retry_max_seconds,
            config.retry_initial_seconds * (2 ** min(state.failures, 30)),
        )
        state.failures += 1
        state.last_error = f"{type(exc).__name__}: {exc}"
        state.retry_at = self._api.get_current_time_msec() + int(delay * 1000)
        logger.warning(
            "audit exporter %s: delivery failed (%s); retry in %.1fs",
            config.name,
            state.last_error,
            delay,
        )

    async def _update_backlog(self, state: ExporterState, position: int) -> None:
        state.backlog = await self._api.run_db_interaction(
            "jwwx_audit_push_backlog",
            storage.count_after_txn,
            position,
            state.config.kinds,
        )
        BACKLOG.labels(exporter=state.config.name).set(state.backlog)

    async def _deliver(self, config: ExporterConfig, records: list[Any]) -> None:
        if config.syslog_host is not None:
            payload = b"".join(frame(self._api.server_name, r) for r in records)
            await await_foreign(
                send_tcp(
                    reactor,
                    config.syslog_host,
                    config.syslog_port,
                    payload,
                    config.timeout_seconds,
                )
            )
            return
        assert config.http_url is not None
        body = "".join(
            json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n"
            for r in records
        ).encode("utf-8")
        await await_foreign(_post(config.http_url, body, config.timeout_seconds))

    def status(self) -> list[dict[str, Any]]:
        return [
            {
                "name": s.config.name,
                "kinds": list(s.config.kinds),
                "backlog": s.backlog,
                "failures": s.failures,
                "last_error": s.last_error,
                "delivered_since_start": s.delivered,
            }
            for s in self.states
        ]


async def _post(url: str, body: bytes, timeout: float) -> None:
    response = await treq.post(
        url,
        data=body,
        headers=Headers({"Content-Type": ["application/x-ndjson; charset=utf-8"]}),
        timeout=timeout,
        persistent=False,
    )
    await response.content()
    if not 200 <= response.code < 300:
        raise RuntimeError(f"collector answered HTTP {response.code}")
