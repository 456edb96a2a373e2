# SPDX-License-Identifier: AGPL-3.0-or-later
"""`run`: start Synapse with our modules in the foreground, logs on the console."""

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from types import FrameType

from homeserver.config_file import ServerConfig
from homeserver.health import wait_healthy


def synapse_command(config: ServerConfig) -> list[str]:
    """Synapse's main process, for a caller that has checked the config itself."""
    return [sys.executable, "-m", "synapse.app.homeserver", *_config_args(config)]


def checked_synapse_command(config: ServerConfig) -> list[str]:
    """Synapse's main process that first checks our modules' config (synapse_main.py):
    the launcher then imports neither Synapse nor the modules itself."""
    return [
        sys.executable,
        "-m",
        "homeserver.synapse_main",
        str(config.data_dir),
        *_config_args(config),
    ]


def _config_args(config: ServerConfig) -> list[str]:
    args = []
    for path in config.config_paths:
        if path.exists():
            args += ["-c", str(path)]
    return args


def project_env() -> dict[str, str]:
    """Make sure Synapse's process can import our modules whatever its cwd is."""
    env = dict(os.environ)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    return env


def run_foreground(
    config: ServerConfig,
    on_healthy: Callable[[], None] | None = None,
    start_timeout: float = 120.0,
) -> int:
    """Run Synapse until it exits or we are signalled; return its exit code (2 with a
    one-line message when our modules' config is wrong, checked in Synapse's process)."""
    child = subprocess.Popen(checked_synapse_command(config), env=project_env())

    def forward(signum: int, _frame: FrameType | None) -> None:
        if child.poll() is None:
            child.send_signal(signum)

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, forward)

    if on_healthy is not None:

        def after_start() -> None:
            healthy, why = wait_healthy(config, start_timeout)
            if child.poll() is not None:
                return
            if not healthy:
                print(
                    f"homeserver: not healthy after {start_timeout:.0f}s: {why}",
                    file=sys.stderr,
                )
                return
            on_healthy()

        threading.Thread(target=after_start, daemon=True).start()

    while True:
        try:
            return child.wait()
        except KeyboardInterrupt:
            continue
