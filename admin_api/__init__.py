# SPDX-License-Identifier: AGPL-3.0-or-later
"""admin_api: the admin HTTP API under /_jwwx/admin/v1/ and the administration model.

- The model (docs/admin.md): super / audit / security admins (roles assigned at run
  time), nested admin groups with members, directory-subtree scopes and rights, unit
  quotas. admin_api/model.py, storage.py, schema/.
- The decision every admin endpoint of every module asks (modules.common.admin):
  admin_api installs its authority there (authority.py), cached and invalidated on
  change.
- Endpoints: /_jwwx/admin/v1/admins/… (resources.py) and the bootstrap token used by
  `python -m homeserver create-admin` (bootstrap.py).
- Admin login hardening (sessions.py): a second factor (TOTP) for every admin session on
  the admin API, idle expiry, both enforced by a request check on /_jwwx/admin/v1/.
- Unit information, the client splash image, which profile fields officers may edit
  (organisation.py, /_jwwx/admin/v1/organisation/…; shown in the client config).

Config keys: admin_api/config.py.
"""

from typing import Any

from synapse.module_api import ModuleApi

from admin_api.authority import AdminAuthority
from admin_api.bootstrap import BOOTSTRAP_PATH, BootstrapTokenResource
from admin_api.config import AdminApiConfig
from admin_api.organisation import Organisation
from admin_api.organisation_resource import ORGANISATION_PREFIX, OrganisationResource
from admin_api.resources import ADMINS_PREFIX, AdminsResource
from admin_api.service import AdminService
from admin_api.sessions import AdminSessions, SessionLoginHooks
from modules.common import admin, registry
from modules.common.http import register_resource
from modules.common.runtime import ModuleRuntime
from modules.common.synapse.patches import add_login_hooks, add_request_check
from modules.watermark import public as watermark_public

PRUNE_INTERVAL_MS = 3600 * 1000


class AdminApiModule:
    def __init__(self, config: AdminApiConfig, api: ModuleApi) -> None:
        self._config = config
        self._api = api
        self.runtime = ModuleRuntime(api, "admin_api", __name__)
        self.authority = AdminAuthority(api, config, self.runtime)
        self.service = AdminService(api, config, self.authority)
        self.authority.app_granter = self.service.grant_created_app
        self.sessions = AdminSessions(api, config, self.runtime, self.authority)
        admin.set_authority(api, self.authority)
        add_request_check(api, self.sessions.check)
        add_login_hooks(api, SessionLoginHooks(self.sessions))
        self.organisation = Organisation(api, config, self.runtime, self.authority)
        add_request_check(api, self.organisation.check_profile_edit)
        registry.publish(api, watermark_public.CLIENT_SECTIONS, self.organisation)
        register_resource(
            api,
            ORGANISATION_PREFIX,
            OrganisationResource(api, self.runtime, self.authority, self.organisation),
        )
        register_resource(
            api, BOOTSTRAP_PATH, BootstrapTokenResource(api, config, self.sessions)
        )
        register_resource(
            api,
            ADMINS_PREFIX,
            AdminsResource(
                api, self.runtime, self.authority, self.service, self.sessions
            ),
        )
        api.looping_background_call(
            self.sessions.prune, PRUNE_INTERVAL_MS, desc="jwwx_admin_session_prune"
        )

    @staticmethod
    def parse_config(config: Any) -> AdminApiConfig:
        return AdminApiConfig.parse(config)
