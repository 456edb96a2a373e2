# SPDX-License-Identifier: AGPL-3.0-or-later
"""The one place that touches Synapse beyond its public ModuleApi.

A Synapse upgrade that moves any of these should need changes here only.
"""

import hashlib
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar, cast
from urllib.parse import unquote

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
    """Lock (no login, every request refused with M_USER_LOCKED) or unlock an account.
    The ModuleApi has no account locking."""
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
    """True once Synapse holds a password hash for the user (one the officer chose).
    The ModuleApi does not say whether a user has a password."""
    txn.execute("SELECT password_hash FROM users WHERE name = ?", (user_id,))
    row = txn.fetchone()
    return bool(row and row[0])


# Rooms, receipts and read markers (modules.groups). The ModuleApi offers no room list
# of a user, no "forget" on a user's behalf and no receipts; these mirror what Synapse's
# own client endpoints (/forget, /read_markers, /receipt) do for the same user.


async def forget_room(api: Any, user_id: str, room_id: str) -> None:
    """Forget a room the user has left (it leaves their room list; history is kept)."""
    await (
        _hs(api)
        .get_room_member_handler()
        .forget(UserID.from_string(user_id), room_id, do_not_schedule_purge=True)
    )


async def joined_rooms(api: Any, user_id: str) -> list[str]:
    """The rooms a local user is joined to."""
    return sorted(await _hs(api).get_datastores().main.get_rooms_for_user(user_id))


async def latest_event_id(api: Any, room_id: str) -> str | None:
    """The newest event of a room (highest stream position among its extremities)."""
    store = _hs(api).get_datastores().main
    ids = await store.get_latest_event_ids_in_room(room_id)
    events = await store.get_events(list(ids), allow_rejected=False)
    best: tuple[int, str] | None = None
    for event in events.values():
        position = event.internal_metadata.stream_ordering or 0
        if best is None or position > best[0]:
            best = (position, event.event_id)
    return best[1] if best else None


async def mark_room_read(api: Any, user_id: str, room_id: str, event_id: str) -> None:
    """What a client's POST /rooms/{room}/read_markers does: the fully-read marker and a
    public m.read receipt (which also clears the room's notification counts)."""
    await (
        _hs(api)
        .get_read_marker_handler()
        .received_client_read_marker(room_id, user_id, event_id)
    )
    await (
        _hs(api)
        .get_receipts_handler()
        .received_client_receipt(
            room_id, "m.read", UserID.from_string(user_id), event_id, None
        )
    )


def public_read_positions_txn(
    txn: Any, room_id: str, thread_id: str | None
) -> dict[str, int]:
    """For one room, each user's furthest public read receipt (m.read) as a stream
    ordering: unthreaded and main-timeline receipts, plus those of `thread_id`.
    Uses Synapse's (room_id, stream_id) index: one room's receipts, never the table."""
    sql = (
        "SELECT user_id, MAX(event_stream_ordering) FROM receipts_linearized"
        " WHERE room_id = ? AND receipt_type = 'm.read'"
        " AND event_stream_ordering IS NOT NULL"
        " AND (thread_id IS NULL OR thread_id = 'main'"
    )
    args: list[Any] = [room_id]
    if thread_id is not None:
        sql += " OR thread_id = ?"
        args.append(thread_id)
    sql += ") GROUP BY user_id"
    txn.execute(sql, args)
    return {row[0]: int(row[1]) for row in txn.fetchall()}


def public_read_since_sql(room_id: str, user_id: str, stream_ordering: str) -> str:
    """An SQL condition for a query of ours: the user has a public read receipt (m.read,
    unthreaded or main timeline) in the room at or after the stream ordering. Arguments
    are SQL expressions of that query; one lookup in Synapse's receipts index each."""
    return (
        "EXISTS (SELECT 1 FROM receipts_linearized AS jwwx_rl"
        f" WHERE jwwx_rl.room_id = {room_id} AND jwwx_rl.receipt_type = 'm.read'"
        f" AND jwwx_rl.user_id = {user_id}"
        f" AND jwwx_rl.event_stream_ordering >= {stream_ordering}"
        " AND (jwwx_rl.thread_id IS NULL OR jwwx_rl.thread_id = 'main'))"
    )


async def get_event_with_position(api: Any, event_id: str) -> tuple[Any, int] | None:
    """A persisted event and its stream ordering (None if unknown or rejected)."""
    event = await _hs(api).get_datastores().main.get_event(event_id, allow_none=True)
    if event is None or event.internal_metadata.stream_ordering is None:
        return None
    return event, int(event.internal_metadata.stream_ordering)


def room_version_has_creator_power(version: str) -> bool:
    """True for room versions (12 on) whose creators hold unlimited, permanent power."""
    from synapse.api.room_versions import KNOWN_ROOM_VERSIONS

    known = KNOWN_ROOM_VERSIONS.get(version)
    return bool(known is not None and known.msc4289_creator_power_enabled)


