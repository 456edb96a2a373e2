# SPDX-License-Identifier: AGPL-3.0-or-later
"""The Synapse attributes our wrappers (patches.py) replace, pinned to the signatures they
were written against, and the start-up check that they still fit.

check_patch_points() compares each patched attribute with its pinned signature and refuses
to start on any difference, in one line naming the Synapse version and the patch. It runs
in the launcher's checks (`check-config`, and `run` in the Synapse process it starts:
homeserver/synapse_main.py), in every module's start-up (ModuleRuntime) and
before any patch is installed. After a Synapse upgrade, re-read the original of each
changed method, adapt its wrapper, then the pinned signature (docs/upgrading.md).
"""

import importlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from modules.common.synapse.errors import ConfigError

F = TypeVar("F", bound=Callable[..., Any])

# The Synapse release the wrappers below were written against (pyproject.toml pins it).
WRITTEN_FOR = "1.163.2"


@dataclass(frozen=True)
class PatchPoint:
    """A Synapse attribute one of our wrappers replaces, and its signature as
    `str(inspect.signature(...))` on the class in the pinned release."""

    module: str
    cls: str
    attribute: str
    signature: str
    purpose: str

    @property
    def name(self) -> str:
        return f"{self.module}.{self.cls}.{self.attribute}"


PATCH_POINTS: tuple[PatchPoint, ...] = (
    PatchPoint(
        "synapse.api.auth.internal",
        "InternalAuth",
        "get_user_by_req",
        "(self, request: synapse.http.site.SynapseRequest,"
        " allow_guest: bool = False, allow_expired: bool = False,"
        " allow_locked: bool = False) -> Requester",
        "add_request_check",
    ),
    PatchPoint(
        "synapse.handlers.auth",
        "AuthHandler",
        "validate_login",
        "(self, login_submission: dict[str, typing.Any], ratelimit: bool = False,"
        " is_reauth: bool = False) -> tuple[str, typing.Optional[typing.Callable["
        "[ForwardRef('LoginResponse')], typing.Awaitable[NoneType]]]]",
        "add_login_hooks",
    ),
    PatchPoint(
        "synapse.media.media_repository",
        "MediaRepository",
        "_remove_local_media_from_disk",
        "(self, media_ids: list[str]) -> tuple[list[str], int]",
        "add_local_media_deletion_hook",
    ),
    PatchPoint(
        "synapse.http.site",
        "SynapseRequest",
        "requestReceived",
        "(self, command: bytes, path: bytes, version: bytes) -> None",
        "allow_multipart_posts",
    ),
    PatchPoint(
        "synapse.handlers.room",
        "RoomShutdownHandler",
        "shutdown_room",
        "(self, room_id: str, params: synapse.types.handlers.ShutdownRoomParams,"
        " result: synapse.types.handlers.ShutdownRoomResponse | None = None,"
        " update_result_fct: Optional[Callable[[Optional[Mapping[str, Any]]],"
        " Awaitable[NoneType]]] = None)"
        " -> synapse.types.handlers.ShutdownRoomResponse | None",
        "rooms_being_shut_down",
    ),
    PatchPoint(
        "synapse.http.site",
        "SynapseRequest",
        "get_redacted_uri",
        "(self) -> str",
        "redact_credentials_in_request_logs",
    ),
    *(
        PatchPoint(
            module,
            servlet,
            "on_GET",
            "(self, request: synapse.http.site.SynapseRequest, server_name: str,"
            " media_id: str"
            + (", file_name: str | None = None" if download else "")
            + ") -> None",
            "route_local_media_downloads",
        )
        for module, servlet, download in (
            ("synapse.rest.client.media", "DownloadResource", True),
            ("synapse.rest.client.media", "ThumbnailResource", False),
            ("synapse.rest.media.download_resource", "DownloadResource", True),
            ("synapse.rest.media.thumbnail_resource", "ThumbnailResource", False),
        )
    ),
    PatchPoint(
        "synapse.handlers.profile",
        "ProfileHandler",
        "check_profile_query_allowed",
        "(self, target_user: synapse.types.UserID,"
        " requester: synapse.types.UserID | None = None) -> None",
        "add_profile_query_check",
    ),
    PatchPoint(
        "synapse.storage.databases.main.search",
        "SearchStore",
        "search_msgs",
        "(self, room_ids: Collection[str], search_term: str, keys: Iterable[str])"
        " -> dict[str, typing.Any]",
        "serve_message_search",
    ),
    PatchPoint(
        "synapse.storage.databases.main.search",
        "SearchStore",
        "search_rooms",
        "(self, room_ids: Collection[str], search_term: str, keys: Iterable[str],"
        " limit: int, pagination_token: str | None = None) -> dict[str, typing.Any]",
        "serve_message_search",
    ),
    PatchPoint(
        "synapse.storage.databases.main.search",
        "SearchWorkerStore",
        "store_search_entries_txn",
        "(self, txn: synapse.storage.database.LoggingTransaction,"
        " entries: Iterable[synapse.storage.databases.main.search.SearchEntry])"
        " -> None",
        "serve_message_search",
    ),
    PatchPoint(
        "synapse.handlers.search",
        "SearchHandler",
        "search",
        "(self, requester: Requester, content: dict[str, typing.Any],"
        " batch: str | None = None) -> dict[str, typing.Any]",
        "serve_message_search",
    ),
    PatchPoint(
        "synapse.storage.databases.main.user_directory",
        "UserDirectoryStore",
        "search_user_dir",
        "(self, user_id: str, search_term: str, limit: int,"
        " show_locked_users: bool = False)"
        " -> synapse.storage.databases.main.user_directory.SearchResult",
        "serve_user_directory_search",
    ),
    PatchPoint(
        "synapse.module_api.callbacks.third_party_event_rules_callbacks",
        "ThirdPartyEventRulesModuleApiCallbacks",
        "check_event_allowed",
        "(self, event: Event,"
        " context: synapse.events.snapshot.UnpersistedEventContextBase)"
        " -> tuple[bool, dict | None]",
        "add_state_event_rule",
    ),
    PatchPoint(
        "synapse.api.auth.base",
        "BaseAuth",
        "get_access_token_from_request",
        "(request: twisted.web.server.Request) -> str",
        "accept_session_cookie",
    ),
    PatchPoint(
        "synapse.api.auth.base",
        "BaseAuth",
        "has_access_token",
        "(request: twisted.web.server.Request) -> bool",
        "accept_session_cookie",
    ),
    PatchPoint(
        "synapse.handlers.federation_event",
        "FederationEventHandler",
        "_check_event_auth",
        "(self, origin: str | None, event: Event,"
        " context: synapse.events.snapshot.EventContext) -> None",
        "add_state_event_rule",
    ),
)


