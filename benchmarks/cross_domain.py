# SPDX-License-Identifier: AGPL-3.0-or-later
"""Cross-domain IM over federation (issue 22 item 3): two police domains on this
machine, federating over HTTPS (tests/harness/federation.py), vanilla Synapse and ours
in the same run.

    python -m benchmarks.cross_domain [--messages 40] [--file-mib 4] [--files 3]
        [--engine sqlite|postgres]

- message latency: an officer of domain a sends a text; the clock stops when the
  officer of domain b's /sync (long-poll, already waiting) returns it. One at a time.
- file transfer: an officer of b uploads a random file; the officer of a downloads it
  through a (a fetches it from b over federation, cold): bytes / seconds of the
  download. The requirement is ≥ 100 KB/s across the cross-network component.
Vanilla: the same launcher-rendered config without our modules and without our media
storage provider (SM4 at rest); ours also stores a "*" policy for the peer on each side.
Numbers are of one loaded machine: the load average is printed with them.
"""

import argparse
import http.client
import os
import secrets
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import yaml

from benchmarks.client import Client, HttpError
from benchmarks.servers import load_average
from benchmarks.stats import Summary
from tests.harness.federation import DomainServer, start_domains
from tests.harness.server import TestServer

ADMIN = "/_jwwx/admin/v1/crossdomain/peers"


class VanillaDomain(DomainServer):
    """The same rendered config without our modules and media storage provider."""

    def __init__(self, engine: str, label: str, tls_port: int, **kw: Any) -> None:
        super().__init__(engine, label, tls_port, configure=self._vanilla, **kw)

    @staticmethod
    def _vanilla(server: TestServer) -> None:
        (server.data_dir / "conf.d" / "zz-benchmark-vanilla.yaml").write_text(
            yaml.safe_dump({"modules": [], "media_storage_providers": []}),
            encoding="utf-8",
        )

    def wait_healthy(self, timeout: float = 90.0) -> None:
        # No modules, so no module health: the Matrix API answering is enough.
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                raise RuntimeError(f"server exited:\n{self.log_tail()}")
            try:
                Client(self.base_url, timeout=5).ok("GET", "/_matrix/client/versions")
                return
            except (OSError, HttpError):
                time.sleep(0.2)
        raise RuntimeError(f"vanilla not up after {timeout}s:\n{self.log_tail()}")


def _room(a: Client, b: Client, b_user: str) -> str:
    room_id = str(
        a.ok(
            "POST",
            "/_matrix/client/v3/createRoom",
            {"preset": "private_chat", "invite": [b_user]},
        )["room_id"]
    )
    deadline = time.monotonic() + 120
    while True:
        status, body = b.request(
            "POST", f"/_matrix/client/v3/join/{quote(room_id)}", {}
        )
        if status == 200:
            return room_id
        if time.monotonic() > deadline:
            raise RuntimeError(f"join: {status} {body}")
        time.sleep(0.2)


def _wait_for(
    url: str, token: str, room_id: str, since: str, want: str, found: dict[str, Any]
) -> None:
    """Long-poll /sync until the message `want` arrives; found: at, next."""
    poll = Client(url, token, timeout=90)
    try:
        while True:
            page = poll.ok(
                "GET", f"/_matrix/client/v3/sync?timeout=30000&since={quote(since)}"
            )
            since = page["next_batch"]
            room = page.get("rooms", {}).get("join", {}).get(room_id, {})
            for event in room.get("timeline", {}).get("events", []):
                if event.get("content", {}).get("body") == want:
                    found["at"] = time.perf_counter()
                    found["next"] = since
                    return
    finally:
        poll.close()


def _latencies(a: Client, b: Client, room_id: str, count: int) -> list[float]:
    since = b.ok("GET", "/_matrix/client/v3/sync?timeout=0")["next_batch"]
    out: list[float] = []
    for i in range(count):
        text = f"跨域时延 {i} {secrets.token_hex(4)}"
        found: dict[str, Any] = {}
        waiter = threading.Thread(
            target=_wait_for,
            args=(b_url(b), b.token, room_id, since, text, found),
            daemon=True,
        )
        waiter.start()
        time.sleep(0.3)  # the long-poll is waiting before the send
        started = time.perf_counter()
        a.ok(
            "PUT",
            f"/_matrix/client/v3/rooms/{quote(room_id)}/send/m.room.message/"
            f"t{i}{secrets.token_hex(4)}",
            {"msgtype": "m.text", "body": text},
        )
        waiter.join(120)
        if "at" not in found:
            raise RuntimeError(f"message {i} not delivered in 120 s")
        out.append(found["at"] - started)
        since = found["next"]
    return out


