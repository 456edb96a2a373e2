# SPDX-License-Identifier: AGPL-3.0-or-later
"""Start a real Synapse with our modules, through our own launcher, for a test class.

The server gets a temporary data directory, a free loopback port and either the embedded
SQLite database or a fresh PostgreSQL database. Only test-speed settings differ from a
real deployment (conf.d/testing.yaml: cheap bcrypt, lifted rate limits).
"""

import atexit
import contextlib
import io
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from homeserver.admin import bootstrap_grant, register_user
from homeserver.config_file import load_server_config
from homeserver.health import probe
from homeserver.http import HttpError, request_json
from tests.harness import postgres

SERVER_NAME = "test.jwwx"
# A first start applies every schema; on a shared 2-core machine at load 30 (eight
# sessions' tests at once) it took more than 90 s. Waiting longer costs nothing when
# the server comes up; the wait ends at once when the process exits.
START_TIMEOUT = 180.0
_UNLIMITED = {"per_second": 100000, "burst_count": 100000}

TEST_OVERRIDES: dict[str, Any] = {
    "bcrypt_rounds": 4,
    # A fresh database has a few dozen background updates (some add unique indexes
    # Synapse relies on); run them back to back instead of one a second.
    "background_updates": {"sleep_enabled": False},
    "rc_message": _UNLIMITED,
    "rc_registration": _UNLIMITED,
    "rc_login": {
        "address": _UNLIMITED,
        "account": _UNLIMITED,
        "failed_attempts": _UNLIMITED,
    },
    "rc_joins": {"local": _UNLIMITED, "remote": _UNLIMITED},
    "rc_joins_per_room": _UNLIMITED,
    "rc_invites": {
        "per_room": _UNLIMITED,
        "per_user": _UNLIMITED,
        "per_issuer": _UNLIMITED,
    },
    "rc_admin_redaction": _UNLIMITED,
    "rc_room_creation": _UNLIMITED,
    "rc_media_create": _UNLIMITED,
    "rc_presence": {"per_user": _UNLIMITED},
    "rc_user_directory": _UNLIMITED,
    "rc_profile": _UNLIMITED,
}

_running: set["TestServer"] = set()


def free_port() -> int:
    """A free port below the ephemeral range: a stand-in that stops and listens again on
    the same port must not find it taken by another job's outgoing connection."""
    return free_port_block(1)


