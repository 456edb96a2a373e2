# SPDX-License-Identifier: AGPL-3.0-or-later
"""Errcodes of the admin-model endpoints (docs/admin.md lists when each is raised).
CN_JWWX_ADMIN_SCOPE and CN_JWWX_ADMIN_QUOTA_EXCEEDED live in modules.common.admin,
because every module raises them."""

from typing import Any

from modules.common.errors import error
from modules.common.synapse.errors import SynapseError

GROUP_NOT_FOUND = "CN_JWWX_ADMIN_GROUP_NOT_FOUND"
GROUP_EXISTS = "CN_JWWX_ADMIN_GROUP_EXISTS"
GROUP_CYCLE = "CN_JWWX_ADMIN_GROUP_CYCLE"
GROUP_HAS_CHILDREN = "CN_JWWX_ADMIN_GROUP_HAS_CHILDREN"
RIGHTS_EXCEED = "CN_JWWX_ADMIN_RIGHTS_EXCEED"
RIGHT_UNKNOWN = "CN_JWWX_ADMIN_RIGHT_UNKNOWN"
SCOPE_INVALID = "CN_JWWX_ADMIN_SCOPE_INVALID"
USER_UNKNOWN = "CN_JWWX_ADMIN_USER_UNKNOWN"
ROLE_UNKNOWN = "CN_JWWX_ADMIN_ROLE_UNKNOWN"
ROLE_CONFLICT = "CN_JWWX_ADMIN_ROLE_CONFLICT"
QUOTA_NOT_UNIT = "CN_JWWX_ADMIN_QUOTA_NOT_UNIT"


def invalid(message: str, **extra: Any) -> SynapseError:
    return error(400, "M_INVALID_PARAM", message, **extra)
