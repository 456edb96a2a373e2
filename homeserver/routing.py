# SPDX-License-Identifier: AGPL-3.0-or-later
"""Which process serves which URL in a worker deployment (rendered into nginx.conf).

Synapse's endpoints follow its worker documentation (docs/workers.md of the pinned
release): /sync to the sync workers, the documented client reads and event sending to
the generic workers, the typing / to-device / account-data / receipts / presence /
push-rules endpoints to their stream writer, media to the media repository. Our
modules' web resources are mounted on every process (Synapse attaches module resources
to every HTTP listener); nginx sends each to the process where it works: the ones
that read or store media files to the media worker, the rest to the main process.
Anything not listed goes to the main process.

Synapse's own admin API (/_synapse/admin/) is outside our admin model (no roles, no
second factor, no operation log): its locations answer only the admin networks
(admin_api's allowed_networks, given to `init --admin-network`) and loopback; nginx
refuses every other address with 403.
"""

from dataclasses import dataclass

from homeserver.workers import Deployment, Worker

V = r"(api/v1|r0|v3|unstable)"
R = r"(r0|v3|unstable)"

# Upstream names used in nginx.conf.
MAIN_UPSTREAM = "jwwx_main"
SYNC_UPSTREAM = "jwwx_sync"
CLIENT_UPSTREAM = "jwwx_client"
ROOM_UPSTREAM = "jwwx_room"  # pagination: one room, one worker
STREAMS_UPSTREAM = "jwwx_streams"
MEDIA_UPSTREAM = "jwwx_media"

SYNC_ENDPOINTS = (
    r"^/_matrix/client/(r0|v3)/sync$",
    # Simplified sliding sync (MSC4186; the web client's sync, docs/web_client.md).
    r"^/_matrix/client/unstable/org\.matrix\.simplified_msc3575/.*$",
    r"^/_matrix/client/(api/v1|r0|v3)/events$",
    r"^/_matrix/client/(api/v1|r0|v3)/initialSync$",
    r"^/_matrix/client/(api/v1|r0|v3)/rooms/[^/]+/initialSync$",
)

CLIENT_ENDPOINTS = (
    rf"^/_matrix/client/{V}/createRoom$",
    rf"^/_matrix/client/{V}/publicRooms$",
    rf"^/_matrix/client/{V}/rooms/.*/joined_members$",
    rf"^/_matrix/client/{V}/rooms/.*/context/.*$",
    rf"^/_matrix/client/{V}/rooms/.*/members$",
    rf"^/_matrix/client/{V}/rooms/.*/state$",
    r"^/_matrix/client/v1/rooms/.*/hierarchy$",
    r"^/_matrix/client/(v1|unstable)/rooms/.*/relations/",
    r"^/_matrix/client/v1/rooms/.*/threads$",
    rf"^/_matrix/client/{R}/account/3pid$",
    rf"^/_matrix/client/{R}/account/whoami$",
    rf"^/_matrix/client/{V}/voip/turnServer$",
    rf"^/_matrix/client/{V}/rooms/.*/event/",
    rf"^/_matrix/client/{V}/joined_rooms$",
    r"^/_matrix/client/v1/rooms/.*/timestamp_to_event$",
    rf"^/_matrix/client/{V}/search$",
    rf"^/_matrix/client/{R}/user/.*/filter(/|$)",
    rf"^/_matrix/client/{V}/directory/room/.*$",
    rf"^/_matrix/client/{R}/capabilities$",
    rf"^/_matrix/client/{R}/notifications$",
    rf"^/_matrix/client/{R}/keys/query$",
    rf"^/_matrix/client/{R}/keys/changes$",
    rf"^/_matrix/client/{R}/keys/claim$",
    rf"^/_matrix/client/{R}/room_keys/",
    rf"^/_matrix/client/{V}/login$",
    rf"^/_matrix/client/{V}/rooms/.*/redact",
    rf"^/_matrix/client/{V}/rooms/.*/send",
    rf"^/_matrix/client/{V}/rooms/.*/state/",
    rf"^/_matrix/client/{V}/rooms/.*/(join|invite|leave|ban|unban|kick)$",
    rf"^/_matrix/client/{V}/join/",
    rf"^/_matrix/client/{V}/knock/",
    rf"^/_matrix/client/{V}/profile/",
    rf"^/_matrix/client/{R}/user_directory/search$",
)

ROOM_ENDPOINTS = (rf"^/_matrix/client/{V}/rooms/.*/messages$",)

FEDERATION_ENDPOINTS = (
    r"^/_matrix/federation/v1/version$",
    r"^/_matrix/federation/v1/event/",
    r"^/_matrix/federation/v1/state/",
    r"^/_matrix/federation/v1/state_ids/",
    r"^/_matrix/federation/v1/backfill/",
    r"^/_matrix/federation/v1/get_missing_events/",
    r"^/_matrix/federation/v1/publicRooms",
    r"^/_matrix/federation/v1/query/",
    r"^/_matrix/federation/v1/make_join/",
    r"^/_matrix/federation/v1/make_leave/",
    r"^/_matrix/federation/(v1|v2)/send_join/",
    r"^/_matrix/federation/(v1|v2)/send_leave/",
    r"^/_matrix/federation/(v1|v2)/invite/",
    r"^/_matrix/federation/v1/event_auth/",
    r"^/_matrix/federation/v1/timestamp_to_event/",
    r"^/_matrix/federation/v1/user/devices/",
    r"^/_matrix/key/v2/query",
    r"^/_matrix/federation/v1/hierarchy/",
    r"^/_matrix/federation/v1/send/",
)