# Accounts and login security (modules.accounts). Synapse offers no module callback that
# sees every authenticated request with its path and body, nor one that sees every login
# attempt (failures included) with its IP and user agent, so two small wrappers are
# installed on the process's own Auth and AuthHandler instances. They only observe and
# may refuse with a SynapseError; they never change what Synapse does otherwise.
# Why the ModuleApi does not do: account validity's is_user_expired gets only a user id
# (no path, no body, also called for pushers); on_user_login comes after success only,
# without device id, IP or user agent; password-auth-provider checkers see only their
# own login types and never a failure. Both wrappers are installed from a module's
# __init__, i.e. before Synapse builds its servlets, which look the method up on the
# shared instance at each request. Tests: tests/modules/accounts (first login, lockout,
# reauth when deleting a device).


@dataclass(frozen=True)
class RequestInfo:
    """The HTTP request being handled (from Synapse's logging context)."""

    ip: str
    user_agent: str
    method: str
    path: str


def current_request_info() -> RequestInfo | None:
    """The ContextRequest Synapse keeps on the log context (validate_login gets no
    request object); None outside a request."""
    from urllib.parse import urlsplit

    from synapse.logging.context import current_context

    request = getattr(current_context(), "request", None)
    if request is None:
        return None
    return RequestInfo(
        ip=str(request.ip_address or ""),
        user_agent=str(request.user_agent or ""),
        method=str(request.method or ""),
        path=urlsplit(str(request.url or "")).path,
    )


@dataclass(frozen=True)
class AuthedRequest:
    """An authenticated client request, as the request checks see it."""

    method: str
    path: str
    user_id: str
    device_id: str | None
    token_id: int | None
    is_appservice: bool
    _request: Any

    def body(self) -> bytes:
        """The raw request body (already read by the servlet; read again here)."""
        content = getattr(self._request, "content", None)
        if content is None:
            return b""
        position = content.tell()
        try:
            content.seek(0)
            return bytes(content.read())
        finally:
            content.seek(position)


RequestCheck = Callable[[AuthedRequest], Awaitable[None]]


def add_request_check(api: Any, check: RequestCheck) -> None:
    """Run `check` after Synapse authenticates any client request (its own servlets,
    the admin API and module resources alike); a SynapseError it raises is the answer."""
    auth = _hs(api).get_auth()
    checks: list[RequestCheck] | None = getattr(auth, "_jwwx_request_checks", None)
    if checks is None:
        checks = []
        original = auth.get_user_by_req

        async def get_user_by_req(request: Any, *args: Any, **kwargs: Any) -> Any:
            requester = await original(request, *args, **kwargs)
            authed = AuthedRequest(
                method=request.method.decode("ascii", "replace"),
                path=request.path.decode("utf-8", "replace"),
                user_id=requester.user.to_string(),
                device_id=requester.device_id,
                token_id=requester.access_token_id,
                is_appservice=getattr(requester, "app_service_id", None) is not None,
                _request=request,
            )
            for each in list(checks):
                await each(authed)
            return requester

        auth._jwwx_request_checks = checks
        auth.get_user_by_req = get_user_by_req
    checks.append(check)


@dataclass
class LoginAttempt:
    """One call of Synapse's login validation (/login, or re-authentication in UIA).

    `submission` is the client's login body; a hook may rewrite it (e.g. a phone number
    into a user id) before Synapse checks it. `state` is for the hooks' own notes.
    """

    submission: dict[str, Any]
    reauth: bool
    request: RequestInfo | None
    state: dict[str, Any] = field(default_factory=dict)


class LoginHooks(Protocol):
    async def before_login(self, attempt: LoginAttempt) -> None: ...
    async def login_failed(self, attempt: LoginAttempt, exc: Exception) -> None: ...
    async def login_verified(self, attempt: LoginAttempt, user_id: str) -> None: ...
    async def session_created(
        self, attempt: LoginAttempt, user_id: str, device_id: str | None
    ) -> None: ...


