# SPDX-License-Identifier: AGPL-3.0-or-later
"""Read-receipt details (群消息已读未读) in a 500-member group: ours only (vanilla
Synapse has no such API), so a standalone benchmark like audit_overhead.py, not a
`run` scenario. Numbers, not a gate (docs/groups.md quotes them).

    python -m benchmarks.group_receipts [members=500] [engine=sqlite] [readers=200] \
        [calls=200]

A real server; the members are registered through Synapse's admin registration API,
join, `readers` of them send a read receipt, then GET .../receipts/{event} is timed.
"""

import json
import statistics
import sys
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import quote

from tests.harness.server import TestServer


def call(base: str, token: str, method: str, path: str, body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        base + path,
        data=data,
        method=method,
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
        },
    )
    with urllib.request.urlopen(request, timeout=120) as response:
        return json.loads(response.read() or b"{}")


def main() -> None:
    members = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    engine = sys.argv[2] if len(sys.argv) > 2 else "sqlite"
    reader_count = int(sys.argv[3]) if len(sys.argv) > 3 else 200
    calls = int(sys.argv[4]) if len(sys.argv) > 4 else 200
    server = TestServer(engine)
    server.start()
    try:
        base = server.base_url
        t0 = time.monotonic()
        with ThreadPoolExecutor(8) as pool:
            users = list(pool.map(lambda i: server.register(f"m{i}"), range(members)))
        owner_id, owner = users[0]
        room = call(
            base,
            owner,
            "POST",
            "/_jwwx/client/v1/groups",
            {"name": "大群", "invite": [u for u, _ in users[1:]]},
        )["room_id"]
        r = quote(room, safe="")
        with ThreadPoolExecutor(8) as pool:
            list(
                pool.map(
                    lambda u: call(
                        base, u[1], "POST", f"/_matrix/client/v3/join/{r}", {}
                    ),
                    users[1:],
                )
            )
        setup = time.monotonic() - t0
        sent = call(
            base,
            owner,
            "PUT",
            f"/_matrix/client/v3/rooms/{r}/send/m.room.message/{uuid.uuid4().hex}",
            {"msgtype": "m.text", "body": "请确认"},
        )
        event = quote(sent["event_id"], safe="")
        readers = users[1 : 1 + reader_count]
        with ThreadPoolExecutor(8) as pool:
            list(
                pool.map(
                    lambda u: call(
                        base,
                        u[1],
                        "POST",
                        f"/_matrix/client/v3/rooms/{r}/receipt/m.read/{event}",
                        {},
                    ),
                    readers,
                )
            )
        timings = []
        for _ in range(calls):
            start = time.monotonic()
            details = call(
                base, owner, "GET", f"/_jwwx/client/v1/groups/{r}/receipts/{event}"
            )
            timings.append((time.monotonic() - start) * 1000)
        cuts = statistics.quantiles(timings, n=100, method="inclusive")
        print(
            f"{engine}: {members} members (setup {setup:.0f}s);"
            f" read={details['read_count']} unread={details['unread_count']};"
            f" receipt details over {calls} calls: p50 {cuts[49]:.1f} ms,"
            f" p99 {cuts[98]:.1f} ms, max {max(timings):.1f} ms"
        )
    finally:
        server.stop()


if __name__ == "__main__":
    main()
