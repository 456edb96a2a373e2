# SPDX-License-Identifier: AGPL-3.0-or-later
"""Config of modules.burn (homeserver.yaml → modules → modules.burn.BurnModule).

Keys:
  poll_interval_seconds (number ≥ 0.1, default 1): how often the main process looks for
      newly read burn-after-read messages and for messages whose time is up.
  max_ttl_ms (int, default 604800000 = 7 days): the longest time-to-live after reading.
  delete_media (bool, default true): delete the local media a burned message references.
  audit_copy (bool, default false): keep a copy of each burned message for audit, in
      jwwx_burn_audit or, once an "audit" module service is published, through its
      `archive_burned_message(event_json)` (the audit issue's setting replaces this key).
  scrub_interval_seconds (number ≥ 0, default 3600): the database files are rewritten
      after burns at most this often, so that no copy of burned text stays in them
      (SQLite: the full-text index merged; PostgreSQL: VACUUM FULL of event_json and
      event_search, which locks them for its duration). 0: after every tick that burned
      something. The light part (SQLite: secure_delete and a WAL checkpoint;
      PostgreSQL: VACUUM) runs after every such tick. docs/burn.md has the costs.
  scrub_hours (list of hours 0–23 in the server's local time, default []: any hour): the
      rewrite only starts within these hours. PostgreSQL's VACUUM FULL locks the event
      tables for its duration (35 s at a million messages), so `init` renders [3] with a
      daily interval for PostgreSQL deployments: the bytes of burned text are gone from
      the table files by the next night, and sending never waits on it by day.
  jobs_instance (string, optional): the worker_name of the process that runs this
      module's background jobs, "main" for the main process (modules/common/jobs.py).
"""

from dataclasses import dataclass
from typing import Any

from modules.common.config import ConfigReader
from modules.common.jobs import read_jobs_instance

MODULE = "modules.burn"


@dataclass(frozen=True)
class BurnConfig:
    poll_interval_seconds: float = 1.0
    max_ttl_ms: int = 7 * 86400 * 1000
    delete_media: bool = True
    audit_copy: bool = False
    scrub_interval_seconds: float = 3600.0
    scrub_hours: tuple[int, ...] = ()
    jobs_instance: str | None = None  # modules/common/jobs.py

    @staticmethod
    def parse(raw: Any) -> "BurnConfig":
        reader = ConfigReader(raw, MODULE)
        d = BurnConfig()
        config = BurnConfig(
            poll_interval_seconds=reader.number(
                "poll_interval_seconds", d.poll_interval_seconds, minimum=0.1
            ),
            max_ttl_ms=reader.integer(
                "max_ttl_ms", d.max_ttl_ms, minimum=0, maximum=2**31 - 1
            ),
            delete_media=reader.boolean("delete_media", d.delete_media),
            audit_copy=reader.boolean("audit_copy", d.audit_copy),
            scrub_interval_seconds=reader.number(
                "scrub_interval_seconds", d.scrub_interval_seconds, minimum=0
            ),
            scrub_hours=tuple(
                sorted(
                    set(
                        reader.integer_list(
                            "scrub_hours", d.scrub_hours, minimum=0, maximum=23
                        )
                    )
                )
            ),
            jobs_instance=read_jobs_instance(reader),
        )
        reader.finish()
        return config