def add_login_hooks(api: Any, hooks: LoginHooks) -> None:
    """Observe every password/module login: before (may refuse or rewrite), failure,
    success, and the new device once /login has issued it."""
    handler = _hs(api).get_auth_handler()
    registered: list[LoginHooks] | None = getattr(handler, "_jwwx_login_hooks", None)
    if registered is None:
        registered = []
        original = handler.validate_login

        # Synapse 1.163: validate_login(login_submission, ratelimit=False,
        # is_reauth=False); callers pass the flags by keyword. Anything else is passed
        # on unchanged, so a new parameter does not break logins.
        async def validate_login(
            login_submission: dict[str, Any], *args: Any, **kwargs: Any
        ) -> tuple[str, Any]:
            attempt = LoginAttempt(
                dict(login_submission),
                bool(kwargs.get("is_reauth", False)),
                current_request_info(),
            )
            try:
                for hook in registered:
                    await hook.before_login(attempt)
                user_id, callback = await original(attempt.submission, *args, **kwargs)
                for hook in registered:
                    await hook.login_verified(attempt, user_id)
            except Exception as e:
                for hook in registered:
                    await hook.login_failed(attempt, e)
                raise

            async def on_session(result: Any) -> None:
                if callback is not None:
                    await callback(result)
                for hook in registered:
                    await hook.session_created(
                        attempt, user_id, result.get("device_id")
                    )

            return user_id, on_session

        handler._jwwx_login_hooks = registered
        handler._jwwx_validate_login = original
        handler.validate_login = validate_login
    registered.append(hooks)


def login_error(message: str) -> SynapseError:
    """The answer Synapse gives for a wrong user or password (403 M_FORBIDDEN). It must
    be Synapse's LoginError (not in the ModuleApi): user-interactive auth turns only
    that into "try again" (401 with the flows)."""
    from synapse.api.errors import LoginError

    return LoginError(403, message, errcode=Codes.FORBIDDEN)


async def delete_devices(api: Any, user_id: str, device_ids: list[str]) -> None:
    """Sign devices out at once (their access tokens stop working: M_UNKNOWN_TOKEN), as
    DELETE /_synapse/admin/v2/users/<user>/devices/<device> does. The ModuleApi can only
    invalidate a token whose text it knows."""
    if device_ids:
        await _hs(api).get_device_handler().delete_devices(user_id, device_ids)


async def clear_password_and_sign_out(api: Any, user_id: str) -> None:
    """Forget the password the user chose and end every session (admin reset). The
    ModuleApi cannot set a password or end all of a user's sessions."""
    await _hs(api).get_datastores().main.user_set_password_hash(user_id, None)
    await _hs(api).get_auth_handler().delete_access_tokens_for_user(user_id)


def devices_txn(
    txn: Any, user_id: str
) -> list[tuple[str, str | None, int | None, str | None, str | None]]:
    """(device_id, display_name, last_seen, ip, user_agent) of the user's devices, read
    inside our own transactions (the device-class limit needs them consistent with its
    session rows); the ModuleApi has no device list."""
    txn.execute(
        "SELECT device_id, display_name, last_seen, ip, user_agent FROM devices"
        " WHERE user_id = ? AND NOT hidden ORDER BY device_id",
        (user_id,),
    )
    return [(r[0], r[1], r[2], r[3], r[4]) for r in txn.fetchall()]


# Media for modules.openapi (media/upload, media/get). The ModuleApi offers no media
# repository access; these do what the client media upload / download endpoints do.


async def upload_media(
    api: Any, user_id: str, content_type: str, filename: str | None, data: bytes
) -> str:
    """Store bytes in the local media repository as user_id; return the mxc:// URI."""
    import io

    repository = _hs(api).get_media_repository()
    uri = await repository.create_or_update_content(
        content_type, filename, io.BytesIO(data), len(data), UserID.from_string(user_id)
    )
    return str(uri)


async def read_local_media(api: Any, media_id: str) -> bytes:
    """The bytes of a local media item (fetched from a storage provider if needed),
    streamed into memory: no decrypted copy is left in the media store
    (modules.media_crypto). NotFoundError when it does not exist."""
    from synapse.api.errors import NotFoundError

    data = await read_media_into_memory(api, media_id)
    if data is None:
        raise NotFoundError()
    return data


async def verify_password(api: Any, user_id: str, password: str) -> str | None:
    """The canonical user id if `password` is the user's password (Synapse's hash or a
    password-auth-provider such as the directory's initial passwords), else None. Does
    not count as a login attempt (the login hooks do not see it). The ModuleApi has no
    password check; an auth checker of a module login type needs one."""
    from synapse.api.errors import LoginError

    handler = _hs(api).get_auth_handler()
    validate = getattr(handler, "_jwwx_validate_login", handler.validate_login)
    submission = {
        "type": "m.login.password",
        "identifier": {"type": "m.id.user", "user": user_id},
        "password": password,
    }
    try:
        canonical, _ = await validate(submission)
    except LoginError:
        return None
    return str(canonical)


# Burn-after-read (modules.burn): removing a redacted event's content at once, as
# Synapse's own censoring does after redaction_retention_period, and local media.


def redacted_event_json(event: Any) -> str:
    """The event's JSON as Synapse stores it once censored (content pruned)."""
    from synapse.synapse_rust.events import redact_event
    from synapse.util.json import json_encoder

    return str(json_encoder.encode(redact_event(event).get_pdu_json()))


