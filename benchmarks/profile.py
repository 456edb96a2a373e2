# SPDX-License-Identifier: AGPL-3.0-or-later
"""Where the server's time goes: py-spy (a sampling profiler, attached from outside)
records ours' Synapse processes (main and every worker) during a scenario's measured
phase (`--profile DIR`).
The raw collapsed stacks are written to DIR; a short summary goes into the notes."""

import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

from benchmarks.servers import BenchServer, synapse_processes

RATE = 50  # samples per second: cheap enough not to disturb the server much
TIMELINE_RATE = 1000  # a time line's: turns of a few ms apart
# Frames where a thread waits for work (the reactor's epoll, idle database threads):
# left out, so the percentages are of time spent doing something.
IDLE = ("CallWrapper.__call__", "Condition.wait", "untilConcludes", "select", "poll")
# A database thread inside a statement or a commit: waiting for the database's answer
# (and for the GIL after it), not running Python. py-spy counts these threads as busy,
# so they are set apart: their share grows with the machine's load and with what else
# holds the GIL, not with the work done (issue 17: the unread-count queries looked 1.6×
# costlier on ours for that reason alone; the database work was the same).
DB_WAIT = ("LoggingTransaction._do_execute", "LoggingDatabaseConnection.commit")


def py_spy() -> str | None:
    found = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    return found if Path(found).exists() else None


def output_for(out: Path, name: str) -> Path:
    """The main process's stacks go to `out`, a worker's beside it (OUT.NAME.txt)."""
    return out if name == "main" else out.with_name(f"{out.stem}.{name}{out.suffix}")


class Profiler:
    """`with Profiler(server, out_file):` records every Synapse process (the main
    process and, in a worker deployment, each worker: `outputs`, by name) while
    inside, if py-spy can."""

    def __init__(
        self, server: BenchServer, out: Path, rate: int = RATE, timeline: bool = False
    ) -> None:
        """`timeline`: a time line instead of stacks (`--timeline`, benchmarks/timeline.py):
        1,000 Hz with idle threads, chrometrace, to OUT with `.json`."""
        self.server, self.out, self.rate = server, out, rate
        self.timeline = timeline
        if timeline:
            self.rate, self.out = TIMELINE_RATE, out.with_suffix(".json")
        self._processes: list[subprocess.Popen[bytes]] = []
        self.outputs: dict[str, Path] = {}
        self.problem = ""

    def __enter__(self) -> "Profiler":
        found, tool = synapse_processes(self.server), py_spy()
        if not found or tool is None:
            self.problem = "no Synapse process or no py-spy: not profiled"
            return self
        self.out.parent.mkdir(parents=True, exist_ok=True)
        for name, pid in sorted(found.items(), key=lambda kv: kv[0] != "main"):
            path = output_for(self.out, name)
            self.outputs[name] = path
            self._processes.append(
                subprocess.Popen(
                    [
                        tool,
                        "record",
                        "--pid",
                        str(pid),
                        "--rate",
                        str(self.rate),
                        "--nonblocking",
                        *(
                            ("--idle", "--format", "chrometrace")
                            if self.timeline
                            else ()
                        ),
                        *(() if self.timeline else ("--format", "raw")),
                        "--output",
                        str(path),
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        return self

    def __exit__(self, *exc: object) -> None:
        for process in self._processes:
            process.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
        for process in self._processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def summary(path: Path, top: int = 6, rate: int = RATE) -> str:
    """The functions with the most samples on the stack (inclusive) among ours and
    Synapse's handlers/storage, and the top frames by own time; database waits apart.
    A time line (.json): its reactor turns over 25 ms instead."""
    if path.suffix == ".json":
        from benchmarks import timeline

        return timeline.summary(path)
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = waiting = 0
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return "no profile written"
    for line in lines:
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = [f.split(" (")[0] for f in stack.split(";")]
        if frames[-1] in IDLE:
            continue
        if frames[-1] in DB_WAIT:
            waiting += n
            continue
        total += n
        own[frames[-1]] += n
        for frame in set(frames):
            inclusive[frame] += n
    if not total:
        return "no busy samples"
    interesting = [
        (f, n)
        for f, n in inclusive.most_common(300)
        if any(
            k in f for k in ("Handler", "Store", "Module", "Guard", "Gate", "Filter")
        )
    ][:top]

    def pct(items: list[tuple[str, int]]) -> str:
        return ", ".join(f"{f} {100 * n / total:.0f}%" for f, n in items)

    return (
        f"{total} busy samples at {rate} Hz (and {waiting} of database threads waiting "
        f"inside a statement or commit, left out); own time: "
        f"{pct(own.most_common(top))}; on the stack: {pct(interesting)}"
    )
