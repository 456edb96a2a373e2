# SPDX-License-Identifier: AGPL-3.0-or-later
"""Start-up of a module: apply its schema in the background, report health, gate work.

Synapse instantiates modules just before it starts listening, so migrations run as a
background process and request handlers `await runtime.ready()` before using the tables.
"""

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from synapse.module_api import ModuleApi

from modules.common.errors import MODULE_STARTING, error
from modules.common.health import register_probe
from modules.common.jobs import Jobs
from modules.common.migrations import apply_migrations_txn, package_schema_files
from modules.common.synapse.patches import check_patch_points

logger = logging.getLogger(__name__)

READY_WAIT_SECONDS = 30.0


class ModuleRuntime:
    def __init__(
        self,
        api: ModuleApi,
        name: str,
        package: str | None,
        on_ready: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        # Every module starts through here: refuse a Synapse our patches do not fit.
        check_patch_points()
        self._api = api
        self._on_ready = on_ready
        self.name = name
        self.status = "starting"
        self.detail = ""
        self.schema_version = 0
        # Problems that need an operator while the module keeps working: health says
        # "degraded" with their text as long as any is raised.
        self._alerts: dict[str, str] = {}
        self._jobs: Jobs | None = None
        register_probe(api, name, self.probe)
        if package is None:
            self.status = "ok"
        else:
            files = package_schema_files(package)
            api.run_as_background_process(f"jwwx_{name}_migrate", self._migrate, files)

    async def _migrate(self, files: dict[str, str]) -> None:
        try:
            applied = await self._api.run_db_interaction(
                f"jwwx_{self.name}_migrate", apply_migrations_txn, self.name, files
            )
        except Exception as e:
            logger.exception("schema migration of %s failed", self.name)
            self.status, self.detail = "failed", f"schema migration failed: {e}"
            return
        if applied:
            logger.info("%s: applied schema versions %s", self.name, applied)
        self.schema_version = len({name.split("_", 1)[0] for name in files})
        if self._on_ready is not None:
            try:
                await self._on_ready()
            except Exception as e:
                logger.exception("start-up of %s failed", self.name)
                self.status, self.detail = "failed", f"start-up failed: {e}"
                return
        self.status = "ok"

    def place_jobs(self, instance: str | None) -> Jobs:
        """The module's background jobs, on the process its `jobs_instance` names
        (modules/common/jobs.py); health reports whether they run here."""
        self._jobs = Jobs(self._api, instance)
        logger.info(
            "%s: background jobs %s (jobs_instance: %s)",
            self.name,
            "run on this process" if self._jobs.here else "run elsewhere",
            instance or "Synapse's run_background_tasks_on",
        )
        return self._jobs

    def probe(self) -> dict[str, Any]:
        status = self.status
        if status == "ok" and self._alerts:
            status = "degraded"
        report: dict[str, Any] = {
            "status": status,
            "schema_version": self.schema_version,
        }
        if self._jobs is not None:
            report["runs_jobs"] = self._jobs.here
        if self.detail:
            report["detail"] = self.detail
        if self._alerts:
            report["alerts"] = dict(sorted(self._alerts.items()))
        return report

    def alert(self, key: str, text: str) -> None:
        """Raise (or update) an alert: health "degraded" until cleared."""
        self._alerts[key] = text

    def clear_alert(self, key: str) -> None:
        self._alerts.pop(key, None)

    def has_alert(self, key: str) -> bool:
        return key in self._alerts

    @property
    def is_ready(self) -> bool:
        return self.status == "ok"

    async def ready(self) -> None:
        """Wait (briefly) for start-up; 503 CN_JWWX_MODULE_STARTING if it takes too long."""
        waited = 0.0
        while self.status == "starting" and waited < READY_WAIT_SECONDS:
            await self._api.sleep(0.05)
            waited += 0.05
        if self.status != "ok":
            raise error(
                503,
                MODULE_STARTING,
                f"模块 {self.name} 尚未就绪：{self.status} {self.detail}".strip(),
            )