def censor_event_txn(txn: Any, event_id: str, pruned_json: str) -> None:
    """Replace the stored JSON of an event by its pruned form and drop its full-text
    search row, so its content is nowhere in the database any more."""
    txn.execute(
        "UPDATE event_json SET json = ? WHERE event_id = ?", (pruned_json, event_id)
    )
    txn.execute("DELETE FROM event_search WHERE event_id = ?", (event_id,))


def edits_of_txn(txn: Any, event_id: str) -> list[str]:
    """The ids of the edits (m.replace) of an event."""
    txn.execute(
        "SELECT event_id FROM event_relations WHERE relates_to_id = ?"
        " AND relation_type = 'm.replace'",
        (event_id,),
    )
    return [row[0] for row in txn.fetchall()]


def furthest_reads_txn(txn: Any, room_id: str) -> dict[str, int]:
    """Each user's furthest read receipt in a room, public or private, as a stream
    ordering (the room's rows only, through the (room_id, stream_id) index)."""
    txn.execute(
        "SELECT user_id, MAX(event_stream_ordering) FROM receipts_linearized"
        " WHERE room_id = ? AND receipt_type IN ('m.read', 'm.read.private')"
        " AND event_stream_ordering IS NOT NULL GROUP BY user_id",
        (room_id,),
    )
    return {row[0]: int(row[1]) for row in txn.fetchall()}


async def delete_local_media(api: Any, media_ids: list[str]) -> int:
    """Delete local media (files, thumbnails, database rows) as the admin API does."""
    if not media_ids:
        return 0
    _deleted, total = (
        await _hs(api).get_media_repository().delete_local_media_ids(media_ids)
    )
    return int(total)


async def send_server_notice(api: Any, user_id: str, text: str) -> bool:
    """A text message to the user's server-notices room (config `server_notices`);
    False when server notices are not configured. The ModuleApi has no access to the
    server-notices room (created on demand, one per user)."""
    manager = _hs(api).get_server_notices_manager()
    if not manager.is_enabled():
        return False
    await manager.send_notice(user_id, {"msgtype": "m.notice", "body": text})
    return True


async def event_visible_to(
    api: Any, user_id: str, room_id: str, event_id: str
) -> Any | None:
    """An event as the user may see it (what GET /rooms/{room}/event/{id} answers), or
    None when it does not exist in that room or the user may not see it."""
    try:
        filtered = await (
            _hs(api)
            .get_event_handler()
            .get_event(UserID.from_string(user_id), room_id, event_id)
        )
    except SynapseError:
        return None
    # Synapse wraps the (possibly redacted) event with per-user data.
    return getattr(filtered, "event", filtered)


async def run_concurrently(
    fn: Callable[[Any], Awaitable[Any]], items: list[Any], limit: int
) -> None:
    """await fn(item) for every item, at most `limit` at a time, keeping Synapse's
    log-context rules (modules.openapi's message fan-out)."""
    from synapse.util.async_helpers import concurrently_execute

    await concurrently_execute(fn, items, limit)


def event_stream_ordering(event: Any) -> int | None:
    """The stream ordering of an event just sent (None if not persisted)."""
    ordering = event.internal_metadata.stream_ordering
    return None if ordering is None else int(ordering)


# Retention (modules.groups): the room list and Synapse's own old-media cleanup.


def all_room_ids_txn(txn: Any) -> list[str]:
    """Every room this server knows."""
    txn.execute("SELECT room_id FROM rooms ORDER BY room_id")
    return [row[0] for row in txn.fetchall()]


async def delete_local_media_before(api: Any, before_ts: int) -> int:
    """Delete local media uploaded before `before_ts` (avatars kept), as Synapse's admin
    API DELETE /_synapse/admin/v1/media/delete?before_ts= does."""
    _deleted, total = await (
        _hs(api)
        .get_media_repository()
        .delete_old_local_media(before_ts=before_ts, keep_profiles=True)
    )
    return int(total)


async def old_local_media_ids(api: Any, before_ts: int) -> list[str]:
    """The local media that DELETE /_synapse/admin/v1/media/delete?before_ts= would
    delete (avatars, quarantined and protected media kept), so a caller can spare some
    (modules.groups keeps what favourites reference) before delete_local_media."""
    ids = await (
        _hs(api)
        .get_datastores()
        .main.get_local_media_ids(
            before_ts,
            0,
            True,
            include_quarantined_media=False,
            include_protected_media=False,
        )
    )
    return [str(media_id) for media_id in ids]


# Audit archive (modules.audit): reading Synapse's event stream from its own tables,
# so the archive can catch up from a durable cursor after a restart or crash.


def persisted_stream_ordering(api: Any) -> int:
    """The stream position up to which every event has been persisted (events above
    it may still be in flight, so a reader must not go past it)."""
    return int(_hs(api).get_datastores().main.get_room_max_stream_ordering())


