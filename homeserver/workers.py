# SPDX-License-Identifier: AGPL-3.0-or-later
"""Synapse worker deployments: the profiles `init --workers` renders.

A profile is a list of Synapse's own worker types (all run `synapse.app.generic_worker`,
as Synapse's docs recommend): generic workers for /sync and client reads, event
persisters and the other stream writers, the media repository, and one background
worker (Synapse's background tasks, the federation sender, pushers, appservice
notifications, the user directory, and our modules' jobs). The main process keeps its
client listener for the admin API and our modules' endpoints; nginx (nginx.conf.j2)
routes Synapse's documented worker endpoints to the workers.

Ports, all on loopback: the main process's replication listener is `base`; worker k
(1-based, profile order) listens on base + 2k (HTTP) and, if it writes a stream,
base + 2k + 1 (replication). docs/deployment.md explains each profile.
"""

from dataclasses import dataclass, field
from typing import Any

from homeserver.errors import LauncherError

MAIN = "main"  # Synapse's name for the main process in instance_map / stream_writers

# Streams one writer serves (Synapse allows only one for these) and the sharded one.
SINGLE_WRITER_STREAMS = (
    "typing",
    "to_device",
    "account_data",
    "receipts",
    "presence",
    "push_rules",
)


@dataclass(frozen=True)
class WorkerSpec:
    name: str
    # generic: client reads; sync: /sync; events: event persister; streams: the other
    # stream writers; media: media repository; background: background tasks.
    roles: tuple[str, ...]


@dataclass(frozen=True)
class Worker:
    name: str
    roles: tuple[str, ...]
    http_port: int
    replication_port: int | None
    metrics_port: int | None

    @property
    def writes_streams(self) -> bool:
        return "events" in self.roles or "streams" in self.roles

    def listener_resources(self, federation: bool) -> list[str]:
        names: list[str] = []
        if {"generic", "sync", "streams"} & set(self.roles):
            names.append("client")
        if federation and "generic" in self.roles:
            names.append("federation")
        if "media" in self.roles:
            names.append("media")
        return names or ["health"]

    @property
    def start_group(self) -> int:
        """Start order: stream writers right after the main process, then the rest."""
        return 1 if self.writes_streams else 2


PROFILES: dict[str, tuple[WorkerSpec, ...]] = {
    # One of each kind: what a test or a small unit runs (5 processes with main).
    "small": (
        WorkerSpec("generic1", ("generic", "sync")),
        WorkerSpec("persister1", ("events", "streams")),
        WorkerSpec("media1", ("media",)),
        WorkerSpec("background1", ("background",)),
    ),
    # The bureau (docs/deployment.md): /sync and client reads spread over workers,
    # events sharded over two persisters, the other streams on their own writer.
    "bureau": (
        WorkerSpec("sync1", ("sync",)),
        WorkerSpec("sync2", ("sync",)),
        WorkerSpec("sync3", ("sync",)),
        WorkerSpec("sync4", ("sync",)),
        WorkerSpec("client1", ("generic",)),
        WorkerSpec("client2", ("generic",)),
        WorkerSpec("persister1", ("events",)),
        WorkerSpec("persister2", ("events",)),
        WorkerSpec("stream1", ("streams",)),
        WorkerSpec("media1", ("media",)),
        WorkerSpec("background1", ("background",)),
    ),
}


@dataclass(frozen=True)
class Deployment:
    profile: str
    host: str
    main_replication_port: int
    workers: tuple[Worker, ...]
    redis_host: str
    redis_port: int
    extra: dict[str, Any] = field(default_factory=dict)

    def with_role(self, role: str) -> list[Worker]:
        return [w for w in self.workers if role in w.roles]

    def one(self, role: str) -> Worker:
        return self.with_role(role)[0]

    @property
    def jobs_instance(self) -> str:
        """Where our modules' background jobs run (their `jobs_instance` key)."""
        return self.one("background").name

    def shared_settings(self) -> dict[str, Any]:
        """What homeserver.yaml holds for every process (Synapse's shared config)."""
        events = [w.name for w in self.with_role("events")]
        streams = [w.name for w in self.with_role("streams")] or [MAIN]
        background = self.jobs_instance
        instance_map: dict[str, Any] = {
            MAIN: {"host": self.host, "port": self.main_replication_port}
        }
        for w in self.workers:
            if w.replication_port is not None:
                instance_map[w.name] = {"host": self.host, "port": w.replication_port}
        writers: dict[str, Any] = {"events": events or [MAIN]}
        for stream in SINGLE_WRITER_STREAMS:
            writers[stream] = streams[0]
        return {
            "instance_map": instance_map,
            "stream_writers": writers,
            "run_background_tasks_on": background,
            "federation_sender_instances": [background],
            "pusher_instances": [background],
            "notify_appservices_from_worker": background,
            "update_user_directory_from_worker": background,
            # The media repository runs on the media worker (and, for our modules'
            # jobs that read or delete files, on the background worker); its own
            # background jobs (URL preview clean-up…) on the media worker only.
            "enable_media_repo": False,
            "media_instance_running_background_jobs": self.one("media").name,
        }

    def worker_settings(self, worker: Worker) -> dict[str, Any]:
        """The per-worker keys beyond worker_app/name/listeners (rendered as YAML)."""
        settings: dict[str, Any] = {}
        if "media" in worker.roles or "background" in worker.roles:
            settings["enable_media_repo"] = True
        return settings


def plan(
    profile: str,
    base_port: int,
    metrics_port: int | None,
    redis_host: str,
    redis_port: int,
    host: str = "127.0.0.1",
) -> Deployment:
    """The deployment of a profile; LauncherError for an unknown profile or bad ports."""
    specs = PROFILES.get(profile)
    if specs is None:
        raise LauncherError(
            f"--workers {profile!r}: choose one of {', '.join(sorted(PROFILES))}"
        )
    last = base_port + 2 * len(specs) + 1
    if base_port < 1024 or last > 65535:
        raise LauncherError(
            f"--worker-base-port {base_port}: the workers need ports "
            f"{base_port}..{last}, within 1024..65535"
        )
    workers = []
    for k, spec in enumerate(specs, start=1):
        writes = bool({"events", "streams"} & set(spec.roles))
        workers.append(
            Worker(
                name=spec.name,
                roles=spec.roles,
                http_port=base_port + 2 * k,
                replication_port=base_port + 2 * k + 1 if writes else None,
                metrics_port=metrics_port + k if metrics_port else None,
            )
        )
    return Deployment(
        profile=profile,
        host=host,
        main_replication_port=base_port,
        workers=tuple(workers),
        redis_host=redis_host,
        redis_port=redis_port,
    )


def check_ports(deployment: Deployment, taken: dict[str, int | None]) -> None:
    """Refuse a worker port that collides with another port of the deployment."""
    seen: dict[int, str] = {}
    for what, port in taken.items():
        if port is not None:
            seen[port] = what
    ports: list[tuple[str, int | None]] = [
        ("main replication", deployment.main_replication_port)
    ]
    for w in deployment.workers:
        ports += [
            (f"{w.name} http", w.http_port),
            (f"{w.name} replication", w.replication_port),
            (f"{w.name} metrics", w.metrics_port),
        ]
    for what, port in ports:
        if port is None:
            continue
        if port in seen:
            raise LauncherError(
                f"port {port} is used twice ({seen[port]} and {what}): "
                "choose another --worker-base-port"
            )
        seen[port] = what
