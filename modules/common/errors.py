"""Error codes of our Matrix-style endpoints and the helper to raise them."""

from typing import Any

from modules.common.synapse_compat import Codes, SynapseError

# Custom errcodes (DESIGN.md: CN_JWWX_*). Each is documented where it is raised.
KEYWORD_BLOCKED = "CN_JWWX_KEYWORD_BLOCKED"
ENCRYPTION_FORBIDDEN = "CN_JWWX_ENCRYPTION_FORBIDDEN"
MODULE_STARTING = "CN_JWWX_MODULE_STARTING"


def error(status: int, errcode: str, message: str, **extra: Any) -> SynapseError:
    """A Matrix error (errcode/error) with optional extra fields in the JSON body."""
    return SynapseError(status, message, errcode, additional_fields=extra or None)


def bad_json(message: str) -> SynapseError:
    return error(400, Codes.BAD_JSON, message)


def missing_param(message: str) -> SynapseError:
    return error(400, Codes.MISSING_PARAM, message)


def forbidden(message: str) -> SynapseError:
    return error(403, Codes.FORBIDDEN, message)