@dataclass(frozen=True)
class StreamEvent:
    """One persisted, accepted event as stored by Synapse (its full JSON)."""

    stream_ordering: int
    event_id: str
    room_id: str
    event: dict[str, Any]


def stream_events_after_txn(
    txn: Any, after: int, upto: int, limit: int
) -> list[StreamEvent]:
    """Accepted, non-outlier events with after < stream_ordering <= upto, in stream
    order (negative positions are backfilled history and never come here)."""
    import json

    txn.execute(
        "SELECT e.stream_ordering, e.event_id, e.room_id, j.json FROM events AS e"
        " JOIN event_json AS j ON j.event_id = e.event_id"
        " LEFT JOIN rejections AS r ON r.event_id = e.event_id"
        " WHERE e.stream_ordering > ? AND e.stream_ordering <= ?"
        " AND NOT e.outlier AND r.event_id IS NULL"
        " ORDER BY e.stream_ordering LIMIT ?",
        (after, upto, limit),
    )
    return [
        StreamEvent(int(row[0]), row[1], row[2], json.loads(row[3]))
        for row in txn.fetchall()
    ]


def stream_messages_in_rooms_txn(
    txn: Any, room_table: str, after: int, upto: int, limit: int
) -> list[tuple[StreamEvent, tuple[Any, ...]]]:
    """m.room.message events with after < stream_ordering <= upto in the rooms listed
    in our `room_table` (a room_id column), with that table's row: (event, row). Stream
    order; accepted, non-outlier events only."""
    import json

    txn.execute(
        "SELECT e.stream_ordering, e.event_id, e.room_id, j.json, t.*"
        f" FROM events AS e JOIN {room_table} AS t ON t.room_id = e.room_id"  # noqa: S608
        " JOIN event_json AS j ON j.event_id = e.event_id"
        " LEFT JOIN rejections AS r ON r.event_id = e.event_id"
        " WHERE e.stream_ordering > ? AND e.stream_ordering <= ?"
        " AND e.type = 'm.room.message' AND NOT e.outlier AND r.event_id IS NULL"
        " ORDER BY e.stream_ordering LIMIT ?",
        (after, upto, limit),
    )
    return [
        (StreamEvent(int(row[0]), row[1], row[2], json.loads(row[3])), tuple(row[4:]))
        for row in txn.fetchall()
    ]


def on_new_stream_data(api: Any, callback: Callable[[], None]) -> None:
    """Call `callback()` (synchronous, must be cheap) whenever this process learns of
    new stream data: events persisted here or replicated from a persister, receipts,
    typing... ModuleApi's on_new_event is not used for this: Synapse awaits it, with
    the room's current state loaded, before it wakes any client waiting in /sync, so
    every module callback there delays every message's delivery."""
    _hs(api).get_notifier().add_replication_callback(callback)


def local_media_rows_txn(
    txn: Any, media_ids: list[str]
) -> dict[str, tuple[str | None, int | None, str | None, bool]]:
    """media_id → (upload_name, length, content type, quarantined) of local media
    that still exist."""
    found: dict[str, tuple[str | None, int | None, str | None, bool]] = {}
    for media_id in media_ids:
        txn.execute(
            "SELECT upload_name, media_length, media_type, quarantined_by"
            " FROM local_media_repository WHERE media_id = ?",
            (media_id,),
        )
        row = txn.fetchone()
        if row is not None:
            length = None if row[1] is None else int(row[1])
            found[media_id] = (row[0], length, row[2], row[3] is not None)
    return found


def redacted_event_ids_txn(txn: Any, event_ids: list[str]) -> set[str]:
    """Which of the events some redaction event targets."""
    redacted: set[str] = set()
    for event_id in event_ids:
        txn.execute("SELECT 1 FROM redactions WHERE redacts = ?", (event_id,))
        if txn.fetchone() is not None:
            redacted.add(event_id)
    return redacted


# Encrypted media at rest (modules.media_crypto). A media storage provider is built by
# Synapse's media repository with the HomeServer itself (not a ModuleApi); these are the
# few things it needs from it.


def media_store_path(hs: Any) -> str:
    """Synapse's media_store_path (where its own plaintext copies live)."""
    return str(hs.config.media.media_store_path)


def dynamic_thumbnails_enabled(hs: Any) -> bool:
    """With dynamic thumbnails Synapse serves a fresh thumbnail from its local file."""
    return bool(hs.config.media.dynamic_thumbnails)


def media_file_responder(hs: Any, file_object: Any) -> Any:
    """A Responder streaming a file object (anything with read/close) from a thread."""
    from synapse.media.media_storage import FileResponder

    return FileResponder(hs, file_object)


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


MediaDeletionHook = Callable[[list[str]], Awaitable[None]]


