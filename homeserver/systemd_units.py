# SPDX-License-Identifier: AGPL-3.0-or-later
"""systemd units instead of `run`'s supervisor, rendered by `init` into DATA/systemd/:

  jwwx.target              starts and stops every process of the deployment
  jwwx-main.service        the main process (the module configs checked first)
  jwwx-NAME.service        each worker: stream writers after the main process, the
                           others after the stream writers (the supervisor's order)

Each unit runs the command the supervisor would (the same Python, config files and
PYTHONPATH), restarts on any exit after one second and stops with SIGTERM (SIGKILL after
20 s, as the supervisor). Install: copy (or link) them into /etc/systemd/system, then
`systemctl daemon-reload && systemctl enable --now jwwx.target`. docs/deployment.md.
"""

import sys
from pathlib import Path

from homeserver.workers import Deployment, Worker

UNITS_DIR = "systemd"
TARGET = "jwwx.target"


def unit_name(process: str) -> str:
    return f"jwwx-{process}.service"


def _service(
    description: str,
    exec_start: list[str],
    after: list[str],
    data_dir: Path,
    root: Path,
    user: str,
    pre: list[str] | None = None,
) -> str:
    lines = [
        "# Rendered by `python -m homeserver init` (homeserver/systemd_units.py).",
        "[Unit]",
        f"Description={description}",
        "After=" + " ".join(["network-online.target", *after]),
        "Wants=network-online.target",
        f"PartOf={TARGET}",
        "",
        "[Service]",
        "Type=simple",
        f"User={user}",
        f"WorkingDirectory={data_dir}",
        f"Environment=PYTHONPATH={root}",
    ]
    if pre:
        lines.append("ExecStartPre=" + " ".join(pre))
    lines += [
        "ExecStart=" + " ".join(exec_start),
        "ExecReload=/bin/kill -HUP $MAINPID",
        "Restart=always",
        "RestartSec=1",
        "KillSignal=SIGTERM",
        "TimeoutStopSec=20",
        "",
        "[Install]",
        f"WantedBy={TARGET}",
        "",
    ]
    return "\n".join(lines)


def _config_args(data_dir: Path, worker: Worker | None) -> list[str]:
    args = ["-c", str(data_dir / "homeserver.yaml"), "-c", str(data_dir / "conf.d")]
    if worker is not None:
        args += ["-c", str(data_dir / "workers" / f"{worker.name}.yaml")]
    return args


def render_units(
    deployment: Deployment | None, data_dir: Path, user: str
) -> dict[str, str]:
    """{relative path: text} of the target and one service per process."""
    root = Path(__file__).resolve().parent.parent
    python = sys.executable
    check = [python, "-m", "homeserver", "check-config", "--data-dir", str(data_dir)]
    main = unit_name("main")
    files = {
        f"{UNITS_DIR}/{main}": _service(
            "警务微信 Synapse main process",
            [python, "-m", "synapse.app.homeserver", *_config_args(data_dir, None)],
            ["postgresql.service", "redis-server.service"],
            data_dir,
            root,
            user,
            pre=check,
        )
    }
    workers = list(deployment.workers) if deployment is not None else []
    writers = [unit_name(w.name) for w in workers if w.start_group == 1]
    for worker in workers:
        after = [main] if worker.start_group == 1 else [main, *writers]
        files[f"{UNITS_DIR}/{unit_name(worker.name)}"] = _service(
            f"警务微信 Synapse worker {worker.name}",
            [
                python,
                "-m",
                "synapse.app.generic_worker",
                *_config_args(data_dir, worker),
            ],
            after,
            data_dir,
            root,
            user,
        )
    wants = " ".join([main, *(unit_name(w.name) for w in workers)])
    files[f"{UNITS_DIR}/{TARGET}"] = "\n".join(
        [
            "# Rendered by `python -m homeserver init` (homeserver/systemd_units.py).",
            "[Unit]",
            "Description=警务微信 (every Synapse process of the deployment)",
            f"Wants={wants}",
            "",
            "[Install]",
            "WantedBy=multi-user.target",
            "",
        ]
    )
    return files
