# SPDX-License-Identifier: AGPL-3.0-or-later
"""modules.policy: the keyword filter and the no-encryption policy.

Enable in homeserver.yaml:

    modules:
      - module: modules.policy.PolicyModule
        config:
          keywords: ["示例敏感词"]

Config keys are documented in modules/policy/config.py; the admin endpoint in
modules/policy/resources.py.
"""

from typing import Any

from synapse.module_api import ModuleApi

from modules.common import registry
from modules.common.http import register_resource
from modules.common.runtime import ModuleRuntime
from modules.common.synapse.patches import add_request_check
from modules.common.synapse.state_rules import add_state_event_rule
from modules.policy.config import PolicyConfig
from modules.policy.handlers import KeywordFilter, PolicyCallbacks
from modules.policy.public import SERVICE
from modules.policy.requests import RequestTexts
from modules.policy.resources import POLICY_PREFIX, KeywordsResource


class PolicyModule:
    def __init__(self, config: PolicyConfig, api: ModuleApi) -> None:
        self._config = config
        self._api = api
        self.runtime = ModuleRuntime(api, "policy", __name__, on_ready=self._on_ready)
        self.keywords = KeywordFilter(api, config, self.runtime)
        registry.publish(api, SERVICE, self.keywords)
        callbacks = PolicyCallbacks(api, config, self.keywords)
        api.register_spam_checker_callbacks(
            check_event_for_spam=callbacks.check_event_for_spam,
            user_may_create_room=callbacks.user_may_create_room,
            user_may_create_room_alias=callbacks.user_may_create_room_alias,
        )
        add_state_event_rule(api, callbacks.check_state_event)
        add_request_check(api, RequestTexts(self.keywords).check)
        register_resource(
            api,
            POLICY_PREFIX,
            KeywordsResource(api, config, self.runtime, self.keywords),
        )
        api.looping_background_call(
            self.keywords.reload_if_changed,
            config.reload_interval_seconds * 1000,
            desc="jwwx_policy_reload_keywords",
            run_on_all_instances=True,
        )

    async def _on_ready(self) -> None:
        await self.keywords.load()

    @staticmethod
    def parse_config(config: Any) -> PolicyConfig:
        return PolicyConfig.parse(config)
