# SPDX-License-Identifier: AGPL-3.0-or-later
"""Send latency with and without modules.audit, on one server and data directory.

    python -m benchmarks.audit_overhead [sqlite|postgres] [messages per round]

Alternates rounds with the module loaded and removed (conf.d replaces the `modules`
list, then a restart), each round with a fresh DM pair sending sequentially, and prints
mean/p50/p95 per round, the ratio of the means, and how soon after the last send the
archive stopped growing. Numbers, not a gate (DESIGN.md: benchmarks never gate CI).
"""

import statistics
import sys
import time
import uuid
from typing import Any
from urllib.parse import quote

import yaml

from homeserver.http import request_json
from tests.harness.server import TestServer

AUDIT = "modules.audit.AuditModule"


def _pair(server: TestServer, name: str) -> tuple[str, str]:
    _a, a_token = server.register("a" + name)
    b_id, b_token = server.register("b" + name)
    room = request_json(
        "POST",
        server.base_url + "/_matrix/client/v3/createRoom",
        {"preset": "trusted_private_chat", "is_direct": True, "invite": [b_id]},
        token=a_token,
    )["room_id"]
    request_json(
        "POST",
        f"{server.base_url}/_matrix/client/v3/join/{quote(room)}",
        {},
        token=b_token,
    )
    return a_token, room


def _send_round(server: TestServer, token: str, room: str, count: int) -> list[float]:
    latencies = []
    for i in range(count):
        path = f"/_matrix/client/v3/rooms/{quote(room)}/send/m.room.message/{uuid.uuid4().hex}"
        started = time.perf_counter()
        request_json(
            "PUT",
            server.base_url + path,
            {"msgtype": "m.text", "body": f"bench {i} 测试消息内容"},
            token=token,
        )
        latencies.append((time.perf_counter() - started) * 1000)
    return latencies


def _archive_settled(server: TestServer, admin_token: str) -> tuple[int, float]:
    started = time.perf_counter()
    url = server.base_url + "/_jwwx/admin/v1/audit/exporters"
    head = -1
    while True:
        now: Any = request_json("GET", url, token=admin_token)["head_seq"]
        if now == head:
            return head, time.perf_counter() - started - 1.2
        head = now
        time.sleep(1.2)  # longer than the archiver's poll interval (1 s)


def main(engine: str = "sqlite", count: int = 300, rounds: int = 2) -> None:
    server = TestServer(engine)
    server.start()
    try:
        _admin, admin_token = server.register("benchadmin", admin=True)
        rendered = yaml.safe_load((server.data_dir / "homeserver.yaml").read_text())
        without = [m for m in rendered["modules"] if m["module"] != AUDIT]
        override = server.data_dir / "conf.d" / "zz_bench_audit.yaml"
        means: dict[str, list[float]] = {"with": [], "without": []}
        for n in range(rounds):
            for mode in ("with", "without"):
                if mode == "without":
                    override.write_text(yaml.safe_dump({"modules": without}))
                elif override.exists():
                    override.unlink()
                server.restart()
                token, room = _pair(server, f"{mode}{n}")
                lat = sorted(_send_round(server, token, room, count))
                means[mode].append(statistics.mean(lat))
                print(
                    f"round {n} {mode:7} audit: mean {statistics.mean(lat):6.2f} ms"
                    f"  p50 {lat[count // 2]:6.2f}  p95 {lat[int(count * 0.95)]:6.2f}",
                    flush=True,
                )
                if mode == "with":
                    head, seconds = _archive_settled(server, admin_token)
                    print(f"  archive settled at seq {head} within {seconds:.2f} s")
        with_audit = statistics.mean(means["with"])
        without_audit = statistics.mean(means["without"])
        print(
            f"{engine}: mean send latency with/without audit "
            f"{with_audit:.2f}/{without_audit:.2f} ms, ratio {with_audit / without_audit:.3f}"
        )
    finally:
        server.stop()


if __name__ == "__main__":
    main(
        sys.argv[1] if len(sys.argv) > 1 else "sqlite",
        int(sys.argv[2]) if len(sys.argv) > 2 else 300,
    )