def free_port_block(size: int) -> int:
    """A base port with `size` free ports from it (a worker deployment's layout), below
    the kernel's ephemeral range, where outgoing connections would take them meanwhile."""
    low = 20000
    try:
        ephemeral = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text()
        high = min(int(ephemeral.split()[0]), 65536) - size
    except (OSError, ValueError, IndexError):
        high = 32768 - size
    for _ in range(100):
        base = random.randrange(low, high)
        if all(_port_free(base + i) for i in range(size)):
            return base
    raise RuntimeError("no block of free ports")


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def launcher(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run `python -m homeserver ARGS` as an operator would."""
    return subprocess.run(
        [sys.executable, "-m", "homeserver", *args],
        capture_output=True,
        text=True,
        check=check,
        cwd=Path(__file__).resolve().parents[2],
    )


_INIT_LOCK = threading.Lock()


def init_in_process(*args: str) -> None:
    """`python -m homeserver init ARGS` through the launcher's own entry point, in this
    process: the same code and files as the command (tests.homeserver.test_init runs
    it as one), without a Python start and the launcher's imports for every test
    server (seconds each on a loaded machine, for about a hundred server classes).
    Imported here: modules that only want free_port do not pay for the launcher."""
    from homeserver import cli as homeserver_cli  # noqa: PLC0415 - see above

    out, err = io.StringIO(), io.StringIO()
    # One at a time: redirect_stdout swaps the process's sys.stdout, so two inits in
    # threads (start_domains starts servers in parallel) could restore each other's
    # buffer and leave sys.stdout a StringIO for good (a benchmark's results lost).
    with _INIT_LOCK, contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = homeserver_cli.main(list(args))
    if code != 0:
        raise RuntimeError(f"homeserver init exited {code}: {err.getvalue()}")


class TestServer:
    def __init__(
        self,
        engine: str = "sqlite",
        keywords: tuple[str, ...] = (),
        init_args: tuple[str, ...] = (),
        shipped_login_limits: bool = False,
        module_config: dict[str, dict[str, Any]] | None = None,
        configure: "Callable[[TestServer], None] | None" = None,
        wait_for_flush: bool = True,
    ) -> None:
        if engine not in ("sqlite", "postgres"):
            raise ValueError(engine)
        # False: PostgreSQL commits without waiting for the disk (test classes; the
        # benchmarks keep a deployment's durable commits).
        self.wait_for_flush = wait_for_flush
        # True: keep the rendered config's rc_login (tests of the shipped limits).
        self.shipped_login_limits = shipped_login_limits
        self.module_config = module_config or {}
        # Called after init, before the first start (e.g. to add conf.d files).
        self.configure = configure
        self.engine = engine
        self.keywords = keywords
        self.init_args = init_args
        self.server_name = SERVER_NAME
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.data_dir = Path(tempfile.mkdtemp(prefix="jwwx-test-"))
        self.pg_database: str | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._log: Any = None

    # Lifecycle

    def start(self) -> None:
        args = [
            "init",
            "--data-dir",
            str(self.data_dir),
            "--server-name",
            self.server_name,
            "--port",
            str(self.port),
        ]
        for keyword in self.keywords:
            args += ["--keyword", keyword]
        args += list(self.init_args)
        if self.engine == "postgres":
            params = postgres.create_database(wait_for_flush=self.wait_for_flush)
            self.pg_database = str(params["dbname"])
            args += [
                "--pg-db",
                self.pg_database,
                "--pg-host",
                str(params["host"]),
                "--pg-port",
                str(params["port"]),
                "--pg-user",
                str(params["user"]),
            ]
            if params["password"]:
                args += ["--pg-password", str(params["password"])]
        init_in_process(*args)
        overrides = dict(TEST_OVERRIDES)
        if self.shipped_login_limits:
            del overrides["rc_login"]
        (self.data_dir / "conf.d" / "testing.yaml").write_text(
            yaml.safe_dump(overrides), encoding="utf-8"
        )
        if self.module_config:
            self._write_module_config()
        if self.configure is not None:
            self.configure(self)
        self._spawn()
        self._wait_background_updates()

    def _write_module_config(self) -> None:
        rendered = yaml.safe_load(
            (self.data_dir / "homeserver.yaml").read_text(encoding="utf-8")
        )
        for entry in rendered["modules"]:
            entry.setdefault("config", {}).update(
                self.module_config.get(entry["module"], {})
            )
        (self.data_dir / "conf.d" / "zz-test-modules.yaml").write_text(
            yaml.safe_dump({"modules": rendered["modules"]}, allow_unicode=True),
            encoding="utf-8",
        )

    def _wait_background_updates(self, timeout: float = 60.0) -> None:
        """A fresh database gets some of Synapse's unique indexes from background
        updates; tests start once they are all done, as a real server would be."""
        config = load_server_config(self.data_dir)
        token = register_user(config, "harnessadmin", "harness-pw", admin=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = request_json(
                "GET",
                self.base_url + "/_synapse/admin/v1/background_updates/status",
                token=token,
            )
            if not status.get("current_updates"):
                return
            time.sleep(0.1)
        raise RuntimeError(f"background updates still running after {timeout}s")

    def _spawn(self) -> None:
        self._log = open(self.data_dir / "server.log", "ab")  # noqa: SIM115 - closed in stop
        self._process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "homeserver",
                "run",
                "--data-dir",
                str(self.data_dir),
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=Path(__file__).resolve().parents[2],
            start_new_session=True,
        )
        _running.add(self)
        self.wait_healthy()

    def wait_healthy(self, timeout: float = START_TIMEOUT) -> None:
        config = load_server_config(self.data_dir)
        deadline = time.monotonic() + timeout
        why = "not started"
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                raise RuntimeError(
                    f"server exited ({self._process.returncode}):\n{self.log_tail()}"
                )
            healthy, why = probe(config)
            if healthy:
                return
            time.sleep(0.1)
        raise RuntimeError(
            f"server not healthy after {timeout}s: {why}\n{self.log_tail()}"
        )

    def restart(self) -> None:
        self._terminate()
        self._spawn()

    def _terminate(self) -> None:
        if self._process is not None and self._process.poll() is None:
            os.killpg(self._process.pid, signal.SIGTERM)
            try:
                self._process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self._process.pid, signal.SIGKILL)
                self._process.wait()
        self._process = None
        if self._log is not None:
            self._log.close()
            self._log = None
        _running.discard(self)

    def stop(self) -> None:
        self._terminate()
        if self.pg_database:
            postgres.drop_database(self.pg_database)
            self.pg_database = None
        if os.environ.get("JWWX_KEEP_TEST_DATA") != "1":
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = (self.data_dir / "server.log").read_text(
                encoding="utf-8", errors="replace"
            )
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def log_text(self) -> str:
        return (self.data_dir / "server.log").read_text(
            encoding="utf-8", errors="replace"
        )

    # Accounts

    def register(self, localpart: str, admin: bool = False) -> tuple[str, str]:
        """Create a user through shared-secret registration; return (user_id, token).

        An admin's token is a bootstrap session (admin_api's bootstrap endpoint, as
        `create-admin` uses it), which has passed the admin API's second factor; servers
        without admin_api (vanilla benchmarks) keep the registration's token."""
        config = load_server_config(self.data_dir)
        token = register_user(config, localpart, "pw-" + localpart, admin=admin)
        if admin:
            try:
                token = bootstrap_grant(config, localpart)["access_token"]
            except HttpError as e:
                if e.status != 404:
                    raise
        return f"@{localpart}:{self.server_name}", token


@atexit.register
def _stop_leftovers() -> None:
    for server in list(_running):
        server.stop()
