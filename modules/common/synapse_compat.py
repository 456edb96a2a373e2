"""The one place that touches Synapse beyond its public ModuleApi.

A Synapse upgrade that moves any of these should need changes here only.
"""

from collections.abc import Awaitable, Callable
from typing import Any

from synapse.api.errors import Codes, SynapseError
from synapse.logging.context import run_in_background
from synapse.module_api.errors import ConfigError

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