class PatchPointError(ConfigError):
    """A patched Synapse attribute is missing or has another signature."""


def synapse_version() -> str:
    from synapse import __version__

    return str(__version__).split(" ", 1)[0]


def _found_signature(point: PatchPoint) -> str | None:
    try:
        owner = getattr(importlib.import_module(point.module), point.cls)
        attribute = getattr(owner, point.attribute)
    except (ImportError, AttributeError):
        return None
    # A wrapper of ours carries the original as __wrapped__, which inspect follows.
    return str(inspect.signature(attribute))


_checked = False


def wraps_original(original: Any) -> Callable[[F], F]:
    """Mark a wrapper with the original it replaces (__wrapped__, which
    inspect.signature follows), so check_patch_points still sees Synapse's signature
    once the wrapper is installed. Nothing else is copied: Synapse reads markers such
    as @cancellable from the attribute it calls, and the wrapper must not gain them."""

    def mark(wrapper: F) -> F:
        wrapper.__wrapped__ = original  # type: ignore[attr-defined]
        return wrapper

    return mark


def check_patch_points(points: tuple[PatchPoint, ...] | None = None) -> None:
    """Refuse (PatchPointError, one line) unless every patched attribute exists with
    the signature its wrapper was written against. Without `points`: PATCH_POINTS,
    checked once per process."""
    global _checked
    if points is None:
        if _checked:
            return
        points = PATCH_POINTS
        remember = True
    else:
        remember = False
    for point in points:
        found = _found_signature(point)
        if found == point.signature:
            continue
        what = "does not exist" if found is None else f"has the signature {found}"
        raise PatchPointError(
            f"Synapse {synapse_version()} is not supported: {point.name}"
            f" (patched by {point.purpose}) {what}, but the adapter was written"
            f" against Synapse {WRITTEN_FOR} with {point.signature}; see"
            " docs/upgrading.md"
        )
    if remember:
        _checked = True
