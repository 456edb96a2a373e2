# SPDX-License-Identifier: AGPL-3.0-or-later
"""search-cost: dm-latency's traffic (its pairs long-polling /sync, exchanging texts at
its rate) on ours against ours without modules.search, in the same run (`--rounds N`
alternates them): what the indexer costs send and delivery (issue 19: ≤ 5 %), server
CPU, database transactions and the time they held the connection. On ours with the
module, the index lag of every message of that traffic: its origin_server_ts to the
moment the indexer committed it (the server's jwwx_search_index_lag_seconds
histogram over the run; percentiles are that histogram's bucket bounds, i.e. upper
bounds). The `search` scenario measures the lag as a client sees it (send → /search
finds it) under the same traffic."""

from benchmarks.db_counts import bucket_quantile, histogram
from benchmarks.scenario import Context, Sample
from benchmarks.scenarios import dm_latency

LAG_METRIC = "jwwx_search_index_lag_seconds"


def lag_sample(before: dict[float, float], after: dict[float, float]) -> Sample | None:
    """The lag of the messages indexed between two scrapes of the histogram."""
    buckets = {b: after[b] - before.get(b, 0.0) for b in after}
    n = max(buckets.values(), default=0.0)
    if n <= 0:
        return None
    p50, p95, p99 = (bucket_quantile(buckets, q) for q in (0.5, 0.95, 0.99))
    slowest = min((b for b, c in buckets.items() if c >= n), default=None)
    return Sample(
        "index lag (sent → indexed), every message",
        value=p99,
        unit="s (p99 ≤)",
        n=int(n),
        note=f"p50 ≤ {p50:g} s, p95 ≤ {p95:g} s, p99 ≤ {p99:g} s, max ≤ {slowest:g} s"
        " (histogram bounds)",
        comparable=False,
    )


async def run(ctx: Context) -> None:
    port = ctx.server.metrics_port
    before = histogram(port, LAG_METRIC) if port else {}
    await dm_latency.run(ctx)
    if port:
        found = lag_sample(before, histogram(port, LAG_METRIC))
        if found is not None:
            ctx.add(found)
