# SPDX-License-Identifier: AGPL-3.0-or-later
"""Error codes of our Matrix-style endpoints and the helper to raise them."""

from typing import Any

from modules.common.synapse.errors import Codes, SynapseError

# Custom errcodes (DESIGN.md: CN_JWWX_*). Each is documented where it is raised.
KEYWORD_BLOCKED = "CN_JWWX_KEYWORD_BLOCKED"
ENCRYPTION_FORBIDDEN = "CN_JWWX_ENCRYPTION_FORBIDDEN"
MODULE_STARTING = "CN_JWWX_MODULE_STARTING"
# modules.policy: to-device to another user's devices of a type not allowed (docs/policy.md).
TO_DEVICE_FORBIDDEN = "CN_JWWX_TO_DEVICE_FORBIDDEN"


def error(status: int, errcode: str, message: str, **extra: Any) -> SynapseError:
    """A Matrix error (errcode/error) with optional extra fields in the JSON body."""
    return SynapseError(status, message, errcode, additional_fields=extra or None)


def bad_json(message: str) -> SynapseError:
    return error(400, Codes.BAD_JSON, message)


def missing_param(message: str) -> SynapseError:
    return error(400, Codes.MISSING_PARAM, message)


def forbidden(message: str) -> SynapseError:
    return error(403, Codes.FORBIDDEN, message)


# modules.groups (docs/groups.md lists when each is raised).
GROUP_FULL = "CN_JWWX_GROUP_FULL"
GROUP_OWNER_ONLY = "CN_JWWX_GROUP_OWNER_ONLY"
GROUP_OWNER_CANNOT_LEAVE = "CN_JWWX_GROUP_OWNER_CANNOT_LEAVE"
GROUP_SINGLE_OWNER = "CN_JWWX_GROUP_SINGLE_OWNER"
GROUP_DISSOLVED = "CN_JWWX_GROUP_DISSOLVED"
GROUP_NOT_FOUND = "CN_JWWX_GROUP_NOT_FOUND"
GROUP_FORBIDDEN = "CN_JWWX_GROUP_FORBIDDEN"
JOIN_LINK_INVALID = "CN_JWWX_JOIN_LINK_INVALID"
JOIN_LINK_EXPIRED = "CN_JWWX_JOIN_LINK_EXPIRED"
JOIN_LINK_REVOKED = "CN_JWWX_JOIN_LINK_REVOKED"
READ_STATUS_DISABLED = "CN_JWWX_READ_STATUS_DISABLED"
GROUP_UPGRADE_REFUSED = "CN_JWWX_GROUP_UPGRADE_REFUSED"
GROUP_OWNER_PRESENT = "CN_JWWX_GROUP_OWNER_PRESENT"
GROUP_OWNER_REMOTE = "CN_JWWX_GROUP_OWNER_REMOTE"
RECALL_EXPIRED = "CN_JWWX_RECALL_EXPIRED"

# modules.accounts (docs/accounts.md lists when each is raised).
PASSWORD_CHANGE_REQUIRED = "CN_JWWX_PASSWORD_CHANGE_REQUIRED"
LOGIN_LOCKED = "CN_JWWX_LOGIN_LOCKED"
MFA_REQUIRED = "CN_JWWX_MFA_REQUIRED"
MFA_ENROLMENT_REQUIRED = "CN_JWWX_MFA_ENROLMENT_REQUIRED"
MFA_ENABLED = "CN_JWWX_MFA_ENABLED"

# modules.favorites (docs/favorites.md).
FAVORITE_NOT_FOUND = "CN_JWWX_FAVORITE_NOT_FOUND"
FAVORITE_NOT_ALLOWED = "CN_JWWX_FAVORITE_NOT_ALLOWED"

# modules.groups, retention (docs/groups.md).
RETENTION_FIXED = "CN_JWWX_RETENTION_FIXED"

# modules.burn (docs/burn.md).
BURN_QUOTE_NOT_ALLOWED = "CN_JWWX_BURN_QUOTE_NOT_ALLOWED"

# modules.crossdomain (docs/federation.md): an officer whose unit may not talk with that
# police domain (an invite either way, a directory query).
CROSS_DOMAIN_FORBIDDEN = "CN_JWWX_CROSS_DOMAIN_FORBIDDEN"
