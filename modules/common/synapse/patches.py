# SPDX-License-Identifier: AGPL-3.0-or-later
"""Every replacement of a Synapse method, and the start-up check that they still fit.

Synapse offers no module callback for ten things our modules need, so these methods
are wrapped; each wrapper observes, refuses (with a SynapseError) or, for the media
route, answers first, and otherwise calls the original unchanged:

- Auth.get_user_by_req (on the process's Auth instance): request checks that see every
  authenticated client request with its path and body (modules.accounts). Account
  validity's is_user_expired gets only a user id (no path, no body, also called for
  pushers).
- AuthHandler.validate_login (on the instance): login hooks that see every login attempt,
  failures included, with IP and user agent (modules.accounts, modules.audit).
  on_user_login comes after success only, without device id, IP or user agent;
  password-auth-provider checkers see only their own login types and never a failure.
- MediaRepository._remove_local_media_from_disk (on the instance): deletion hooks
  (modules.media_crypto); a storage provider has no delete callback.
- SynapseRequest.requestReceived (on the class): multipart/form-data POSTs to listed
  paths (modules.openapi media/upload), which Synapse otherwise answers with 415.
- RoomShutdownHandler.shutdown_room (on the instance): which rooms Synapse's admin API
  is shutting down right now (modules.groups lets the owner's forced leave through).
- SynapseRequest.get_redacted_uri (on the class): credential query parameters redacted
  from Synapse's request logs (modules.openapi's corpsecret, code...).
- on_GET of Synapse's four media download/thumbnail servlets (on the classes): local
  media downloads routed to modules.watermark first.
- ProfileHandler.check_profile_query_allowed (on the instance): profile checks, so that
  /profile hides a directory member hidden from the requester (modules.directory); the
  spam checker's check_username_for_spam covers the user search only.
- SearchStore.search_msgs and search_rooms (on the class): the message search of
  POST /_matrix/client/v3/search answered from modules.search's CJK index. This one
  answers instead of the original (whose tokenisation cannot find Chinese substrings);
  Synapse's handler around it keeps parsing, filters, visibility, context and paging.
- SearchWorkerStore.store_search_entries_txn (on the class), same switch: Synapse's
  index of message bodies is not written (never read while ours answers).
- ThirdPartyEventRulesModuleApiCallbacks.check_event_allowed (on the instance; the
  wrapper is in state_rules.py): rules for state events with the room state.
- BaseAuth.get_access_token_from_request and has_access_token (on the class): the web
  console's HttpOnly session cookie, accepted as the access token only together with
  its CSRF token in a header (admin_api.console). Synapse reads a token only from the
  Authorization header or the access_token parameter.

The instance wrappers are installed from a module's __init__, i.e. before Synapse builds
its servlets, which look the method up on the shared instance at each request.

Each replaced attribute is pinned in patch_points.PATCH_POINTS and checked at start-up
(check_patch_points, re-exported here) before any wrapper is installed.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from synapse.module_api import ModuleApi

from modules.common.synapse._internal import hs_of
from modules.common.synapse.errors import SynapseError
from modules.common.synapse.http import (
    MULTIPART_ATTR,
    RequestInfo,
    current_request_info,
    redact_query,
)

# The pins and their check live in patch_points; re-exported for the launcher and tests.
from modules.common.synapse.patch_points import PATCH_POINTS as PATCH_POINTS
from modules.common.synapse.patch_points import WRITTEN_FOR as WRITTEN_FOR
from modules.common.synapse.patch_points import PatchPoint as PatchPoint
from modules.common.synapse.patch_points import PatchPointError as PatchPointError
from modules.common.synapse.patch_points import (
    check_patch_points as check_patch_points,
)
from modules.common.synapse.patch_points import synapse_version as synapse_version
from modules.common.synapse.patch_points import wraps_original

# Auth.get_user_by_req: request checks (modules.accounts' gate; tests in
# tests/modules/accounts: first login, reauth when deleting a device).


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

    @property
    def request(self) -> Any:
        """The Twisted request (for its client address)."""
        return self._request

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


def add_request_check(api: ModuleApi, check: RequestCheck) -> None:
    """Run `check` after Synapse authenticates any client request (its own servlets,
    the admin API and module resources alike); a SynapseError it raises is the answer."""
    check_patch_points()
    auth = hs_of(api).get_auth()
    checks: list[RequestCheck] | None = getattr(auth, "_jwwx_request_checks", None)
    if checks is None:
        checks = []
        original = auth.get_user_by_req

        @wraps_original(original)
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


# AuthHandler.validate_login: login hooks (modules.accounts' lockout and MFA,
# modules.audit's login records; tests in tests/modules/accounts and audit).


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


def add_login_hooks(api: ModuleApi, hooks: LoginHooks) -> None:
    """Observe every password/module login: before (may refuse or rewrite), failure,
    success, and the new device once /login has issued it."""
    check_patch_points()
    handler = hs_of(api).get_auth_handler()
    registered: list[LoginHooks] | None = getattr(handler, "_jwwx_login_hooks", None)
    if registered is None:
        registered = []
        original = handler.validate_login

        # Synapse 1.163: validate_login(login_submission, ratelimit=False,
        # is_reauth=False); callers pass the flags by keyword. Anything else is passed
        # on unchanged, so a new parameter does not break logins.
        @wraps_original(original)
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


def unpatched_validate_login(handler: Any) -> Callable[..., Awaitable[Any]]:
    """AuthHandler.validate_login without the login hooks (a password check that is
    not a login attempt: accounts.verify_password)."""
    validate: Callable[..., Awaitable[Any]] = getattr(
        handler, "_jwwx_validate_login", handler.validate_login
    )
    return validate


# MediaRepository._remove_local_media_from_disk: deletion hooks (modules.media_crypto
# drops its encrypted copies; tests in tests/modules/media_crypto).

MediaDeletionHook = Callable[[list[str]], Awaitable[None]]


def add_local_media_deletion_hook(hs: Any, hook: MediaDeletionHook) -> None:
    """Call hook(media_ids) whenever Synapse deletes local media from its disk (admin
    API, retention, burn-after-read, quarantine purges): a storage provider has no
    delete callback. Install after the media repository exists (not from a provider's
    __init__, which runs inside its construction)."""
    check_patch_points()
    repository = hs.get_media_repository()
    hooks: list[MediaDeletionHook] | None = getattr(
        repository, "_jwwx_deletion_hooks", None
    )
    if hooks is None:
        hooks = []
        original = repository._remove_local_media_from_disk

        @wraps_original(original)
        async def remove(media_ids: list[str]) -> tuple[list[str], int]:
            removed, total = await original(media_ids)
            for each in list(hooks):
                await each(list(removed))
            return removed, total

        repository._jwwx_deletion_hooks = hooks
        repository._remove_local_media_from_disk = remove
    if hook not in hooks:
        hooks.append(hook)


# SynapseRequest.requestReceived: multipart uploads (modules.openapi media/upload, as
# WeCom SDKs send it; tests in tests/modules/openapi). Synapse 1.163 answers 415 to
# *every* multipart/form-data POST in SynapseRequest.requestReceived, because Twisted
# would otherwise parse the whole form into memory (GHSA-rfq8-j7rh-8hf2). For the listed
# paths only, the Content-Type is set aside before that check (so neither Synapse nor
# Twisted parses the form) and kept on the request for the module, which parses the
# already size-capped body itself (http.multipart_content_type).

_SET_ASIDE_TYPE = b"application/x-jwwx-form-data"


def allow_multipart_posts(path: bytes) -> None:
    """Let multipart/form-data POSTs to exactly `path` (any query string) reach the
    module resource; http.multipart_content_type(request) then answers the original
    Content-Type."""
    check_patch_points()
    from synapse.http.site import SynapseRequest

    paths: list[bytes] | None = getattr(SynapseRequest, "_jwwx_multipart", None)
    if paths is None:
        paths = []
        original = SynapseRequest.requestReceived

        @wraps_original(original)
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
                setattr(self, MULTIPART_ATTR, ctype[0].decode("latin-1"))
                self.requestHeaders.setRawHeaders(b"content-type", [_SET_ASIDE_TYPE])
            original(self, command, path, version)

        SynapseRequest._jwwx_multipart = paths  # type: ignore[attr-defined]
        SynapseRequest.requestReceived = requestReceived  # type: ignore[method-assign]
    if path not in paths:
        paths.append(path)


# RoomShutdownHandler.shutdown_room: forced membership changes by Synapse's admin API
# (modules.groups; tests in tests/modules/groups/test_admin_operations.py).


def rooms_being_shut_down(api: ModuleApi) -> Callable[[str], bool]:
    """A predicate: is Synapse's admin API shutting this room down right now?

    DELETE /_synapse/admin/v1/rooms/{id} and /v2/ (and their purge/block variants) both
    run RoomShutdownHandler.shutdown_room, which makes every local member leave as if the
    member asked (sender = target): rules that refuse a member's own leave must let these
    through. Synapse 1.163: shutdown_room(room_id, params, result=None,
    update_result_fct=None); v1 passes room_id by keyword, the v2 task by position."""
    check_patch_points()
    handler = hs_of(api).get_room_shutdown_handler()
    active: dict[str, int] | None = getattr(handler, "_jwwx_shutting_down", None)
    if active is None:
        counts: dict[str, int] = {}
        original = handler.shutdown_room

        @wraps_original(original)
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


# SynapseRequest.get_redacted_uri: credentials kept out of Synapse's request logs
# (modules.openapi; tests/modules/common/test_request_log_redaction.py).


def redact_credentials_in_request_logs() -> None:
    """Make SynapseRequest.get_redacted_uri (every "Processed request", "Received
    request" and multipart-refusal log line, and tracing tags) also redact
    http.CREDENTIAL_PARAMS, e.g. gettoken's corpsecret and getuserinfo's code."""
    check_patch_points()
    from synapse.http.site import SynapseRequest

    if getattr(SynapseRequest, "_jwwx_redacts", False):
        return
    original = SynapseRequest.get_redacted_uri

    @wraps_original(original)
    def get_redacted_uri(self: Any) -> str:
        return redact_query(original(self))

    SynapseRequest.get_redacted_uri = get_redacted_uri  # type: ignore[method-assign]
    SynapseRequest._jwwx_redacts = True  # type: ignore[attr-defined]


# on_GET of Synapse's own media download/thumbnail servlets (modules.watermark; tests in
# tests/modules/watermark).

# handler(request, kind, server_name, media_id) answers the request itself and returns
# True, or returns False to let Synapse answer as usual. kind: "media" or "thumbnail".
MediaRoute = Callable[[Any, str, str, str], Awaitable[bool]]

_media_routes: list[MediaRoute] = []


def media_servlets() -> list[tuple[type, str]]:
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


def route_local_media_downloads(api: ModuleApi, handler: MediaRoute) -> None:
    """Send GET/HEAD of this server's media on Synapse's standard download and thumbnail
    URLs to `handler` first, so no client reaches a file around it (issue 14, W1: the
    default deployment has no nginx rewrite in front).

    Synapse 1.163 registers these servlets' on_GET(request, server_name, media_id
    [, file_name]) (called with the URL pattern's named groups as keywords) on its JSON
    resources when the listeners start, after modules are
    loaded; the wrapper is installed on the classes before that. Module web resources
    cannot take these paths: /_matrix/client and /_matrix/media are leaf resources."""
    check_patch_points()
    del api  # one homeserver per process: the servlet classes are wrapped once
    if not _media_routes:
        for servlet, kind in media_servlets():
            _wrap_media_servlet(servlet, kind)
    if handler not in _media_routes:
        _media_routes.append(handler)


def _wrap_media_servlet(servlet: type, kind: str) -> None:
    original = servlet.on_GET  # type: ignore[attr-defined]
    if getattr(original, "_jwwx_media_route", False):
        return

    # Synapse calls it with the path pattern's named groups as keywords.
    @wraps_original(original)
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


# ProfileHandler.check_profile_query_allowed: profile checks (modules.directory's hidden
# members; tests/modules/directory/test_directory_api.py and test_synapse_patches).

# (target user id, requester user id) -> may the requester read the target's profile?
ProfileQueryCheck = Callable[[str, str], Awaitable[bool]]


def add_profile_query_check(api: ModuleApi, check: ProfileQueryCheck) -> None:
    """Make /profile/{user_id}[/displayname|/avatar_url] answer 404 "Profile was not
    found" (as for an unknown user) when `check` says no. The profile servlets await the
    handler's check_profile_query_allowed(target_user, requester) before reading a
    profile; Synapse also calls it with requester None (building membership events),
    which stays allowed, as does reading one's own profile."""
    check_patch_points()
    from synapse.api.errors import Codes, SynapseError

    handler = hs_of(api).get_profile_handler()
    checks: list[ProfileQueryCheck] | None = getattr(
        handler, "_jwwx_profile_checks", None
    )
    if checks is None:
        checks = []
        original = handler.check_profile_query_allowed

        @wraps_original(original)
        async def check_profile_query_allowed(
            target_user: Any, requester: Any = None
        ) -> None:
            await original(target_user, requester)
            if requester is None:
                return
            target, asking = target_user.to_string(), requester.to_string()
            if target == asking:
                return
            for each in list(checks):
                if not await each(target, asking):
                    raise SynapseError(404, "Profile was not found", Codes.NOT_FOUND)

        handler._jwwx_profile_checks = checks
        handler.check_profile_query_allowed = check_profile_query_allowed
    checks.append(check)


# SearchStore.search_msgs / search_rooms: the standard /search from modules.search's
# index (tests/modules/search/test_matrix_search.py).


@dataclass(frozen=True)
class MessageHits:
    """Matching event ids, newest first, each with the token that pages past it."""

    hits: list[tuple[str, str]]
    count: int
    highlights: list[str]


class MessageSearch(Protocol):
    async def find(
        self,
        room_ids: list[str],
        term: str,
        keys: list[str],
        limit: int,
        token: str | None,
    ) -> MessageHits | None:
        """None: not for this index (e.g. only room names asked): Synapse answers."""

    async def forget(self, event_ids: list[str]) -> None:
        """These hits are gone from Synapse (redacted, purged)."""

    def check_request(self, content: Any) -> None:
        """Raise a 400 SynapseError for a request body the handler would choke on
        (wrong types in the filter, context or groupings: a 500 in Synapse 1.163)."""


_message_search: list[MessageSearch] = []
RANK_LIMIT = 500  # what Synapse's own rank search returns at most


def serve_message_search(search: MessageSearch) -> None:
    """Answer Synapse's message search (the store methods its SearchHandler calls) from
    `search`. Synapse 1.163: search_msgs(room_ids, search_term, keys) for order_by
    "rank" and search_rooms(room_ids, search_term, keys, limit, pagination_token) for
    "recent", each returning {"results": [{"event", "rank"[, "pagination_token"]}],
    "highlights", "count"}; the handler then applies the filter and the visibility
    rules, adds context and builds next_batch from our pagination tokens. Redacted
    events are left out as Synapse's own search does. SearchHandler.search first has
    `search` check the request body's types (Synapse's handler answers 500 to, e.g.,
    a filter limit that is not a number).

    Synapse's own index of message bodies (event_search rows keyed content.body: an
    `english` tsvector and its GIN entry on PostgreSQL, FTS4 on SQLite, written in
    every message's persist transaction) is then never read, so it is no longer
    written (issue 19: the indexer's cost on PostgreSQL was Synapse's index plus ours).
    Room names and topics still go to Synapse's index: its search answers those."""
    check_patch_points()
    from synapse.handlers.search import SearchHandler
    from synapse.storage.databases.main.events_worker import EventRedactBehaviour
    from synapse.storage.databases.main.search import SearchStore, SearchWorkerStore

    _message_search[:] = [search]
    if getattr(SearchStore, "_jwwx_search", False):
        return
    original_msgs = SearchStore.search_msgs
    original_rooms = SearchStore.search_rooms
    original_search = SearchHandler.search
    original_entries = SearchWorkerStore.store_search_entries_txn

    @wraps_original(original_entries)
    def store_search_entries_txn(self: Any, txn: Any, entries: Any) -> None:
        kept = [entry for entry in entries if entry.key != "content.body"]
        if kept:
            original_entries(self, txn, kept)

    @wraps_original(original_search)
    async def checked_search(
        self: Any, requester: Any, content: Any, batch: str | None = None
    ) -> Any:
        _message_search[0].check_request(content)
        return await original_search(self, requester, content, batch)

    async def answer(store: Any, found: MessageHits, ranked: bool) -> dict[str, Any]:
        ids = [event_id for event_id, _token in found.hits]
        events = await store.get_events_as_list(
            ids, redact_behaviour=EventRedactBehaviour.block
        )
        by_id = {event.event_id: event for event in events}
        gone = [event_id for event_id in ids if event_id not in by_id]
        if gone:
            await _message_search[0].forget(gone)
        results = []
        for rank, (event_id, token) in enumerate(reversed(found.hits), start=1):
            if event_id in by_id:
                result = {"event": by_id[event_id], "rank": rank}
                if not ranked:
                    result["pagination_token"] = token
                results.append(result)
        results.reverse()
        return {
            "results": results,
            "highlights": found.highlights,
            "count": found.count,
        }

    @wraps_original(original_msgs)
    async def search_msgs(
        self: Any, room_ids: Any, search_term: str, keys: Any
    ) -> dict[str, Any]:
        found = await _message_search[0].find(
            sorted(room_ids), search_term, list(keys), RANK_LIMIT, None
        )
        if found is None:
            return await original_msgs(self, room_ids, search_term, keys)
        return await answer(self, found, ranked=True)

    @wraps_original(original_rooms)
    async def search_rooms(
        self: Any,
        room_ids: Any,
        search_term: str,
        keys: Any,
        limit: int,
        pagination_token: str | None = None,
    ) -> dict[str, Any]:
        found = await _message_search[0].find(
            sorted(room_ids), search_term, list(keys), limit, pagination_token
        )
        if found is None:
            return await original_rooms(
                self, room_ids, search_term, keys, limit, pagination_token
            )
        return await answer(self, found, ranked=False)

    SearchStore.search_msgs = search_msgs  # type: ignore[method-assign]
    SearchStore.search_rooms = search_rooms  # type: ignore[method-assign]
    SearchHandler.search = checked_search  # type: ignore[method-assign]
    SearchWorkerStore.store_search_entries_txn = store_search_entries_txn  # type: ignore[method-assign]
    SearchStore._jwwx_search = True  # type: ignore[attr-defined]


# Synapse's user directory search (POST /_matrix/client/v3/user_directory/search, what
# Element's "start chat" and invite dialogs call).

_user_search: list["UserSearch"] = []


class UserSearch(Protocol):
    async def find_users(
        self, searcher: str, term: str, limit: int
    ) -> dict[str, Any] | None:
        """Synapse's SearchResult ({"limited": bool, "results": [{"user_id",
        "display_name", "avatar_url"}]}) for this searcher, or None: Synapse's own
        search answers."""


def serve_user_directory_search(search: UserSearch) -> None:
    """Answer Synapse's user directory search (UserDirectoryStore.search_user_dir,
    which its UserDirectoryHandler calls before the spam checker's per-result
    check_username_for_spam) from `search`; when that finds nobody (or declines),
    Synapse's own search answers as before."""
    check_patch_points()
    from synapse.storage.databases.main.user_directory import UserDirectoryStore

    _user_search[:] = [search]
    if getattr(UserDirectoryStore, "_jwwx_user_search", False):
        return
    original = UserDirectoryStore.search_user_dir

    @wraps_original(original)
    async def search_user_dir(
        self: Any,
        user_id: str,
        search_term: str,
        limit: int,
        show_locked_users: bool = False,
    ) -> Any:
        found = await _user_search[0].find_users(user_id, search_term, limit)
        if not found or not found.get("results"):
            return await original(self, user_id, search_term, limit, show_locked_users)
        return found

    UserDirectoryStore.search_user_dir = search_user_dir  # type: ignore[method-assign]
    UserDirectoryStore._jwwx_user_search = True  # type: ignore[attr-defined]


# BaseAuth.get_access_token_from_request / has_access_token: the console's session cookie
# (admin_api.console; tests in tests/admin_api/test_console.py and the pin in
# tests/modules/common/test_synapse_patches.py).


@dataclass(frozen=True)
class SessionCookie:
    """A cookie that carries an access token, usable only with its CSRF proof.

    `proof(token)` is the value the `header` must carry. A request with an
    Authorization header or an access_token parameter is read as Synapse reads it (the
    cookie is ignored); otherwise the cookie is the token when the header carries its
    proof, 403 CN_JWWX_CSRF_TOKEN_INVALID when it carries another value, and without
    the header the cookie counts for nothing (401 M_MISSING_TOKEN naming the header).
    A cross-site form or link cannot set a header, so the cookie alone never
    authenticates a request."""

    cookie: bytes
    header: bytes
    proof: Callable[[str], str]


CSRF_INVALID = "CN_JWWX_CSRF_TOKEN_INVALID"


def accept_session_cookie(session: SessionCookie) -> None:
    """Let Synapse's access-token readers (every client, admin, media and module
    request) take the token from `session`'s cookie, as SessionCookie describes."""
    check_patch_points()
    from synapse.api.auth.base import BaseAuth
    from synapse.api.errors import MissingClientTokenError

    if getattr(BaseAuth, "_jwwx_session_cookie", None) is not None:
        BaseAuth._jwwx_session_cookie = session  # type: ignore[attr-defined]
        return
    original_get = BaseAuth.get_access_token_from_request
    original_has = BaseAuth.has_access_token

    def cookie_token(request: Any) -> str | None:
        """The cookie's token when the request has no token of its own, else None."""
        current: SessionCookie = BaseAuth._jwwx_session_cookie  # type: ignore[attr-defined]
        if request.requestHeaders.getRawHeaders(b"Authorization") or (
            request.args and request.args.get(b"access_token")
        ):
            return None
        value = request.getCookie(current.cookie)
        if not value:
            return None
        return bytes(value).decode("ascii", "replace")

    @wraps_original(original_get)
    def get_access_token_from_request(request: Any) -> str:
        token = cookie_token(request)
        if token is None:
            return str(original_get(request))
        current: SessionCookie = BaseAuth._jwwx_session_cookie  # type: ignore[attr-defined]
        sent = request.requestHeaders.getRawHeaders(current.header)
        if not sent:
            raise MissingClientTokenError(
                "Missing access token: the session cookie is accepted only with its"
                f" CSRF token in the {current.header.decode('ascii')} header"
            )
        if len(sent) != 1 or sent[0].decode("ascii", "replace") != current.proof(token):
            raise SynapseError(403, "CSRF 令牌无效，请刷新页面后重试", CSRF_INVALID)
        return token

    @wraps_original(original_has)
    def has_access_token(request: Any) -> bool:
        if original_has(request):
            return True
        current: SessionCookie = BaseAuth._jwwx_session_cookie  # type: ignore[attr-defined]
        return cookie_token(request) is not None and bool(
            request.requestHeaders.getRawHeaders(current.header)
        )

    BaseAuth._jwwx_session_cookie = session  # type: ignore[attr-defined]
    BaseAuth.get_access_token_from_request = staticmethod(  # type: ignore[method-assign]
        get_access_token_from_request
    )
    BaseAuth.has_access_token = staticmethod(has_access_token)  # type: ignore[method-assign]
