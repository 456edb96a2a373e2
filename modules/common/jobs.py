# SPDX-License-Identifier: AGPL-3.0-or-later
"""Where a module's background jobs run: on exactly one process of a deployment.

Every module with jobs (the audit archiver and exporters, burn timers, directory
provisioning and mail, the open API's callbacks, stream reader and sweeps, account
log pruning, group retention, the search indexer and sweep) reads the key

  jobs_instance (string, optional): the `worker_name` of the Synapse process that runs
      this module's background jobs, "main" for the main process. Unset: the process
      Synapse runs its own background tasks on (`run_background_tasks_on`, the main
      process by default). `init --workers` sets it to the background worker.

The check is the ModuleApi's `worker_name`: every other process registers no loop and
starts no job, so a job runs once however many workers load the module. Work started by
a request on another process (e.g. provisioning after an import) waits for the
designated process's next tick instead.
"""

from collections.abc import Awaitable, Callable
from typing import Any

from synapse.module_api import ModuleApi

from modules.common.config import ConfigReader

MAIN_PROCESS = "main"
KEY = "jobs_instance"


def read_jobs_instance(reader: ConfigReader) -> str | None:
    return reader.optional_string(KEY)


def instance_name(api: ModuleApi) -> str:
    """This process's name: its worker_name, "main" for the main process."""
    return api.worker_name or MAIN_PROCESS


class Jobs:
    def __init__(self, api: ModuleApi, instance: str | None) -> None:
        self._api = api
        self._instance = instance

    @property
    def here(self) -> bool:
        """Whether this process runs the module's jobs."""
        if self._instance is None:
            return bool(self._api.should_run_background_tasks())
        return instance_name(self._api) == self._instance

    def every(self, fn: Callable[[], Awaitable[Any]], msec: float, desc: str) -> None:
        """Call fn every msec on the designated process (nowhere else)."""
        if self.here:
            self._api.looping_background_call(
                fn, msec, desc=desc, run_on_all_instances=True
            )

    def start(self, desc: str, fn: Callable[..., Awaitable[Any]], *args: Any) -> bool:
        """Start fn(*args) now if this is the designated process; False otherwise."""
        if not self.here:
            return False
        self._api.run_as_background_process(desc, fn, *args)
        return True
