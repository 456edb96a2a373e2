# SPDX-License-Identifier: AGPL-3.0-or-later
"""Changes to the administration model, one service for the endpoints: admin groups
(groups.py), roles (roles.py), unit quotas (quotas.py); changes.py holds what they
share (serialized write, model reload, operation log)."""

from admin_api.groups import GroupService
from admin_api.quotas import QuotaService
from admin_api.roles import RoleService


class AdminService(GroupService, RoleService, QuotaService):
    pass
