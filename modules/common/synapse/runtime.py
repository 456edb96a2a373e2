# SPDX-License-Identifier: AGPL-3.0-or-later
"""Synapse's process machinery: log contexts, its thread pool, background loops,
in-process locks and the Redis connection its workers share."""

from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from twisted.internet import defer

from synapse.logging.context import (
    PreserveLoggingContext,
    make_deferred_yieldable,
    run_in_background,
)
from synapse.module_api import ModuleApi

from modules.common.synapse._internal import hs_of

T = TypeVar("T")


def fire_in_request_context(fn: Callable[..., Awaitable[Any]], *args: Any) -> None:
    """Start a coroutine from a synchronous render() in the request's log context."""
    run_in_background(fn, *args)


async def await_foreign(coroutine: Coroutine[Any, Any, T]) -> T:
    """Await code that uses plain Twisted Deferreds (not Synapse's log-context rules),
    e.g. the SMTP client, without losing the caller's log context."""
    with PreserveLoggingContext():
        deferred = defer.ensureDeferred(coroutine)
    return await make_deferred_yieldable(deferred)


async def await_background(deferred: "defer.Deferred[T]") -> T:
    """Await what ModuleApi.run_as_background_process returned (it completes in the
    sentinel log context) without losing the caller's log context: modules.docs
    waiting for a document's store, from a request or from a socket's own process."""
    return await make_deferred_yieldable(deferred)


def start_in_background(
    fn: Callable[..., Awaitable[T]], *args: Any
) -> "defer.Deferred[T]":
    """Start `fn(*args)` now, in the caller's log context, to be awaited later with
    await_background (the article page's watermark beside its own read)."""
    return run_in_background(fn, *args)


async def run_concurrently(
    fn: Callable[[Any], Awaitable[Any]], items: list[Any], limit: int
) -> None:
    """await fn(item) for every item, at most `limit` at a time, keeping Synapse's
    log-context rules (modules.openapi's message fan-out)."""
    from synapse.util.async_helpers import concurrently_execute

    await concurrently_execute(fn, items, limit)


# For code that is given the HomeServer itself rather than a ModuleApi (a media storage
# provider is built by Synapse's media repository with the HomeServer).


async def in_thread(hs: Any, fn: Callable[..., T], *args: Any) -> T:
    """Run blocking file work on Synapse's thread pool, keeping log contexts."""
    from synapse.logging.context import defer_to_thread

    return await defer_to_thread(hs.get_reactor(), fn, *args)


def looping_task(
    hs: Any, fn: Callable[[], Awaitable[None]], seconds: float, desc: str
) -> None:
    """Call fn every `seconds` as a named background process (what ModuleApi's
    looping_background_call does, for code that has no ModuleApi)."""
    from synapse.util.duration import Duration

    hs.get_clock().looping_call(
        hs.run_as_background_process,
        Duration(milliseconds=int(seconds * 1000)),
        desc,
        fn,
    )


def keyed_lock(api: ModuleApi, name: str) -> Callable[[str], Any]:
    """lock(key) → an async context manager letting one holder per key at a time in
    this process (Synapse's Linearizer), e.g. around read-modify-write account data."""
    from synapse.util.async_helpers import Linearizer

    return Linearizer(name, clock=hs_of(api).get_clock()).queue


# A counter shared by all worker processes (modules.openapi's per-app rate limit), in the
# Redis that Synapse's workers already use for replication. None without Redis: a single
# process counts in memory.


def shared_counter(
    api: ModuleApi,
) -> Callable[[str, int], Awaitable[int]] | None:
    """incr(key, ttl_seconds) → the key's new value (the TTL is set on its first use),
    on Synapse's own Redis connection; None when Redis is not configured."""
    hs = hs_of(api)
    if not hs.config.redis.redis_enabled:
        return None

    async def incr(key: str, ttl_seconds: int) -> int:
        connection = hs.get_outbound_redis_connection()
        value = int(await make_deferred_yieldable(connection.incr(key)))
        if value == 1:
            await make_deferred_yieldable(connection.expire(key, ttl_seconds))
        return value

    return incr


def run_homeserver() -> None:
    """Synapse's own entry point (`python -m synapse.app.homeserver`), for the launcher's
    process that has checked the module config first (homeserver/synapse_main.py)."""
    from synapse.app.homeserver import main  # noqa: PLC0415 - only in that process

    main()