def add_local_media_deletion_hook(hs: Any, hook: MediaDeletionHook) -> None:
    """Call hook(media_ids) whenever Synapse deletes local media from its disk (admin
    API, retention, burn-after-read, quarantine purges): a storage provider has no
    delete callback. Install after the media repository exists (not from a provider's
    __init__, which runs inside its construction)."""
    repository = hs.get_media_repository()
    hooks: list[MediaDeletionHook] | None = getattr(
        repository, "_jwwx_deletion_hooks", None
    )
    if hooks is None:
        hooks = []
        original = repository._remove_local_media_from_disk

        async def remove(media_ids: list[str]) -> tuple[list[str], int]:
            removed, total = await original(media_ids)
            for each in list(hooks):
                await each(list(removed))
            return removed, total

        repository._jwwx_deletion_hooks = hooks
        repository._remove_local_media_from_disk = remove
    if hook not in hooks:
        hooks.append(hook)


# The watermarked media path (modules.watermark).


@dataclass(frozen=True)
class MediaInfo:
    content_type: str
    upload_name: str | None
    length: int | None


async def local_media_info(api: Any, media_id: str) -> MediaInfo | None:
    """Metadata of a local media item; None if unknown or quarantined."""
    media = await _hs(api).get_datastores().main.get_local_media(media_id)
    if media is None or media.quarantined_by:
        return None
    return MediaInfo(media.media_type, media.upload_name, media.media_length)


async def read_media_into_memory(api: Any, media_id: str) -> bytes | None:
    """The bytes of a local media item, streamed from wherever Synapse keeps it (the
    local store or a storage provider) straight into memory: no temporary file."""
    import io

    from synapse.media._base import FileInfo
    from synapse.util.file_consumer import BackgroundFileConsumer

    class _Sink(io.BytesIO):
        def close(self) -> None:  # the consumer closes its file; keep the bytes
            pass

    storage = _hs(api).get_media_repository().media_storage
    responder = await storage.fetch_media(FileInfo(None, media_id))
    if responder is None:
        return None
    sink = _Sink()
    with responder:
        consumer = BackgroundFileConsumer(sink, _hs(api).get_reactor())
        await responder.write_to_consumer(consumer)
        await consumer.wait()
    return sink.getvalue()


# Multipart uploads (modules.openapi media/upload, as WeCom SDKs send it). Synapse 1.163
# answers 415 to *every* multipart/form-data POST in SynapseRequest.requestReceived,
# because Twisted would otherwise parse the whole form into memory (GHSA-rfq8-j7rh-8hf2).
# For the listed paths only, the Content-Type is set aside before that check
# (so neither Synapse nor Twisted parses the form) and kept on the request for the
# module, which parses the already size-capped body itself.

_MULTIPART_ATTR = "jwwx_multipart_content_type"
_SET_ASIDE_TYPE = b"application/x-jwwx-form-data"


def allow_multipart_posts(path: bytes) -> None:
    """Let multipart/form-data POSTs to exactly `path` (any query string) reach the
    module resource; multipart_content_type(request) then answers the original
    Content-Type."""
    from synapse.http.site import SynapseRequest

    paths: list[bytes] | None = getattr(SynapseRequest, "_jwwx_multipart", None)
    if paths is None:
        paths = []
        original = SynapseRequest.requestReceived

        def requestReceived(
            self: Any, command: bytes, path: bytes, version: bytes
        ) -> None:
            ctype = self.requestHeaders.getRawHeaders(b"content-type")
            if (
                command == b"POST"
                and ctype
                and b"multipart/form-data" in ctype[0].lower()
                and path.split(b"?", 1)[0] in (paths or ())
            ):
                setattr(self, _MULTIPART_ATTR, ctype[0].decode("latin-1"))
                self.requestHeaders.setRawHeaders(b"content-type", [_SET_ASIDE_TYPE])
            original(self, command, path, version)

        SynapseRequest._jwwx_multipart = paths  # type: ignore[attr-defined]
        SynapseRequest.requestReceived = requestReceived  # type: ignore[method-assign]
    if path not in paths:
        paths.append(path)


# Query parameters that carry credentials, redacted from every URI Synapse logs (its
# own redact_uri covers only access_token and client_secret, once).
CREDENTIAL_PARAMS = frozenset(
    {
        "access_token",
        "corpsecret",
        "secret",
        "code",
        "client_secret",
        "password",
        "token",
        "refresh_token",
        "login_token",
        "ticket",
        "echostr",
    }
)
_REDACTED = "<redacted>"


def redact_query(uri: str, names: frozenset[str] = CREDENTIAL_PARAMS) -> str:
    """uri with the value of every query parameter named in `names` (any case, also
    percent-encoded names; `&` and `;` separate parameters, as Twisted parses them)
    replaced by <redacted>."""
    path, mark, query = uri.partition("?")
    if not mark:
        return uri

    def redact(part: str) -> str:
        name, eq, _ = part.partition("=")
        if unquote(name).strip().lower() in names:
            return f"{name}={_REDACTED}"
        return part

    out = []
    for chunk in query.split("&"):
        out.append(";".join(redact(p) for p in chunk.split(";")))
    return path + "?" + "&".join(out)