# Per stream writer (docs/workers.md, "Stream writers").
STREAM_ENDPOINTS = (
    rf"^/_matrix/client/{V}/rooms/.*/typing",
    rf"^/_matrix/client/{R}/sendToDevice/",
    rf"^/_matrix/client/{R}/.*/tags",
    rf"^/_matrix/client/{R}/.*/account_data",
    rf"^/_matrix/client/{R}/rooms/.*/receipt",
    rf"^/_matrix/client/{R}/rooms/.*/read_markers",
    rf"^/_matrix/client/{V}/presence/",
    rf"^/_matrix/client/{V}/pushrules/",
)

MEDIA_ENDPOINTS = (
    r"^/_matrix/media/",
    r"^/_matrix/client/v1/media/",
    r"^/_matrix/federation/v1/media/",
    r"^/_synapse/media/",
    # Our modules' endpoints that read or store media files: the watermarked
    # downloads and viewer (modules.watermark) and the WeCom media API (modules.openapi).
    r"^/_jwwx/client/v1/watermark/",
    r"^/cgi-bin/media/",
)

# Synapse's media admin API: the media worker, admin networks only.
MEDIA_ADMIN_ENDPOINTS = (
    r"^/_synapse/admin/v1/purge_media_cache$",
    r"^/_synapse/admin/v1/room/.*/media.*$",
    r"^/_synapse/admin/v1/user/.*/media.*$",
    r"^/_synapse/admin/v1/media/.*$",
    r"^/_synapse/admin/v1/quarantine_media/.*$",
    r"^/_synapse/admin/v1/users/.*/media$",
)

# The rest of Synapse's admin API: the main process, admin networks only.
SYNAPSE_ADMIN = r"^/_synapse/admin/"

# Always allowed to Synapse's admin API: the host itself (operators' tools on it).
LOOPBACK_NETWORKS = ("127.0.0.1", "::1")

# Our modules' remaining prefixes: the main process (admin API, console, WeCom API,
# OAuth, module client APIs). Listed so that the rendered file says where each goes.
MODULE_MAIN_PREFIXES = ("/_jwwx/", "/cgi-bin/", "/connect/oauth2/")


@dataclass(frozen=True)
class Route:
    pattern: str
    upstream: str
    admin_only: bool = False  # only from the admin networks (Synapse's admin API)


@dataclass(frozen=True)
class Upstream:
    name: str
    servers: tuple[str, ...]
    hash_key: str | None = None  # nginx `hash KEY consistent;`


def _servers(deployment: Deployment, workers: list[Worker]) -> tuple[str, ...]:
    return tuple(f"{deployment.host}:{w.http_port}" for w in workers)


def upstreams(deployment: Deployment, main_port: int) -> list[Upstream]:
    sync = deployment.with_role("sync")
    client = deployment.with_role("generic")
    streams = deployment.with_role("streams")
    return [
        Upstream(MAIN_UPSTREAM, (f"{deployment.host}:{main_port}",)),
        # One user's /sync always on one worker (its caches stay warm).
        Upstream(SYNC_UPSTREAM, _servers(deployment, sync), "$jwwx_user"),
        Upstream(CLIENT_UPSTREAM, _servers(deployment, client)),
        Upstream(ROOM_UPSTREAM, _servers(deployment, client), "$jwwx_room"),
        Upstream(
            STREAMS_UPSTREAM,
            _servers(deployment, streams) or (f"{deployment.host}:{main_port}",),
        ),
        Upstream(MEDIA_UPSTREAM, _servers(deployment, deployment.with_role("media"))),
    ]


def admin_routes(media_upstream: str) -> list[Route]:
    """Synapse's admin API, restricted to the admin networks (first match wins)."""
    table = [Route(p, media_upstream, True) for p in MEDIA_ADMIN_ENDPOINTS]
    return table + [Route(SYNAPSE_ADMIN, MAIN_UPSTREAM, True)]


def admin_allow_list(admin_networks: list[str]) -> list[str]:
    """nginx `allow` entries of the admin-only locations (then `deny all`)."""
    return [*LOOPBACK_NETWORKS, *admin_networks]


def routes(federation: bool) -> list[Route]:
    """A worker deployment's locations, in nginx's order (the first match wins)."""
    table = admin_routes(MEDIA_UPSTREAM)
    table += [Route(p, SYNC_UPSTREAM) for p in SYNC_ENDPOINTS]
    table += [Route(p, STREAMS_UPSTREAM) for p in STREAM_ENDPOINTS]
    table += [Route(p, MEDIA_UPSTREAM) for p in MEDIA_ENDPOINTS]
    table += [Route(p, ROOM_UPSTREAM) for p in ROOM_ENDPOINTS]
    table += [Route(p, CLIENT_UPSTREAM) for p in CLIENT_ENDPOINTS]
    if federation:
        table += [Route(p, CLIENT_UPSTREAM) for p in FEDERATION_ENDPOINTS]
    return table
