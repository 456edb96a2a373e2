# SPDX-License-Identifier: AGPL-3.0-or-later
"""The scenarios of `python -m benchmarks run`, by name, in their default order."""

from benchmarks.scenario import Scenario
from benchmarks.scenarios import (
    admin_api,
    cross_domain,
    directory_search,
    dm_latency,
    dm_sample,
    group_fanout,
    login,
    pubaccount,
    search,
    search_cost,
    soak,
    start_memory,
    wecom_api,
)

SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario(
            "login",
            "password login with the whole population present",
            login.run,
            metrics=True,
        ),
        Scenario(
            "dm-latency",
            "pairs exchanging texts: send and delivery latency",
            dm_latency.run,
            metrics=True,
        ),
        Scenario(
            "dm-sample",
            "the embedded default as tried: 100 pairs at 25 msg/s, the sample "
            "directory, every loop of ours, presence off; database work per message",
            dm_sample.run,
            settings=dm_sample.SETTINGS,
            metrics=True,
            smtp=True,
        ),
        Scenario(
            "group-fanout",
            "one big group: delivery to every member's /sync",
            group_fanout.run,
            metrics=True,
        ),
        Scenario(
            "dm-sliding",
            "dm-latency with every recipient on MSC4186 sliding sync (Element X)",
            dm_latency.run,
            metrics=True,
            sliding_sync=True,
        ),
        Scenario(
            "group-sliding",
            "group-fanout with every member on MSC4186 sliding sync (Element X)",
            group_fanout.run,
            metrics=True,
            sliding_sync=True,
        ),
        Scenario(
            "directory-search",
            "directory search as an officer; Synapse's user search on both",
            directory_search.run,
        ),
        Scenario(
            "search",
            "message search (Chinese substrings) as an officer; index lag",
            search.run,
            metrics=True,
        ),
        Scenario(
            "search-cost",
            "dm-latency on ours with the search module vs ours without it (same run): "
            "the indexer's cost on send and delivery; the index lag of every message",
            search_cost.run,
            metrics=True,
            baseline_without=("search",),
        ),
        Scenario(
            "wecom-api",
            "WeCom-compatible open API: tokens, OAuth2, user/get, message/send",
            wecom_api.run,
            on_vanilla=False,
            why_not_vanilla="vanilla Synapse has no WeCom-compatible API (ours only)",
            metrics=True,
        ),
        Scenario(
            "admin-api",
            "scoped admin (mid-level unit) vs super admin: member reads, listings, updates",
            admin_api.run,
            on_vanilla=False,
            why_not_vanilla="vanilla Synapse has no directory or admin groups (ours only)",
            module_config=admin_api.MODULE_CONFIG,
        ),
        Scenario(
            "pubaccount",
            "public account: publish to every subscriber's /sync, article pages, withdraw",
            pubaccount.run,
            on_vanilla=False,
            metrics=True,
            why_not_vanilla="vanilla Synapse has no public accounts (ours only)",
            hand_over=True,
        ),
        Scenario(
            "cross-domain",
            "federation a → b over HTTPS (message latency, cold file download) on both;"
            " the ministry IM bridge's text latency and file rate each way (ours only);"
            " the ≥ 100 KB/s requirement per link",
            None,
            own_servers=cross_domain.run,
        ),
        Scenario(
            "start-memory",
            "resident memory of the launcher and Synapse 20 s after start, idle",
            start_memory.run,
        ),
        Scenario(
            "soak",
            "sustained mixed load for --duration s: errors and memory growth",
            soak.run,
        ),
    )
}
