# SPDX-License-Identifier: AGPL-3.0-or-later
"""Timing and percentile helpers shared by every benchmark scenario."""

import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


def percentile(samples: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (fraction in [0, 1]) of unsorted samples; NaN if empty."""
    if not samples:
        return math.nan
    ordered = sorted(samples)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


@dataclass(frozen=True)
class Summary:
    """Latencies in milliseconds; throughput in operations per second of wall time."""

    n: int
    p50: float
    p95: float
    p99: float
    max: float
    throughput: float

    @staticmethod
    def of(latencies_s: Sequence[float], wall_s: float | None = None) -> "Summary":
        """Summarise latencies in seconds; wall_s defaults to their sum (sequential)."""
        wall = sum(latencies_s) if wall_s is None else wall_s
        ms = [x * 1000.0 for x in latencies_s]
        return Summary(
            n=len(ms),
            p50=percentile(ms, 0.50),
            p95=percentile(ms, 0.95),
            p99=percentile(ms, 0.99),
            max=max(ms) if ms else math.nan,
            throughput=len(ms) / wall if wall > 0 else math.nan,
        )


class Stopwatch:
    """`with Stopwatch() as sw: ...` then sw.seconds (monotonic clock)."""

    def __init__(self) -> None:
        self.started = 0.0
        self.seconds = 0.0

    def __enter__(self) -> "Stopwatch":
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.started


def timed(fn: Callable[[], T]) -> tuple[float, T]:
    """(seconds, result) of one call."""
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def bounded(items: Iterable[T], budget_s: float) -> Iterable[T]:
    """Yield items until they run out or budget_s seconds have passed."""
    deadline = time.monotonic() + budget_s
    for item in items:
        if time.monotonic() >= deadline:
            return
        yield item