def redact_credentials_in_request_logs() -> None:
    """Make SynapseRequest.get_redacted_uri (every "Processed request", "Received
    request" and multipart-refusal log line, and tracing tags) also redact
    CREDENTIAL_PARAMS, e.g. gettoken's corpsecret and getuserinfo's code."""
    from synapse.http.site import SynapseRequest

    if getattr(SynapseRequest, "_jwwx_redacts", False):
        return
    original = SynapseRequest.get_redacted_uri

    def get_redacted_uri(self: Any) -> str:
        return redact_query(original(self))

    SynapseRequest.get_redacted_uri = get_redacted_uri  # type: ignore[method-assign]
    SynapseRequest._jwwx_redacts = True  # type: ignore[attr-defined]


def multipart_content_type(request: Any) -> str | None:
    """The Content-Type set aside by allow_multipart_posts, if any."""
    value = getattr(request, _MULTIPART_ATTR, None)
    return value if isinstance(value, str) else None


def _runs_on_postgres(store: Any) -> bool:
    return "postgres" in type(store.database_engine).__name__.lower()


async def vacuum_analyze(api: Any, tables: tuple[str, ...]) -> None:
    """PostgreSQL: VACUUM ANALYZE the tables, which cannot run inside a transaction.

    After a bulk load the visibility map is empty until autovacuum comes round, so every
    index-only scan still reads the heap: member search at 55,000 members measured 2–3×
    slower until then. SQLite needs nothing (its ANALYZE runs in the import)."""
    store = _hs(api).get_datastores().main
    if not _runs_on_postgres(store):
        return

    def vacuum_txn(txn: Any) -> None:
        txn.execute("VACUUM ANALYZE " + ", ".join(tables))

    await store.db_pool.runInteraction(
        "jwwx_vacuum_analyze", vacuum_txn, db_autocommit=True
    )


async def stream_local_media(
    api: Any, request: Any, media_id: str, info: MediaInfo
) -> None:
    """Answer a request with a local media item unchanged, streamed as Synapse's own
    download endpoint does (its headers, 404 if the file is gone; never all in memory)."""
    from synapse.media._base import FileInfo, respond_with_responder

    storage = _hs(api).get_media_repository().media_storage
    responder = await storage.fetch_media(FileInfo(None, media_id))
    await respond_with_responder(
        request, responder, info.content_type, info.length, info.upload_name
    )


# A counter shared by all worker processes (modules.openapi's per-app rate limit), in the
# Redis that Synapse's workers already use for replication. None without Redis: a single
# process counts in memory.


def shared_counter(
    api: Any,
) -> Callable[[str, int], Awaitable[int]] | None:
    """incr(key, ttl_seconds) → the key's new value (the TTL is set on its first use),
    on Synapse's own Redis connection; None when Redis is not configured."""
    hs = _hs(api)
    if not hs.config.redis.redis_enabled:
        return None

    async def incr(key: str, ttl_seconds: int) -> int:
        connection = hs.get_outbound_redis_connection()
        value = int(await make_deferred_yieldable(connection.incr(key)))
        if value == 1:
            await make_deferred_yieldable(connection.expire(key, ttl_seconds))
        return value

    return incr


def keyed_lock(api: Any, name: str) -> Callable[[str], Any]:
    """lock(key) → an async context manager letting one holder per key at a time in
    this process (Synapse's Linearizer), e.g. around read-modify-write account data."""
    from synapse.util.async_helpers import Linearizer

    return Linearizer(name, clock=_hs(api).get_clock()).queue


async def run_serialized_write(
    api: Any, desc: str, lock_name: str, fn: Callable[..., T], *args: Any
) -> T:
    """Run fn(txn, *args) as the only writer named `lock_name` at a time.

    Synapse runs transactions at REPEATABLE READ on PostgreSQL, where two writers of the
    same rows (e.g. member counts maintained up a department's chain) fail with
    serialization errors; after Synapse's few retries the request answers 500 (seen with
    4 concurrent member creations in one department). Here the transaction runs at READ
    COMMITTED and first takes a transaction-scoped advisory lock, so each later
    statement sees every earlier writer's commit. SQLite has one writer at a time anyway.
    The ModuleApi offers no isolation level, hence the db pool."""
    store = _hs(api).get_datastores().main
    if not _runs_on_postgres(store):
        return cast(T, await api.run_db_interaction(desc, fn, *args))
    from synapse.storage.engines._base import IsolationLevel

    digest = hashlib.sha256(lock_name.encode()).digest()
    key = int.from_bytes(digest[:8], "big", signed=True)

    def locked_txn(txn: Any, *inner: Any) -> T:
        txn.execute("SELECT pg_advisory_xact_lock(?)", (key,))
        return fn(txn, *inner)

    return cast(
        T,
        await store.db_pool.runInteraction(
            desc, locked_txn, *args, isolation_level=IsolationLevel.READ_COMMITTED
        ),
    )


