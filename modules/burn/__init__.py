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

from modules.burn.burner import Burner
from modules.burn.config import BurnConfig
from modules.common import registry
from modules.common.runtime import ModuleRuntime


class BurnModule:
    def __init__(self, config: BurnConfig, api: ModuleApi) -> None:
        self._config = config
        self._api = api
        self.runtime = ModuleRuntime(api, "burn", __name__)
        self.burner = Burner(api, config, self.runtime)
        registry.publish(api, "burn", self)
        api.register_third_party_rules_callbacks(
            check_event_allowed=self.burner.check_event_allowed
        )
        # Timers run on the one instance configured for background tasks.
        api.looping_background_call(
            self.burner.tick,
            config.poll_interval_seconds * 1000,
            desc="jwwx_burn_tick",
        )

    @property
    def keeps_audit_copy(self) -> bool:
        """Whether burned messages' content may be kept for audit (asked by
        modules.audit, which otherwise archives such messages without content)."""
        return self._config.audit_copy

    @staticmethod
    def parse_config(config: Any) -> BurnConfig:
        return BurnConfig.parse(config)
