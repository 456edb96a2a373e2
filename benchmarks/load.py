# SPDX-License-Identifier: AGPL-3.0-or-later
"""Request loops: sequential on one client, or N clients in threads. Every loop is
bounded by its list of requests and by a time budget."""

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from benchmarks.client import Client
from benchmarks.stats import Summary

# (method, path, JSON body or None)
Request = tuple[str, str, Any]
# Counts results in a 200 answer (for the hit rate); None: not counted.
HitCounter = Callable[[Any], int] | None
Statuses = tuple[int, ...]


@dataclass
class LoadResult:
    latencies: list[float] = field(default_factory=list)
    wall: float = 0.0
    errors: int = 0
    hits: int = 0  # answers with at least one result
    results: int = 0  # results over all answers
    counted: int = 0  # answers whose results were counted
    first_error: str = ""
    stopped_early: bool = False

    def summary(self) -> Summary:
        return Summary.of(self.latencies, self.wall)

    def note(self) -> str:
        parts = []
        if self.counted:
            parts.append(f"hits {100.0 * self.hits / self.counted:.0f}%")
            parts.append(f"avg {self.results / self.counted:.1f} results")
        if self.errors:
            parts.append(f"{self.errors} errors ({self.first_error[:60]})")
        if self.stopped_early:
            parts.append("time budget hit")
        return ", ".join(parts)

    def record(
        self, seconds: float, status: int, body: Any, count: HitCounter, ok: Statuses
    ) -> None:
        self.latencies.append(seconds)
        if status not in ok:
            self.errors += 1
            self.first_error = self.first_error or f"HTTP {status} {str(body)[:80]}"
        elif count is not None:
            found = count(body)
            self.counted += 1
            self.results += found
            self.hits += found > 0


def sequential(
    client: Client,
    requests: Sequence[Request],
    budget_s: float,
    count: HitCounter = None,
    ok: Statuses = (200,),
) -> LoadResult:
    result = LoadResult()
    deadline = time.monotonic() + budget_s
    started = time.perf_counter()
    for method, path, body in requests:
        if time.monotonic() >= deadline:
            result.stopped_early = True
            break
        seconds, status, parsed = client.timed(method, path, body)
        result.record(seconds, status, parsed, count, ok)
    result.wall = time.perf_counter() - started
    return result


def concurrent(
    make_client: Callable[[], Client],
    requests: Sequence[Request],
    workers: int,
    budget_s: float,
    count: HitCounter = None,
    ok: Statuses = (200,),
) -> LoadResult:
    """`workers` clients (one thread and connection each) share the request list."""
    result = LoadResult()
    lock = threading.Lock()
    cursor = iter(requests)
    deadline = time.monotonic() + budget_s
    clients = [make_client() for _ in range(workers)]

    def work(client: Client) -> None:
        while True:
            with lock:
                if time.monotonic() >= deadline:
                    result.stopped_early = True
                    return
                item = next(cursor, None)
            if item is None:
                return
            seconds, status, parsed = client.timed(*item)
            with lock:
                result.record(seconds, status, parsed, count, ok)

    threads = [threading.Thread(target=work, args=(c,), daemon=True) for c in clients]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(budget_s + 120)
    result.wall = time.perf_counter() - started
    for client in clients:
        client.close()
    return result
