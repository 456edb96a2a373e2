# SPDX-License-Identifier: AGPL-3.0-or-later
"""The reactor's long turns, read from a py-spy time line (`--timeline`: py-spy at
1,000 Hz with idle threads, chrometrace format: every thread's stack with its time).

A profile's totals say where CPU went; a page's latency tail is a turn of the reactor
(the main thread between two returns to epoll) that kept every page in flight waiting.
This finds those turns and says, for each, what the main thread ran and what the other
threads (Synapse's database threads: their Python holds the GIL beside the reactor)
ran meanwhile. `python -m benchmarks.timeline FILE [--over MS]` prints them; the
benchmark notes carry `summary()`."""

import argparse
import json
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# A thread that waits for work: the reactor in epoll, an idle pool thread, a database
# thread in a statement (waiting for the database's answer) — the last frame says it.
IDLE_LEAVES = (
    "doPoll",
    "poll",
    "select",
    "wait",
    "_wait_for_tstate_lock",
    "get",
    "sleep",
    "_do_execute",
    "commit",
)
# Synapse wraps the reactor's epoll call (its tick metric, CallWrapper): a reactor
# turn is the time between two of these.
IDLE_FRAMES = ("CallWrapper.__call__",)
# Frames worth naming for a turn: ours, Synapse's handlers/storage, the GC manager.
NAMED = ("modules/", "Handler", "Store", "Servlet", "Resource", "_maybe_gc")


Stack = tuple[tuple[str, str], ...]  # (function, file) from the root


@dataclass
class Thread:
    name: str
    # (ts µs, stack) each time the thread's stack changed
    changes: list[tuple[int, Stack]] = field(default_factory=list)

    def busy(self, stack: Stack) -> bool:
        if not stack:
            return False
        leaf = stack[-1][0]  # py-spy names methods Class.method
        return leaf not in IDLE_FRAMES and leaf.rpartition(".")[2] not in IDLE_LEAVES

    def spans(self, start: int, end: int) -> list[tuple[int, int, Stack]]:
        """(from, to, stack) covering [start, end)."""
        out = []
        for i, (ts, stack) in enumerate(self.changes):
            nxt = self.changes[i + 1][0] if i + 1 < len(self.changes) else end
            lo, hi = max(ts, start), min(nxt, end)
            if hi > lo:
                out.append((lo, hi, stack))
        return out


def load(path: Path) -> dict[int, Thread]:
    events: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
    stacks: dict[int, list[tuple[str, str]]] = {}
    threads: dict[int, Thread] = {}
    events.sort(key=lambda e: (e["tid"], e["ts"], e["ph"] != "E"))
    for event in events:
        tid, ts = event["tid"], int(event["ts"])
        stack = stacks.setdefault(tid, [])
        thread = threads.setdefault(tid, Thread(str(tid)))
        frame = (event["name"], event.get("args", {}).get("filename", ""))
        if event["ph"] == "B":
            if not stack and frame[0].startswith("thread ("):
                thread.name = frame[0]
            stack.append(frame)
        elif stack:
            stack.pop()
        snapshot = tuple(stack[1:])  # without the "thread (N)" root
        if thread.changes and thread.changes[-1][0] == ts:
            thread.changes[-1] = (ts, snapshot)
        else:
            thread.changes.append((ts, snapshot))
    return threads


def main_thread(threads: dict[int, Thread]) -> Thread | None:
    """The reactor: the thread whose stacks run Twisted's reactor loop."""
    for thread in threads.values():
        if any(
            any(f[0].endswith("mainLoop") for f in stack) for _, stack in thread.changes
        ):
            return thread
    return None


@dataclass
class Turn:
    start: int
    end: int
    own: Counter[str]  # the main thread's named frames, µs
    others: Counter[str]  # the other threads' busy named frames, µs

    @property
    def ms(self) -> float:
        return (self.end - self.start) / 1000


def _named(stack: Stack) -> str:
    """The innermost frame of ours or Synapse's handlers/storage above the reactor's
    loop (below it is the launcher), else the leaf."""
    loop = [i for i, f in enumerate(stack) if f[0].endswith("mainLoop")]
    for function, filename in reversed(stack[loop[-1] + 1 if loop else 0 :]):
        if any(k in function or k in filename for k in NAMED):
            return function
    return stack[-1][0] if stack else "?"


def turns(threads: dict[int, Thread], over_ms: float) -> list[Turn]:
    reactor = main_thread(threads)
    if reactor is None or not reactor.changes:
        return []
    found: list[Turn] = []
    start: int | None = None
    end_all = max(t.changes[-1][0] for t in threads.values() if t.changes)
    marks = [*reactor.changes, (end_all, ())]
    for ts, stack in marks:
        # before the reactor runs (start-up) nothing is a turn
        if reactor.busy(stack) and any(f[0].endswith("mainLoop") for f in stack):
            if start is None:
                start = ts
        elif start is not None:
            if (ts - start) / 1000 >= over_ms:
                found.append(_turn(threads, reactor, start, ts))
            start = None
    return found


def _turn(threads: dict[int, Thread], reactor: Thread, start: int, end: int) -> Turn:
    own: Counter[str] = Counter()
    others: Counter[str] = Counter()
    for lo, hi, stack in reactor.spans(start, end):
        own[_named(stack)] += hi - lo
    for thread in threads.values():
        if thread is reactor:
            continue
        for lo, hi, stack in thread.spans(start, end):
            if thread.busy(stack):
                others[_named(stack)] += hi - lo
    return Turn(start, end, own, others)


def _top(counter: Counter[str], n: int) -> str:
    return ", ".join(f"{k} {v / 1000:.0f}" for k, v in counter.most_common(n)) or "-"


def summary(path: Path, over_ms: float = 25.0, top: int = 3) -> str:
    """One line per reactor turn of at least `over_ms`: its length, then the main
    thread's and the other threads' busy frames (ms)."""
    try:
        threads = load(path)
    except (OSError, ValueError) as e:
        return f"no time line read: {e}"
    found = turns(threads, over_ms)
    reactor = main_thread(threads)
    if reactor is None:
        return "no reactor thread in the time line"
    first = reactor.changes[0][0] if reactor.changes else 0
    lines = [
        f"{len(found)} reactor turns >= {over_ms:.0f} ms"
        + (f" (>= 50 ms: {sum(1 for t in found if t.ms >= 50)})" if found else "")
    ]
    for turn in found:
        lines.append(
            f"  +{(turn.start - first) / 1e6:.3f} s {turn.ms:.0f} ms: main "
            f"{_top(turn.own, top)}; other threads {_top(turn.others, top)}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.timeline")
    parser.add_argument("file", type=Path, nargs="+")
    parser.add_argument("--over", type=float, default=25.0, help="ms (default 25)")
    parser.add_argument("--top", type=int, default=4)
    args = parser.parse_args(argv)
    for path in args.file:
        print(f"{path}: {summary(path, args.over, args.top)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
