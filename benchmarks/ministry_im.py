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
from tests.bridges.ministry_im.peer import ReferencePeer
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


def _texts(
    officer: Http,
    peer: ReferencePeer,
    conv: str,
    room_id: str,
    since: str,
    count: int,
) -> tuple[list[float], list[float], str]:
    """Text latencies (s) ministry → Matrix (the peer sends; the officer's /sync shows
    it) and Matrix → ministry (the officer sends; the peer holds it), one at a time."""
    inbound, outbound = [], []
    for n in range(count):
        text = f"部里时延 {n} {os.urandom(3).hex()}"
        started = time.monotonic()
        peer.send_until("message", peer.item(conv, "zhangsan", type="text", text=text))
        since, _ = _sync_until(officer, since, text)
        inbound.append(time.monotonic() - started)
    for n in range(count):
        text = f"回部里 {n} {os.urandom(3).hex()}"
        started = time.monotonic()
        officer.call(
            "PUT",
            f"/_matrix/client/v3/rooms/{room_id}/send/m.room.message/t{n}{os.urandom(3).hex()}",
            {"msgtype": "m.text", "body": text},
        )
        peer.wait(
            lambda s, text=text: any(
                m.get("text") == text for m in s.messages.get(conv, [])
            ),
            120,
        )
        outbound.append(time.monotonic() - started)
    return inbound, outbound, since


def measure(
    engine: str,
    file_mib: float,
    files: int,
    messages: int = 0,
    bridge_log: bool = False,
) -> dict[str, list[float]]:
    """One homeserver of ours with the bridge and the reference peer: file rates
    (bytes/s) each way, and with `messages` text latencies (s) each way (after the
    first file, which made the portal room)."""
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
        _, token = server.register("benchmj")
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
        text_in: list[float] = []
        text_out: list[float] = []
        if messages > 0 and since is not None:
            text_in, text_out, since = _texts(
                officer, peer, conv, room_id, since, messages
            )
        return {
            "file_in": inbound,
            "file_out": outbound,
            "text_in": text_in,
            "text_out": text_out,
        }
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


def run(
    file_mib: float,
    files: int,
    engine: str,
    bridge_log: bool = False,
    messages: int = 0,
) -> None:
    found = measure(engine, file_mib, files, messages, bridge_log)
    load = load_average()
    print(f"ministry bridge, {engine}, {files} files × {file_mib} MiB each way")
    for label, rates in (
        ("ministry → Matrix", found["file_in"]),
        ("Matrix → ministry", found["file_out"]),
    ):
        kbs = ", ".join(f"{r / KIB:.0f}" for r in rates)
        print(f"  {label}: {kbs} KB/s (requirement ≥ 100 KB/s)")
    for label, key in (
        ("ministry → Matrix", "text_in"),
        ("Matrix → ministry", "text_out"),
    ):
        if found[key]:
            ms = sorted(1000 * x for x in found[key])
            print(f"  text {label}: p50 {ms[len(ms) // 2]:.0f} ms, max {ms[-1]:.0f} ms")
    print(f"  load average: {load}")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.ministry_im")
    parser.add_argument("--file-mib", type=float, default=2.0)
    parser.add_argument("--files", type=int, default=3)
    parser.add_argument("--engine", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument(
        "--bridge-log", action="store_true", help="print the bridge's log lines"
    )
    parser.add_argument(
        "--messages", type=int, default=0, help="also N texts each way (latency)"
    )
    args = parser.parse_args()
    run(args.file_mib, args.files, args.engine, args.bridge_log, args.messages)


if __name__ == "__main__":
    main()
