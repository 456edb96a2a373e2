# SPDX-License-Identifier: AGPL-3.0-or-later
"""A bridge the launcher's supervisor runs beside a test server (`jwwx_bridges`)."""

import json
import time
import urllib.request
from pathlib import Path


def bridge_pid(
    data_dir: Path, name: str, port: int, other_than: int | None = None
) -> int:
    """The pid of the supervised bridge `name` (app_push, ministry_im, …) once it
    answers /health on `port` and, after a kill, is another process than
    `other_than`; waits up to 120 s (a loaded machine)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            status = json.loads((data_dir / "run/supervisor.json").read_text())
            pid = status[f"bridge-{name}"]["pid"]
            with urllib.request.urlopen(  # noqa: S310 - loopback
                f"http://127.0.0.1:{port}/health", timeout=2
            ) as answer:
                if answer.status == 200 and pid and pid != other_than:
                    return int(pid)
        except (OSError, KeyError, ValueError):
            pass
        time.sleep(0.2)
    raise AssertionError(f"the supervised bridge {name} did not come up")