# Forced membership changes by Synapse's admin API (modules.groups).


def rooms_being_shut_down(api: Any) -> Callable[[str], bool]:
    """A predicate: is Synapse's admin API shutting this room down right now?

    DELETE /_synapse/admin/v1/rooms/{id} and /v2/ (and their purge/block variants) both
    run RoomShutdownHandler.shutdown_room, which makes every local member leave as if the
    member asked (sender = target): rules that refuse a member's own leave must let these
    through. Synapse 1.163: shutdown_room(room_id, params, result=None,
    update_result_fct=None); v1 passes room_id by keyword, the v2 task by position."""
    handler = _hs(api).get_room_shutdown_handler()
    active: dict[str, int] | None = getattr(handler, "_jwwx_shutting_down", None)
    if active is None:
        counts: dict[str, int] = {}
        original = handler.shutdown_room

        async def shutdown_room(*args: Any, **kwargs: Any) -> Any:
            room_id = str(kwargs["room_id"] if "room_id" in kwargs else args[0])
            counts[room_id] = counts.get(room_id, 0) + 1
            try:
                return await original(*args, **kwargs)
            finally:
                counts[room_id] -= 1
                if not counts[room_id]:
                    del counts[room_id]

        handler._jwwx_shutting_down = counts
        handler._jwwx_shutdown_room = original
        handler.shutdown_room = shutdown_room
        active = counts
    tracked = active
    return lambda room_id: room_id in tracked


# Synapse's own media download/thumbnail endpoints (modules.watermark).

# handler(request, kind, server_name, media_id) answers the request itself and returns
# True, or returns False to let Synapse answer as usual. kind: "media" or "thumbnail".
MediaRoute = Callable[[Any, str, str, str], Awaitable[bool]]

_media_routes: list[MediaRoute] = []


def _media_servlets() -> list[tuple[type, str]]:
    """(servlet class, kind) of every endpoint that serves a file's bytes to a client:
    /_matrix/client/v1/media/{download,thumbnail}/… (authenticated media) and the legacy
    /_matrix/media/{r0,v3,v1}/{download,thumbnail}/…. Federation's media endpoints
    (other servers fetching for their own users) are not among them."""
    from synapse.rest.client import media as client_media
    from synapse.rest.media import download_resource, thumbnail_resource

    return [
        (client_media.DownloadResource, "media"),
        (client_media.ThumbnailResource, "thumbnail"),
        (download_resource.DownloadResource, "media"),
        (thumbnail_resource.ThumbnailResource, "thumbnail"),
    ]


def route_local_media_downloads(api: Any, handler: MediaRoute) -> None:
    """Send GET/HEAD of this server's media on Synapse's standard download and thumbnail
    URLs to `handler` first, so no client reaches a file around it (issue 14, W1: the
    default deployment has no nginx rewrite in front).

    Synapse 1.163 registers these servlets' on_GET(request, server_name, media_id
    [, file_name]) (called with the URL pattern's named groups as keywords) on its JSON
    resources when the listeners start, after modules are
    loaded; the wrapper is installed on the classes before that. Module web resources
    cannot take these paths: /_matrix/client and /_matrix/media are leaf resources."""
    del api  # one homeserver per process: the servlet classes are wrapped once
    if not _media_routes:
        for servlet, kind in _media_servlets():
            _wrap_media_servlet(servlet, kind)
    if handler not in _media_routes:
        _media_routes.append(handler)


def _wrap_media_servlet(servlet: type, kind: str) -> None:
    original = servlet.on_GET  # type: ignore[attr-defined]
    if getattr(original, "_jwwx_media_route", False):
        return

    # Synapse calls it with the path pattern's named groups as keywords.
    async def on_GET(self: Any, request: Any, **groups: Any) -> Any:  # noqa: N802
        server_name, media_id = str(groups["server_name"]), str(groups["media_id"])
        # An admin reviewing quarantined media keeps Synapse's own (admin-checked) path.
        bypass = b"admin_unsafely_bypass_quarantine" in (request.args or {})
        if not bypass and self._is_mine_server_name(server_name):
            for route in list(_media_routes):
                if await route(request, kind, server_name, media_id):
                    return None
        return await original(self, request, **groups)

    on_GET._jwwx_media_route = True  # type: ignore[attr-defined]
    on_GET._jwwx_original = original  # type: ignore[attr-defined]
    servlet.on_GET = on_GET  # type: ignore[attr-defined]