def b_url(client: Client) -> str:
    return f"http://127.0.0.1:{client.port}"


def _transfers(
    a: Client, b: Client, b_name: str, size: int, files: int
) -> list[tuple[int, float]]:
    out = []
    for _ in range(files):
        data = os.urandom(size)
        uploaded = b.ok(
            "POST",
            "/_matrix/media/v3/upload?filename=bench.bin",
            raw=data,
            timeout=300,
        )
        media_id = str(uploaded["content_uri"]).rsplit("/", 1)[1]
        started = time.perf_counter()
        conn = http.client.HTTPConnection("127.0.0.1", a.port, timeout=600)
        conn.request(
            "GET",
            f"/_matrix/client/v1/media/download/{b_name}/{media_id}",
            headers={"Authorization": f"Bearer {a.token}"},
        )
        response = conn.getresponse()
        content = response.read()
        seconds = time.perf_counter() - started
        conn.close()
        if response.status != 200 or content != data:
            raise RuntimeError(f"download: {response.status} {content[:200]!r}")
        length = len(content)
        out.append((length, seconds))
    return out


def run_side(
    kind: str, engine: str, messages: int, size: int, files: int
) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix=f"jwwx-xd-{kind}-"))
    server_class = VanillaDomain if kind == "vanilla" else DomainServer
    servers = start_domains(engine, {"a": ("b",), "b": ("a",)}, folder, server_class)
    try:
        a_server, b_server = servers["a"], servers["b"]
        a_user, a_token = a_server.register("xa", admin=(kind == "ours"))
        b_user, b_token = b_server.register("xb", admin=(kind == "ours"))
        a = Client(a_server.base_url, a_token, timeout=120)
        b = Client(b_server.base_url, b_token, timeout=120)
        if kind == "ours":
            a.ok("PUT", f"{ADMIN}/{b_server.server_name}", {"units": "*"})
            b.ok("PUT", f"{ADMIN}/{a_server.server_name}", {"units": "*"})
        room_id = _room(a, b, b_user)
        latencies = _latencies(a, b, room_id, messages)
        transfers = _transfers(a, b, b_server.server_name, size, files)
        return {"latencies": latencies, "transfers": transfers}
    finally:
        for server in servers.values():
            server.stop()
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.cross_domain")
    parser.add_argument("--messages", type=int, default=40)
    parser.add_argument("--file-mib", type=float, default=4.0)
    parser.add_argument("--files", type=int, default=3)
    parser.add_argument("--engine", choices=("sqlite", "postgres"), default="sqlite")
    args = parser.parse_args()
    size = int(args.file_mib * 1024 * 1024)
    print(
        f"cross-domain over federation (HTTPS, loopback), {args.engine}; load "
        f"{load_average()}"
    )
    results = {}
    for kind in ("vanilla", "ours"):
        results[kind] = run_side(kind, args.engine, args.messages, size, args.files)
        lat = Summary.of(results[kind]["latencies"], None)
        rates = [n / s / 1024 for n, s in results[kind]["transfers"]]
        print(
            f"{kind:8} message a→b: n={len(results[kind]['latencies'])} "
            f"p50 {lat.p50:.0f} ms p95 {lat.p95:.0f} ms "
            f"max {lat.max:.0f} ms | file b→a ({args.file_mib:g} MiB, cold): "
            + ", ".join(f"{r:.0f}" for r in rates)
            + " KB/s"
        )
    v = Summary.of(results["vanilla"]["latencies"], None)
    o = Summary.of(results["ours"]["latencies"], None)
    print(
        f"ratio ours/vanilla: p50 {o.p50 / v.p50:.2f}, p95 {o.p95 / v.p95:.2f}; "
        f"load now {load_average()}"
    )


if __name__ == "__main__":
    main()
