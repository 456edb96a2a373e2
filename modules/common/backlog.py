# SPDX-License-Identifier: AGPL-3.0-or-later
"""Backlog gauges of the background jobs (Prometheus; docs/deployment.md, Metrics).

  jwwx_job_backlog{task}   items a job has not done yet, counted on the process that
      runs it (modules/common/jobs.py) every BACKLOG_SECONDS:
      audit_archive   stream positions not yet archived plus hook records in the inbox
      provisioning    directory members whose account is not created yet
      mail            account e-mails queued and not yet sent
      push            recipients of open-API pushes still being delivered

(`task`, not `job`: Prometheus gives every scraped series its own `job` label.) The
audit exporters keep their own gauge (jwwx_audit_export_backlog_records). A count is
one indexed read; between two counts the value is at most BACKLOG_SECONDS old (about a
Prometheus scrape interval), and the other processes export nothing for the job.
"""

from collections.abc import Callable
from typing import Any

from prometheus_client import Gauge
from synapse.module_api import ModuleApi

from modules.common.jobs import Jobs

BACKLOG_SECONDS = 15.0

BACKLOG = Gauge("jwwx_job_backlog", "Items a background job has not done yet", ["task"])


def count_backlog(
    api: ModuleApi,
    jobs: Jobs,
    job: str,
    count_txn: Callable[..., int],
    args: Callable[[], tuple[Any, ...]] = tuple,
) -> None:
    """Keep jwwx_job_backlog{task} at count_txn(txn, *args()) on the jobs process."""

    async def refresh() -> None:
        count = await api.run_db_interaction(f"jwwx_backlog_{job}", count_txn, *args())
        BACKLOG.labels(job).set(count)

    jobs.every(refresh, BACKLOG_SECONDS * 1000, f"jwwx_backlog_{job}")
