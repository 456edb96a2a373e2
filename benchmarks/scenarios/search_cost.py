# SPDX-License-Identifier: AGPL-3.0-or-later
"""search-cost: dm-latency's traffic (its pairs long-polling /sync, exchanging texts at
its rate) on ours against ours without modules.search, in the same run (`--rounds N`
alternates them): what the indexer costs send and delivery (issue 19: ≤ 5 %), server
CPU, database transactions and the time they held the connection. On ours with the
module, the index lag of every message of that traffic, from the server's histograms
over the run (percentiles are bucket bounds, i.e. upper bounds): behind the stream (from
the moment the indexing process saw the message persisted — when /sync listeners are
woken — to the commit of its batch: the issue's p99 < 2 s) and from the send
(origin_server_ts, so Synapse's own persisting time included). The `search` scenario measures the lag as a client sees it (send → /search
finds it) under the same traffic."""

from benchmarks.db_counts import bucket_quantile, histogram
from benchmarks.scenario import Context, Sample
from benchmarks.scenarios import dm_latency

LAG_METRICS = {
    # what the issue asks (p99 < 2 s): from the moment the event entered the stream
    # (persisted; /sync listeners woken) to its indexing
    "jwwx_search_index_stream_lag_seconds": "index lag behind the stream"
    " (persisted → indexed)",
    # end to end, including the time Synapse took to persist the message
    "jwwx_search_index_lag_seconds": "index lag from the send (created → indexed)",
}


def lag_histograms(port: int | None) -> dict[str, dict[float, float]]:
    return {m: histogram(port, m) for m in LAG_METRICS} if port else {}


def lag_samples(
    before: dict[str, dict[float, float]],
    after: dict[str, dict[float, float]],
    prefix: str = "",
) -> list[Sample]:
    """The lag of the messages indexed between two scrapes of the histograms."""
    found = []
    for metric, name in LAG_METRICS.items():
        sample = lag_sample(before.get(metric, {}), after.get(metric, {}))
        if sample is not None:
            sample.metric = f"{prefix}{name}"
            found.append(sample)
    return found


def lag_sample(before: dict[float, float], after: dict[float, float]) -> Sample | None:
    buckets = {b: after[b] - before.get(b, 0.0) for b in after}
    n = max(buckets.values(), default=0.0)
    if n <= 0:
        return None
    p50, p95, p99 = (bucket_quantile(buckets, q) for q in (0.5, 0.95, 0.99))
    slowest = min((b for b, c in buckets.items() if c >= n), default=None)
    return Sample(
        "index lag",
        value=p99,
        unit="s (p99 ≤)",
        n=int(n),
        note=f"p50 ≤ {p50:g} s, p95 ≤ {p95:g} s, p99 ≤ {p99:g} s, max ≤ {slowest:g} s"
        " (histogram bounds), every message",
        comparable=False,
    )


async def run(ctx: Context) -> None:
    port = ctx.server.metrics_port
    before = lag_histograms(port)
    await dm_latency.run(ctx)
    for sample in lag_samples(before, lag_histograms(port)):
        ctx.add(sample)
