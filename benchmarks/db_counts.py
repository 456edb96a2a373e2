# SPDX-License-Identifier: AGPL-3.0-or-later
"""Database work counted from Synapse's own Prometheus counters (the server's metrics
listener): transactions by name (`desc`), the seconds they held a connection, and SQL
statements by verb. Counts do not depend on how loaded the machine is, unlike latencies;
on SQLite, where Synapse has one connection, every transaction of ours (reads too) waits
for and delays message persistence."""

import re
import urllib.request
from collections import Counter
from dataclasses import dataclass, field

_LINE = re.compile(r"^(\w+)\{([^}]*)\} ([0-9.eE+-]+)$")
_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')
TXN_COUNT = "synapse_storage_transaction_time_count"  # a Counter named ..._count
TXN_SECONDS = "synapse_storage_transaction_time_sum"
QUERIES = "synapse_storage_query_time_count"  # a Histogram's count, by verb
GC_COUNT, GC_SECONDS = "python_gc_time_count", "python_gc_time_sum"
# Synapse's histogram of the time between two polls of the reactor: one turn's work,
# which every request that becomes ready meanwhile waits for (a long turn is a stall).
TICKS = "python_twisted_reactor_tick_time_bucket"
WRITE_VERBS = ("INSERT", "UPDATE", "DELETE", "REPLACE")


@dataclass
class DbCounts:
    txns: Counter[str] = field(default_factory=Counter)  # desc → transactions
    seconds: Counter[str] = field(default_factory=Counter)  # desc → seconds held
    verbs: Counter[str] = field(default_factory=Counter)  # SQL verb → statements
    # Synapse runs Python's garbage collector itself (gen → collections / seconds): a
    # collection stops the whole process, so long ones show in the latency tail.
    gcs: Counter[str] = field(default_factory=Counter)
    gc_seconds: Counter[str] = field(default_factory=Counter)
    # Reactor turns at or under each bucket bound (seconds; cumulative, inf: all).
    ticks: Counter[float] = field(default_factory=Counter)

    def minus(self, before: "DbCounts") -> "DbCounts":
        return DbCounts(
            self.txns - before.txns,
            self.seconds - before.seconds,
            self.verbs - before.verbs,
            self.gcs - before.gcs,
            self.gc_seconds - before.gc_seconds,
            self.ticks - before.ticks,
        )

    def plus(self, other: "DbCounts") -> "DbCounts":
        return DbCounts(
            self.txns + other.txns,
            self.seconds + other.seconds,
            self.verbs + other.verbs,
            self.gcs + other.gcs,
            self.gc_seconds + other.gc_seconds,
            self.ticks + other.ticks,
        )

    def total_txns(self) -> int:
        return int(sum(self.txns.values()))

    def writes(self) -> int:
        return int(sum(self.verbs[v] for v in WRITE_VERBS))

    def slow_turns(self, over: float) -> int:
        """Reactor turns longer than `over` seconds (a bucket bound: 0.025, 0.05, 0.1…);
        wall time, so a loaded machine lengthens them too."""
        return int(self.ticks[float("inf")] - self.ticks[over])

    def gc_text(self) -> str:
        """`gen N: count / seconds` for each generation collected."""
        return ", ".join(
            f"gen {g}: {self.gcs[g]:.0f} / {self.gc_seconds[g]:.2f} s"
            for g in sorted(self.gcs)
        )

    def top(self, n: int = 8) -> str:
        """The transactions that held the connection longest: `desc count/seconds`."""
        ranked = sorted(self.seconds.items(), key=lambda kv: -kv[1])[:n]
        return ", ".join(f"{d} {self.txns[d]:.0f}/{s:.2f}s" for d, s in ranked)


def scrape(port: int) -> DbCounts:
    url = f"http://127.0.0.1:{port}/_synapse/metrics"
    with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310 - loopback
        return parse(answer.read().decode("utf-8"))


def scrape_all(ports: list[int]) -> DbCounts:
    """The sum over every process of a deployment (main and workers)."""
    total = DbCounts()
    for port in ports:
        total = total.plus(scrape(port))
    return total


def parse(text: str) -> DbCounts:
    """The counters of one Prometheus text exposition."""
    counts = DbCounts()
    for line in text.splitlines():
        found = _LINE.match(line)
        if found is None:
            continue
        name, labels, value = (
            found.group(1),
            dict(_LABEL.findall(found.group(2))),
            float(found.group(3)),
        )
        name = name.removesuffix("_total")
        if name == TXN_COUNT:
            counts.txns[labels.get("desc", "?")] += value
        elif name == TXN_SECONDS:
            counts.seconds[labels.get("desc", "?")] += value
        elif name == QUERIES:
            counts.verbs[labels.get("verb", "?")] += value
        elif name == GC_COUNT:
            counts.gcs[labels.get("gen", "?")] += value
        elif name == GC_SECONDS:
            counts.gc_seconds[labels.get("gen", "?")] += value
        elif found.group(1) == TICKS:
            bound = labels.get("le", "")
            counts.ticks[float(bound.replace("+Inf", "inf"))] += value
    return counts


def histogram(port: int, name: str) -> dict[float, float]:
    """A Prometheus histogram of the server: upper bound → observations at or below it
    (cumulative, `+Inf` as math.inf), summed over labels; empty if there is none."""
    url = f"http://127.0.0.1:{port}/_synapse/metrics"
    with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310 - loopback
        return parse_histogram(answer.read().decode("utf-8"), name)


def parse_histogram(text: str, name: str) -> dict[float, float]:
    buckets: Counter[float] = Counter()
    for line in text.splitlines():
        found = _LINE.match(line)
        if found is None or found.group(1) != f"{name}_bucket":
            continue
        bound = dict(_LABEL.findall(found.group(2))).get("le", "")
        buckets[float(bound.replace("+Inf", "inf"))] += float(found.group(3))
    return dict(sorted(buckets.items()))


def bucket_quantile(buckets: dict[float, float], q: float) -> float | None:
    """The smallest bucket bound with at least a fraction q of the observations at or
    below it (an upper bound of the q-quantile); None without observations."""
    total = max(buckets.values(), default=0.0)
    if total <= 0:
        return None
    for bound, count in sorted(buckets.items()):
        if count >= q * total:
            return bound
    return None
