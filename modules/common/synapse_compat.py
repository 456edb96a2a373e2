"""The one place that touches Synapse beyond its public ModuleApi.

A Synapse upgrade that moves any of these should need changes here only.
"""

from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from twisted.internet import defer

from synapse.api.errors import Codes, SynapseError
from synapse.logging.context import (
    PreserveLoggingContext,
    make_deferred_yieldable,
    run_in_background,
)
from synapse.module_api.errors import ConfigError
from synapse.types import UserID, create_requester

T = TypeVar("T")

__all__ = [
    "Codes",
    "ConfigError",
    "SynapseError",
    "engine_of_txn",
    "fire_in_request_context",
]


def fire_in_request_context(fn: Callable[..., Awaitable[Any]], *args: Any) -> None:
    """Start a coroutine from a synchronous render() in the request's log context."""
    run_in_background(fn, *args)


async def await_foreign(coroutine: Coroutine[Any, Any, T]) -> T:
    """Await code that uses plain Twisted Deferreds (not Synapse's log-context rules),
    e.g. the SMTP client, without losing the caller's log context."""
    with PreserveLoggingContext():
        deferred = defer.ensureDeferred(coroutine)
    return await make_deferred_yieldable(deferred)


def engine_of_txn(txn: Any) -> str:
    """'sqlite' or 'postgres' for a transaction given by run_db_interaction (or a raw cursor)."""
    explicit = getattr(txn, "jwwx_engine", None)
    if explicit in ("sqlite", "postgres"):
        return str(explicit)
    engine = getattr(txn, "database_engine", None)
    if engine is not None:
        name = type(engine).__name__.lower()
    else:
        name = type(txn).__module__.lower()
    if "sqlite" in name:
        return "sqlite"
    if "postgres" in name or "psycopg" in name:
        return "postgres"
    raise ValueError(f"unknown database engine for {txn!r}")


# Account control the ModuleApi does not offer. Each mirrors what Synapse's own admin
# API does for the same request (PUT /_synapse/admin/v2/users/<user_id>).


def _hs(api: Any) -> Any:
    return api._hs


async def set_user_locked(api: Any, user_id: str, locked: bool) -> None:
    """Lock (no login, every request refused with M_USER_LOCKED) or unlock an account."""
    await _hs(api).get_datastores().main.set_user_locked_status(user_id, locked)
    if locked:
        await _hs(api).get_auth_handler().delete_access_tokens_for_user(user_id)


async def deactivate_user(api: Any, user_id: str) -> None:
    """Deactivate an account as a server admin would (keeps its messages)."""
    await (
        _hs(api)
        .get_deactivate_account_handler()
        .deactivate_account(user_id, False, create_requester(user_id), by_admin=True)
    )


async def reactivate_user(api: Any, user_id: str) -> None:
    await _hs(api).get_deactivate_account_handler().activate_account(user_id)


async def is_user_deactivated(api: Any, user_id: str) -> bool:
    return bool(
        await _hs(api).get_datastores().main.get_user_deactivated_status(user_id)
    )


async def set_avatar_url(api: Any, user_id: str, mxc: str) -> None:
    await (
        _hs(api)
        .get_profile_handler()
        .set_avatar_url(
            target_user=UserID.from_string(user_id),
            requester=create_requester(user_id),
            new_avatar_url=mxc,
            by_admin=True,
        )
    )


def has_own_password_txn(txn: Any, user_id: str) -> bool:
    """True once Synapse holds a password hash for the user (one the officer chose)."""
    txn.execute("SELECT password_hash FROM users WHERE name = ?", (user_id,))
    row = txn.fetchone()
    return bool(row and row[0])
