# SPDX-License-Identifier: AGPL-3.0-or-later
"""modules.burn: burn-after-read (阅后即焚) messages, enforced by the server.

    modules:
      - module: modules.burn.BurnModule
        config:
          poll_interval_seconds: 1

How it works: modules/burn/burner.py. Config keys: modules/burn/config.py. docs/burn.md.
"""

from typing import Any

from synapse.module_api import ModuleApi

from modules.burn import public, storage
from modules.burn.burner import FIELDS, Burner
from modules.burn.config import BurnConfig
from modules.common import registry
from modules.common.runtime import ModuleRuntime
from modules.common.storage import Txn
from modules.common.synapse.patches import add_request_check

# Shown by clients when an officer sends a burn-after-read message into a group.
GROUP_NOTICE = (
    "群聊中的阅后即焚消息：任一成员阅读后即开始倒计时，到时对所有成员销毁；"
    "届时尚未阅读的成员将无法再看到该消息。"
)


class BurnModule:
    def __init__(self, config: BurnConfig, api: ModuleApi) -> None:
        self._config = config
        self._api = api
        self.runtime = ModuleRuntime(api, "burn", __name__)
        self.burner = Burner(api, config, self.runtime)
        registry.publish(api, public.SERVICE, self)
        api.register_spam_checker_callbacks(
            check_event_for_spam=self.burner.check_event_for_spam
        )
        add_request_check(api, self.burner.check_send_request)
        # Timers run on one process only: the one `jobs_instance` names.
        self.jobs = self.runtime.place_jobs(config.jobs_instance)
        self.jobs.every(
            self.burner.tick, config.poll_interval_seconds * 1000, "jwwx_burn_tick"
        )

    @property
    def keeps_audit_copy(self) -> bool:
        """Whether burned messages' content may be kept for audit (asked by
        modules.audit, which otherwise archives such messages without content)."""
        return self._config.audit_copy

    def tracked_ids_txn(self, txn: Txn, event_ids: list[str]) -> set[str] | None:
        """tracked_event_ids inside the caller's transaction (modules.audit's archive
        step: one transaction fewer per step); None until this module's tables exist."""
        if not self.runtime.is_ready:
            return None
        return storage.tracked_ids_txn(txn, event_ids) if event_ids else set()

    async def tracked_event_ids(self, event_ids: list[str]) -> set[str]:
        """Which of these events burn: burn-after-read messages and the events that
        relate to one (edits, replies, reactions...). modules.audit archives them per
        keeps_audit_copy, whatever their own content says."""
        if not event_ids:
            return set()
        await self.runtime.ready()
        found = await self._api.run_db_interaction(
            "jwwx_burn_tracked_ids", storage.tracked_ids_txn, event_ids
        )
        return set(found)

    def client_config(self) -> dict[str, Any]:
        """What clients show and send (GET /_jwwx/client/v1/client_config, section
        "burn_after_read"; docs/burn.md)."""
        return {
            "enabled": True,
            "fields": list(FIELDS),
            "max_ttl_ms": self._config.max_ttl_ms,
            "timer_starts": "first_read",
            "group_semantics": "first_reader_burns_for_all",
            "group_notice": GROUP_NOTICE,
            "relations_burn_with_message": True,
            "quotes_allowed": "replies_only",
            "audit_copy": self._config.audit_copy,
        }

    @staticmethod
    def parse_config(config: Any) -> BurnConfig:
        return BurnConfig.parse(config)
