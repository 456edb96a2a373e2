# SPDX-License-Identifier: AGPL-3.0-or-later
"""modules.crossdomain: permission control between police domains (跨域即时通信).

    modules:
      - module: modules.crossdomain.CrossDomainModule
        config: {}

Federation itself is Synapse's, limited to federation_domain_whitelist (`init
--federation-allow`). On top of it, per peer domain (an admin setting): which of our
units may talk with it (invites both ways), which directory subtrees and fields its
officers may search (通讯录互见), which apps they may reach.

Config keys: modules/crossdomain/config.py. Decisions: modules/crossdomain/service.py.
HTTP: modules/crossdomain/resources.py. docs/federation.md.
"""

from typing import Any

from synapse.module_api import ModuleApi

from modules.common.http import register_resource
from modules.common.runtime import ModuleRuntime
from modules.crossdomain.config import CrossDomainConfig
from modules.crossdomain.resources import (
    ADMIN_PREFIX,
    CLIENT_PREFIX,
    FEDERATION_PREFIX,
    CrossDomainAdminResource,
    CrossDomainClientResource,
    CrossDomainFederationResource,
)
from modules.crossdomain.service import CrossDomainService


class CrossDomainModule:
    def __init__(self, config: CrossDomainConfig, api: ModuleApi) -> None:
        self._config = config
        self._api = api
        self.runtime = ModuleRuntime(api, "crossdomain", __name__)
        self.service = CrossDomainService(api, config, self.runtime)
        api.register_spam_checker_callbacks(
            user_may_invite=self.service.user_may_invite,
            federated_user_may_invite=self.service.federated_user_may_invite,
        )
        register_resource(
            api,
            ADMIN_PREFIX,
            CrossDomainAdminResource(api, self.runtime, self.service),
        )
        register_resource(
            api, CLIENT_PREFIX, CrossDomainClientResource(api, self.service)
        )
        register_resource(
            api, FEDERATION_PREFIX, CrossDomainFederationResource(api, self.service)
        )

    @staticmethod
    def parse_config(config: Any) -> CrossDomainConfig:
        return CrossDomainConfig.parse(config)
