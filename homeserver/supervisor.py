# SPDX-License-Identifier: AGPL-3.0-or-later
"""`run` for a worker deployment, or one with bridges (homeserver/bridges.py): start the
main process, every worker and every configured bridge, keep them up.

Start order: the main process (it prepares the database), then the stream writers
(every event goes through them), then the other workers, then the bridges; each group
must answer Synapse's /health and our modules' health on its own listener (a bridge: its
/health) before the next starts.
Afterwards a process that exits is started again (after 0.5 s, doubling up to 30 s
while it keeps failing within a minute of its start). SIGTERM/SIGINT stop the workers
and then the main process (SIGKILL after 20 s); SIGHUP is passed to every process
(Synapse reopens its logs). run/supervisor.json in the data directory says which
process has which pid and how often each was restarted.

A process that is alive but has not answered Synapse's /health for
`hung_after_seconds` (probed every 5 s once it was up) is killed with SIGKILL and so
started again like a crashed one. The key lives in homeserver.yaml (or conf.d/):

  jwwx_supervisor:
    hung_after_seconds: 60       # number >= 5, default 60; 0 turns the check off
    start_timeout_seconds: 180   # each start group must be healthy within it (> 0)

(Synapse ignores the key.)
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import yaml

from homeserver.bridges import Bridge
from homeserver.config_file import ServerConfig, check_module_configs
from homeserver.errors import LauncherError
from homeserver.health import HEALTH_PATH
from homeserver.http import HttpError, request_json
from homeserver.runner import project_env, synapse_command
from homeserver.worker_files import WORKERS_DIR

START_TIMEOUT_S = 180.0
STOP_TIMEOUT_S = 20.0
POLL_S = 0.25
FIRST_BACKOFF_S = 0.5
MAX_BACKOFF_S = 30.0
STABLE_AFTER_S = 60.0  # up this long: a later crash starts the backoff afresh
STATUS_FILE = "run/supervisor.json"
PROBE_EVERY_S = 5.0
PROBE_TIMEOUT_S = 5.0
HUNG_AFTER_S = 60.0


@dataclass
class Process:
    name: str
    argv: list[str]
    base_url: str  # its HTTP listener on loopback
    group: int  # 0 main, 1 stream writers, 2 the rest, 3 bridges
    popen: "subprocess.Popen[bytes] | None" = None
    started_at: float = 0.0
    restarts: int = 0
    failures_in_a_row: int = 0
    restart_at: float | None = None
    up: bool = False  # answered its health checks since it was (re)started
    next_probe: float = 0.0
    unanswered_since: float | None = None  # /health failing since (once up)
    exits: list[int] = field(default_factory=list)
    synapse: bool = True  # False: a bridge (its /health only, no modules' health)


def worker_processes(config: ServerConfig) -> list[Process]:
    """The workers rendered into DATA/workers/ (empty: a single-process deployment)."""
    folder = config.data_dir / WORKERS_DIR
    instance_map = config.raw.get("instance_map") or {}
    found = []
    for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
        try:
            worker = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as e:
            raise LauncherError(f"cannot read {path}: {e}") from e
        if not isinstance(worker, dict) or "worker_name" not in worker:
            raise LauncherError(f"{path} is not a worker config (no worker_name)")
        name = str(worker["worker_name"])
        http = [
            listener
            for listener in worker.get("worker_listeners") or []
            if listener.get("type") == "http"
            and "replication"
            not in {
                n for r in listener.get("resources", []) for n in r.get("names", [])
            }
        ]
        if not http:
            raise LauncherError(f"{path}: the worker has no HTTP listener for health")
        host = (http[0].get("bind_addresses") or ["127.0.0.1"])[0]
        argv = [sys.executable, "-m", "synapse.app.generic_worker"]
        for p in config.config_paths:
            if p.exists():
                argv += ["-c", str(p)]
        argv += ["-c", str(path)]
        found.append(
            Process(
                name=name,
                argv=argv,
                base_url=f"http://{host}:{http[0]['port']}",
                group=1 if name in instance_map else 2,
            )
        )
    return found


def has_workers(config: ServerConfig) -> bool:
    return (
        bool(config.raw.get("instance_map"))
        and (config.data_dir / WORKERS_DIR).is_dir()
    )


def check_redis(config: ServerConfig) -> None:
    """Workers talk through Redis: refuse to start, in one line, when it is not there."""
    redis = config.raw.get("redis") or {}
    if not redis.get("enabled"):
        raise LauncherError("homeserver.yaml has workers but Redis is not enabled")
    host, port = str(redis.get("host", "localhost")), int(redis.get("port", 6379))
    try:
        with socket.create_connection((host, port), timeout=3) as s:
            s.sendall(b"PING\r\n")
            answer = s.recv(64)
    except OSError as e:
        raise LauncherError(
            f"Redis at {host}:{port} does not answer ({e}): Synapse's workers need it"
        ) from e
    if not answer.startswith((b"+PONG", b"-NOAUTH")):
        raise LauncherError(f"Redis at {host}:{port} answered {answer!r} to PING")


def process_healthy(process: Process) -> tuple[bool, str]:
    """Synapse's /health, then our modules' health, on the process's own listener (a
    bridge: its /health)."""
    try:
        with urllib.request.urlopen(process.base_url + "/health", timeout=5) as r:
            if r.status != 200:
                return False, f"/health answered {r.status}"
    except (OSError, urllib.error.URLError) as e:
        return False, f"/health: {e}"
    if not process.synapse:
        return True, "ok"
    try:
        health = request_json("GET", process.base_url + HEALTH_PATH, timeout=5)
    except HttpError as e:
        return False, f"modules: HTTP {e.status} {e.body}"
    except (OSError, ValueError) as e:
        return False, f"modules: {e}"
    if not isinstance(health, dict) or health.get("status") != "ok":
        return False, f"modules: {health!r}"
    return True, "ok"


def hung_after(config: ServerConfig) -> float:
    """jwwx_supervisor.hung_after_seconds (LauncherError when it is not a number >= 5
    or 0)."""
    section = config.raw.get("jwwx_supervisor") or {}
    if not isinstance(section, dict):
        raise LauncherError("jwwx_supervisor must be a mapping")
    value = section.get("hung_after_seconds", HUNG_AFTER_S)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise LauncherError("jwwx_supervisor.hung_after_seconds must be a number")
    if value != 0 and value < 5:
        raise LauncherError("jwwx_supervisor.hung_after_seconds must be 0 or >= 5")
    return float(value)


def start_timeout(config: ServerConfig) -> float:
    """jwwx_supervisor.start_timeout_seconds (LauncherError unless a number > 0): how
    long each start group may take (a slow or loaded host needs more than 180 s for
    the bureau's seven last workers starting at once)."""
    section = config.raw.get("jwwx_supervisor") or {}
    if not isinstance(section, dict):
        raise LauncherError("jwwx_supervisor must be a mapping")
    value = section.get("start_timeout_seconds", START_TIMEOUT_S)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise LauncherError(
            "jwwx_supervisor.start_timeout_seconds must be a number > 0"
        )
    return float(value)


def answers_health(process: Process) -> bool:
    try:
        with urllib.request.urlopen(
            process.base_url + "/health", timeout=PROBE_TIMEOUT_S
        ) as r:
            return bool(r.status == 200)
    except (OSError, urllib.error.URLError):
        return False


def bridge_processes(bridges: list[Bridge]) -> list[Process]:
    """The configured bridges (homeserver/bridges.py), started once Synapse is up."""
    return [
        Process(f"bridge-{b.name}", b.argv(), b.url, 3, synapse=False) for b in bridges
    ]


class Supervisor:
    def __init__(
        self, config: ServerConfig, bridges: list[Bridge] | None = None
    ) -> None:
        self._config = config
        self._hung_after = hung_after(config)
        self._start_timeout = start_timeout(config)
        main_argv = synapse_command(config)
        self.processes = [
            Process("main", main_argv, config.client_base_url, 0),
            *worker_processes(config),
            *bridge_processes(bridges or []),
        ]
        self._stopping = False
        self._hangup = False
        self._env = project_env()

    # Output and status

    def _say(self, text: str) -> None:
        print(f"homeserver: {text}", flush=True)

    def _write_status(self) -> None:
        path = self._config.data_dir / STATUS_FILE
        path.parent.mkdir(mode=0o700, exist_ok=True)
        status = {
            p.name: {
                "pid": p.popen.pid if p.popen and p.popen.poll() is None else None,
                "url": p.base_url,
                "up": p.up,
                "restarts": p.restarts,
                "exits": p.exits[-10:],
            }
            for p in self.processes
        }
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(status, indent=1), encoding="utf-8")
        os.replace(tmp, path)

    # Processes

    def _spawn(self, process: Process) -> None:
        process.popen = subprocess.Popen(process.argv, env=self._env)
        process.started_at = time.monotonic()
        process.restart_at = None
        process.up = False
        process.unanswered_since = None
        process.next_probe = 0.0

    def _wait_group(self, group: list[Process]) -> None:
        deadline = time.monotonic() + self._start_timeout
        waiting = list(group)
        why = ""
        while waiting:
            if self._stopping:
                raise LauncherError("stopped while starting")
            for process in list(waiting):
                assert process.popen is not None
                code = process.popen.poll()
                if code is not None:
                    raise LauncherError(
                        f"{process.name} exited with code {code} while starting"
                    )
                healthy, why = process_healthy(process)
                if healthy:
                    process.up = True
                    waiting.remove(process)
                    self._say(f"{process.name} is up at {process.base_url}")
            if waiting and time.monotonic() > deadline:
                names = ", ".join(p.name for p in waiting)
                raise LauncherError(
                    f"not healthy after {self._start_timeout:.0f}s: {names} ({why})"
                )
            time.sleep(POLL_S)

    def _start_all(self) -> None:
        for group in (0, 1, 2, 3):
            members = [p for p in self.processes if p.group == group]
            for process in members:
                self._spawn(process)
            self._wait_group(members)
            self._write_status()

    def _watch(self) -> None:
        while not self._stopping:
            if self._hangup:
                self._hangup = False
                self._signal_all(signal.SIGHUP)
            now = time.monotonic()
            changed = False
            for process in self.processes:
                assert process.popen is not None or process.restart_at is not None
                if process.restart_at is not None:
                    if now >= process.restart_at:
                        self._spawn(process)
                        process.restarts += 1
                        self._say(f"{process.name} started again")
                        changed = True
                    continue
                assert process.popen is not None
                code = process.popen.poll()
                if code is None:
                    if not process.up and process_healthy(process)[0]:
                        process.up = True
                        process.unanswered_since = None
                        self._say(f"{process.name} is up again")
                        changed = True
                    elif process.up:
                        self._check_alive(process, now)
                    continue
                process.exits.append(code)
                if now - process.started_at >= STABLE_AFTER_S:
                    process.failures_in_a_row = 0
                delay = min(
                    MAX_BACKOFF_S, FIRST_BACKOFF_S * 2**process.failures_in_a_row
                )
                process.failures_in_a_row += 1
                process.popen = None
                process.restart_at = now + delay
                self._say(
                    f"{process.name} exited with code {code}; "
                    f"starting it again in {delay:.1f}s"
                )
                changed = True
            if changed:
                self._write_status()
            time.sleep(POLL_S)

    def _check_alive(self, process: Process, now: float) -> None:
        """Kill a process that has not answered /health for hung_after seconds; the
        watch loop then starts it again as it does after a crash."""
        if not self._hung_after or now < process.next_probe:
            return
        process.next_probe = now + PROBE_EVERY_S
        if answers_health(process):
            process.unanswered_since = None
            return
        if process.unanswered_since is None:
            process.unanswered_since = now
        elif now - process.unanswered_since >= self._hung_after:
            self._say(
                f"{process.name} has not answered /health for "
                f"{now - process.unanswered_since:.0f}s: killing it"
            )
            assert process.popen is not None
            process.popen.kill()

    def _signal_all(self, signum: int) -> None:
        for process in self.processes:
            if process.popen is not None and process.popen.poll() is None:
                process.popen.send_signal(signum)

    def _stop_all(self) -> None:
        # Bridges, workers (they flush to the stream writers), then the main process.
        for group in (3, 2, 1, 0):
            members = [
                p
                for p in self.processes
                if p.group == group and p.popen is not None and p.popen.poll() is None
            ]
            for process in members:
                assert process.popen is not None
                process.popen.terminate()
            for process in members:
                assert process.popen is not None
                try:
                    process.popen.wait(timeout=STOP_TIMEOUT_S)
                except subprocess.TimeoutExpired:
                    process.popen.kill()
                    process.popen.wait()
        self._write_status()

    # The command

    def run(self, on_healthy: Callable[[], None] | None = None) -> int:
        def stop(signum: int, _frame: FrameType | None) -> None:
            self._stopping = True

        def hangup(signum: int, _frame: FrameType | None) -> None:
            self._hangup = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGHUP, hangup)
        names = ", ".join(p.name for p in self.processes)
        self._say(f"starting {len(self.processes)} processes: {names}")
        try:
            self._start_all()
        except LauncherError as e:
            self._stop_all()
            if self._stopping:
                return 0
            raise e
        if on_healthy is not None:
            on_healthy()
        self._watch()
        self._say("stopping")
        self._stop_all()
        return 0


def run_supervised(
    config: ServerConfig,
    on_healthy: Callable[[], None] | None = None,
    bridges: list[Bridge] | None = None,
) -> int:
    """Synapse's processes (and the configured bridges) supervised: a worker deployment,
    or a single process with bridges."""
    check_module_configs(config)
    if has_workers(config):
        check_redis(config)
    return Supervisor(config, bridges).run(on_healthy)


def status(data_dir: Path) -> dict[str, Any]:
    """run/supervisor.json of a running deployment (tests, operators)."""
    loaded: dict[str, Any] = json.loads(
        (data_dir / STATUS_FILE).read_text(encoding="utf-8")
    )
    return loaded
