# SPDX-License-Identifier: AGPL-3.0-or-later
"""modules.audit: the tamper-evident, SM4-encrypted audit archive, its export to the
bureau's log system and the audit searches.

    modules:
      - module: modules.audit.AuditModule
        config:
          keys: {k1: /data/keys/audit_key}
          current_key_id: k1

Audit admins are the accounts given the `audit` role (admin_api, docs/admin.md).

Records come from Synapse's event stream (archiver.py) and from hooks other modules call
(public.py; service.py, `registry.lookup(api, public.SERVICE)`). Config: config.py. HTTP: resources.py.
docs/audit.md.
"""

from typing import Any

from synapse.module_api import ModuleApi

from modules.audit import public, storage
from modules.audit.archiver import Archiver
from modules.audit.config import AuditConfig
from modules.audit.exporter import PushExporters
from modules.audit.resources import PREFIX, AuditResource
from modules.audit.search import ArchiveReader
from modules.audit.service import AuditService
from modules.audit.usage import UsageRecorder
from modules.common import registry
from modules.common.backlog import count_backlog
from modules.common.http import register_resource
from modules.common.runtime import ModuleRuntime
from modules.common.synapse.events import persisted_stream_ordering
from modules.common.synapse.patches import add_login_hooks


class AuditModule:
    def __init__(self, config: AuditConfig, api: ModuleApi) -> None:
        self._config = config
        self._api = api
        self.runtime = ModuleRuntime(api, "audit", __name__)
        self.archiver = Archiver(api, config, self.runtime)
        self.service = AuditService(api, config, self.runtime, self.archiver)
        self.reader = ArchiveReader(api, config)
        self.exporters = PushExporters(api, config, self.runtime)
        registry.publish(api, public.SERVICE, self.service)
        add_login_hooks(api, UsageRecorder(self.service))
        register_resource(
            api,
            PREFIX,
            AuditResource(
                api, config, self.runtime, self.service, self.reader, self.exporters
            ),
        )
        # The archiver and the exporters run on one process: the one `jobs_instance`
        # names (a second archiver could not fork the chain, but would waste work).
        self.jobs = self.runtime.place_jobs(config.jobs_instance)
        self.jobs.every(
            self.archiver.tick,
            config.poll_interval_seconds * 1000,
            "jwwx_audit_archive",
        )
        count_backlog(
            api,
            self.jobs,
            "audit_archive",
            storage.archive_backlog_txn,
            lambda: (persisted_stream_ordering(api),),
        )
        if config.exporters:
            self.jobs.every(
                self.exporters.tick,
                config.poll_interval_seconds * 1000,
                "jwwx_audit_export",
            )

    @staticmethod
    def parse_config(config: Any) -> AuditConfig:
        return AuditConfig.parse(config)
