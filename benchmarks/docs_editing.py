# SPDX-License-Identifier: AGPL-3.0-or-later
"""Collaborative documents (modules.docs, issue 25): update propagation between editors
of one document, and opening a document with a long history.

    .venv/bin/python -m benchmarks.docs_editing [--editors 10] [--rounds 20]
        [--history 2000] [--engine sqlite|postgres]

One server of ours (vanilla Synapse has no documents). `--editors` pycrdt clients (the
Yjs protocol's Python reference client, one asyncio loop) open one document; in each
round every editor types once, and the time from the keystroke to the moment every
other editor's copy holds it is one sample (propagation, client overhead included).
Then one editor types `--history` updates one by one (each a revision; snapshots every
200) and a fresh editor's open-to-synced time is taken, then again after a restart
(rooms are rebuilt from the database: last snapshot + tail). Prints one table; nothing
asserts a timing. Load on the machine matters: say `uptime` with the numbers.
"""

import argparse
import asyncio
import os
import statistics
import time
from collections.abc import Callable
from contextlib import AsyncExitStack

from homeserver.http import request_json
from tests.harness.server import TestServer
from tests.modules.docs import yjs


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


def _everywhere(mark: str, editors: list[yjs.Editor]) -> Callable[[], bool]:
    return lambda: all(mark in str(e) for e in editors)


async def _propagation(url: str, tokens: list[str], rounds: int) -> list[float]:
    samples: list[float] = []
    async with AsyncExitStack() as stack:
        editors = [await yjs.open_editor(stack, url, t) for t in tokens]
        for r in range(rounds):
            for i, editor in enumerate(editors):
                mark = f"<{r}.{i}>"
                start = time.perf_counter()
                editor.text += mark
                others = [e for e in editors if e is not editor]
                await yjs.until(_everywhere(mark, others), mark, interval=0.001)
                samples.append(time.perf_counter() - start)
    return samples


async def _type(url: str, token: str, count: int) -> None:
    async with AsyncExitStack() as stack:
        editor = await yjs.open_editor(stack, url, token)
        for i in range(count):
            editor.text += f"{i % 10}"
            await asyncio.sleep(0)
        await asyncio.sleep(2.0)  # the last updates reach the server before closing


async def _open_time(url: str, token: str) -> float:
    start = time.perf_counter()
    async with AsyncExitStack() as stack:
        await yjs.open_editor(stack, url, token)
        return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.docs_editing")
    parser.add_argument("--editors", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--history", type=int, default=2000)
    parser.add_argument("--engine", choices=("sqlite", "postgres"), default="sqlite")
    args = parser.parse_args()
    server = TestServer(
        args.engine, configure=lambda s: yjs.configure_docs(s, snapshot_every=200)
    )
    server.start()
    try:
        users = [server.register(f"editor{i}") for i in range(args.editors)]
        tokens = [token for _, token in users]
        docs = server.base_url + "/_jwwx/client/v1/docs"
        doc = request_json("POST", docs, {"kind": "text"}, token=tokens[0])
        grants = [{"kind": "user", "id": u, "role": "editor"} for u, _ in users[1:]]
        request_json(
            "PUT",
            f"{docs}/{doc['doc_id']}/sharing",
            {"grants": grants},
            token=tokens[0],
        )
        url = doc["websocket_url"]
        samples = yjs.run(lambda: _propagation(url, tokens, args.rounds))
        yjs.run(lambda: _type(url, tokens[0], args.history))
        warm = yjs.run(lambda: _open_time(url, tokens[1]))
        server.restart()
        cold = yjs.run(lambda: _open_time(url, tokens[1]))
    finally:
        server.stop()
    load = os.getloadavg()[0]
    print(f"docs_editing on {args.engine}, load average {load:.2f} (1 min)")
    print(f"{'metric':<46}{'n':>6}{'p50 ms':>10}{'p99 ms':>10}")
    others = args.editors - 1
    print(
        f"{f'propagation to the {others} other editors':<46}{len(samples):>6}"
        f"{statistics.median(samples) * 1000:>10.1f}"
        f"{_percentile(samples, 0.99) * 1000:>10.1f}"
    )
    print(
        f"{f'open, {args.history} updates, room in memory':<46}{1:>6}{warm * 1000:>10.1f}"
    )
    print(f"{'open after a restart (snapshot + tail)':<46}{1:>6}{cold * 1000:>10.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
