# SPDX-License-Identifier: AGPL-3.0-or-later
"""File throughput through the ministry IM bridge (issue 22: ≥ 100 KB/s across the
cross-network component), on this machine: one homeserver of ours with the bridge
started by the launcher, the reference peer (tests/bridges/ministry_im/peer.py, the
ministry's side) in a thread.

    python -m benchmarks.ministry_im [--file-mib 2] [--files 3] [--engine sqlite]
        [--bridge-log]

- ministry → Matrix: the peer sends a file (SM4-sealed, signed 256 KiB chunks, then the
  message); the clock stops when the officer's /sync shows the m.file event (the bridge
  has spooled, uploaded and posted it).
- Matrix → ministry: the officer posts an m.file of an already uploaded file; the clock
  stops when the peer holds the whole file and its message (the bridge downloaded,
  chunked, sealed and sent it).
Bytes / seconds per file; the load average is printed with the numbers."""

import argparse
import json
import os
import time
import urllib.error
import urllib.request
from typing import Any

from benchmarks.servers import load_average
from tests.bridges.ministry_im import setup
from tests.harness.server import TestServer, free_port

KIB = 1024


class Http:
    def __init__(self, base: str, token: str) -> None:
        self.base, self.token = base, token

    def call(
        self, method: str, path: str, body: Any = None, raw: bytes | None = None
    ) -> Any:
        data = (
            raw
            if raw is not None
            else (None if body is None else json.dumps(body).encode())
        )
        request = urllib.request.Request(  # noqa: S310 - loopback
            self.base + path,
            data,
            {
                "Authorization": f"Bearer {self.token}",
                "Content-Type": "application/json",
            },
            method=method,
        )
        with urllib.request.urlopen(request, timeout=120) as answer:  # noqa: S310
            return json.loads(answer.read() or b"{}")


def _sync_until(officer: Http, since: str | None, body: str) -> tuple[str, str]:
    """(next_batch, room_id) once an event with `body` arrives (joining invites)."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        path = "/_matrix/client/v3/sync?timeout=5000" + (
            f"&since={since}" if since else ""
        )
        result = officer.call("GET", path)
        since = result["next_batch"]
        for room_id in result.get("rooms", {}).get("invite", {}):
            officer.call("POST", f"/_matrix/client/v3/join/{room_id}", {})
        for room_id, room in result.get("rooms", {}).get("join", {}).items():
            for event in room.get("timeline", {}).get("events", []):
                if event.get("content", {}).get("body") == body:
                    return str(since), room_id
    raise TimeoutError(body)


def run(file_mib: float, files: int, engine: str, bridge_log: bool = False) -> None:
    port = free_port()
    peer = setup.start_peer(port)
    server = TestServer(
        engine,
        module_config=setup.MODULE_CONFIG,
        configure=lambda s: setup.configure(s, port, peer),
    )
    try:
        server.start()
        setup.bridge_pid(server.data_dir, port)
        boss = Http(server.base_url, server.register("benchboss", admin=True)[1])
        officer_id, token = server.register("benchmj")
        officer = Http(server.base_url, token)
        unit = boss.call(
            "POST",
            "/_jwwx/admin/v1/directory/departments",
            {"name": "部级联络", "parent_id": None},
        )["id"]
        boss.call(
            "POST",
            "/_jwwx/admin/v1/directory/members",
            {"userid": "benchmj", "name": "警员", "department": [unit]},
        )
        boss.call(
            "PUT",
            f"/_jwwx/admin/v1/crossdomain/peers/{setup.DOMAIN}",
            {"units": [unit], "directory": {"departments": [unit]}, "apps": []},
        )
        conv = "direct/zhangsan/benchmj"
        size = int(file_mib * KIB * KIB)
        since, room_id = None, ""
        inbound, outbound = [], []
        for n in range(files):
            data = os.urandom(size)
            name = f"in-{n}.bin"
            started = time.monotonic()
            file_id, item = peer.file_item(conv, "zhangsan", data, "file", name)
            for chunk in peer.chunks(file_id, data):
                peer.send_until("file_chunk", chunk)
            peer.send_until("message", item)
            since, room_id = _sync_until(officer, since, name)
            inbound.append(size / (time.monotonic() - started))
        for n in range(files):
            data = os.urandom(size)
            mxc = officer.call(
                "POST", f"/_matrix/media/v3/upload?filename=out-{n}.bin", raw=data
            )["content_uri"]
            started = time.monotonic()
            officer.call(
                "PUT",
                f"/_matrix/client/v3/rooms/{room_id}/send/m.room.message/b{n}{os.urandom(3).hex()}",
                {"msgtype": "m.file", "body": f"out-{n}.bin", "url": mxc},
            )
            peer.wait(
                lambda s, n=n: any(
                    m.get("name") == f"out-{n}.bin" for m in s.messages.get(conv, [])
                ),
                300,
            )
            outbound.append(size / (time.monotonic() - started))
        load = load_average()
        print(f"ministry bridge, {engine}, {files} files × {file_mib} MiB each way")
        for label, rates in (
            ("ministry → Matrix", inbound),
            ("Matrix → ministry", outbound),
        ):
            kbs = ", ".join(f"{r / KIB:.0f}" for r in rates)
            print(f"  {label}: {kbs} KB/s (requirement ≥ 100 KB/s)")
        print(f"  load average: {load}")
        del officer_id
    finally:
        if bridge_log:
            log = (server.data_dir / "server.log").read_text(errors="replace")
            print(
                "\n".join(
                    x for x in log.splitlines() if " INFO " in x and "synapse" not in x
                )
            )
        server.stop()
        peer.stop()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.ministry_im")
    parser.add_argument("--file-mib", type=float, default=2.0)
    parser.add_argument("--files", type=int, default=3)
    parser.add_argument("--engine", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument(
        "--bridge-log", action="store_true", help="print the bridge's log lines"
    )
    args = parser.parse_args()
    run(args.file_mib, args.files, args.engine, args.bridge_log)


if __name__ == "__main__":
    main()
