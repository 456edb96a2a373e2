# SPDX-License-Identifier: AGPL-3.0-or-later
"""The officer's web client (clients/web, issue 23) in a real headless Chromium: how fast
it opens with many chats, and what a very long chat costs in the browser.

    .venv/bin/python -m benchmarks.web_client [--chats 500] [--messages 10000]
        [--engine sqlite|postgres] [--repeat 3] [--sync sliding|v2] [--waterfall]

One server (ours: vanilla Synapse does not serve the client), one officer in `--chats`
chats (each with `--chat-messages` messages, default 1) and one chat of `--messages` messages. In the browser,
with the session already signed in (sessionStorage, as after a login), each load a fresh
page (the HTTP cache warm after the first, as an officer's second visit):
- first contentful paint (the browser's paint timing);
- the chat list: every chat listed, and the page answering (a frame after that), from
  navigation start ("time to interactive" here: the officer can click a chat), split
  into: when the first /sync was asked (the bundle run, the accounts status, the SDK's
  /versions, /pushrules and filter before it), how long the server took to answer it,
  when it was received, and the client's work after it;
- `--sync`: the client's sync, simplified sliding sync (the default: what the client uses
  when the server offers it; "listed" is then the list holding every chat the server
  counts with the first screen drawn, the rest loaded as it is scrolled) or /sync v2 (the
  client told so for the tab, as on a server without sliding sync); under sliding sync
  also the unread endpoint's first answer (the badges);
- the server's CPU seconds during the load (from /proc, the homeserver's processes);
- `--unread N`: a colleague leaves a message in N of the chats (N unread badges: the
  unread endpoint's answer and cost grow with them);
- JS heap after a forced GC and the DOM's node count (the chat list is windowed: about
  a screenful of rows is in the DOM however many chats).
From the second load of one session the first /sync is answered from Synapse's /sync
response cache (2 minutes, per device and filter): those loads show the client's own
time; a last load in a new session (a new login) shows the server's work again with its
database caches warm. `--waterfall` prints every request of each load.
Then the long chat is opened and scrolled to the top page by page until every message is
loaded (or `--scroll-seconds` pass): heap, DOM nodes and rendered messages (the
timeline keeps a bounded window, src/rules.js WINDOW). Last, over HTTP: the first /sync
with the client's filter and with the one it used before, the first sliding sync request
as the client asks it, and the unread endpoint (time, bytes, server CPU). Prints one
table; nothing asserts a timing. Load on the machine matters: say `uptime` with the
numbers.
"""

import argparse
import json
import os
import statistics
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import quote

from benchmarks.client import Client
from benchmarks.servers import BenchServer, server_cpu_seconds
from tests.harness.browser import browser_page, chromium_path

WEB = "/_jwwx/web/"
SESSION_KEY = "jwwx.web.session"
SYNC_KEY = "jwwx.web.sync"  # clients/web/src/sliding.js: the sync the tab uses
SLIDING_PATH = "/_matrix/client/unstable/org.matrix.simplified_msc3575/sync"
UNREAD_PATH = "/_jwwx/client/v1/messages/unread"
FIRST = ".timeline .message:has-text('第00000条')"


def _send(client: Client, room_id: str, body: str, txn: str) -> None:
    path = f"/_matrix/client/v3/rooms/{quote(room_id)}/send/m.room.message/{txn}"
    while True:
        status, answer = client.request(
            "PUT", path, {"msgtype": "m.text", "body": body}
        )
        if status == 200:
            return
        if status == 429:
            time.sleep(answer.get("retry_after_ms", 200) / 1000)
            continue
        raise RuntimeError(f"send {status}: {answer}")


def _create(client: Client, name: str) -> str:
    while True:
        status, answer = client.request(
            "POST",
            "/_matrix/client/v3/createRoom",
            {"name": name, "preset": "private_chat"},
        )
        if status == 200:
            return str(answer["room_id"])
        if status == 429:
            time.sleep(answer.get("retry_after_ms", 200) / 1000)
            continue
        raise RuntimeError(f"createRoom {status}: {answer}")


def _populate(
    server: BenchServer, token: str, chats: int, messages: int, per_chat: int = 1
) -> tuple[str, list[str]]:
    """`chats` chats with `per_chat` messages each, then the long chat: (its id, the
    chats' ids)."""
    local = threading.local()

    def client() -> Client:
        if not hasattr(local, "client"):
            local.client = Client(server.base_url, token, timeout=300)
        return local.client

    def one_chat(i: int) -> str:
        room_id = _create(client(), f"案件协查{i:04d}")
        for n in range(per_chat):
            _send(client(), room_id, f"第{i}号协查通报第{n}条，请注意查收", f"c{i}-{n}")
        return room_id

    t0 = time.perf_counter()
    with ThreadPoolExecutor(4) as pool:
        rooms = list(pool.map(one_chat, range(chats)))
    print(f"set-up: {chats} chats in {time.perf_counter() - t0:.0f} s", flush=True)
    long_chat = _create(Client(server.base_url, token, timeout=300), "万条消息")
    t0 = time.perf_counter()

    def one_message(i: int) -> None:
        _send(
            client(), long_chat, f"第{i:05d}条：现场情况通报，请各组注意核实。", f"m{i}"
        )

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(one_message, range(messages)))
    print(
        f"set-up: {messages} messages in {time.perf_counter() - t0:.0f} s", flush=True
    )
    return long_chat, rooms


def _unread(server: BenchServer, token: str, rooms: list[str]) -> None:
    """A colleague joins `rooms` and sends one message in each: the officer has that
    many unread chats (the unread endpoint's answer grows with them)."""
    if not rooms:
        return
    colleague, colleague_token = server.register(f"colleague{os.urandom(3).hex()}")
    local = threading.local()

    def clients() -> tuple[Client, Client]:
        if not hasattr(local, "pair"):
            local.pair = (
                Client(server.base_url, token, timeout=300),
                Client(server.base_url, colleague_token, timeout=300),
            )
        return local.pair

    def one(numbered: tuple[int, str]) -> None:
        n, room_id = numbered
        officer, other = clients()
        officer.ok(
            "POST",
            f"/_matrix/client/v3/rooms/{quote(room_id)}/invite",
            {"user_id": colleague},
        )
        other.ok("POST", f"/_matrix/client/v3/join/{quote(room_id)}", {})
        _send(other, room_id, "请尽快查看协查通报", f"u{n}")

    t0 = time.perf_counter()
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(one, enumerate(rooms)))
    print(
        f"set-up: {len(rooms)} chats with an unread message in"
        f" {time.perf_counter() - t0:.0f} s",
        flush=True,
    )


def _login(server: BenchServer, localpart: str) -> dict[str, str]:
    """A new session of the officer, as the page keeps it."""
    login = Client(server.base_url).ok(
        "POST",
        "/_matrix/client/v3/login",
        {
            "type": "m.login.password",
            "identifier": {"type": "m.id.user", "user": localpart},
            "password": "pw-" + localpart,
        },
    )
    return {
        "token": login["access_token"],
        "userId": login["user_id"],
        "deviceId": login["device_id"],
    }


def _heap(page: Any) -> tuple[float, int]:
    """(JS heap used in MB after a GC, DOM nodes) through the DevTools protocol."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("HeapProfiler.collectGarbage")
    used = cdp.send("Runtime.getHeapUsage")["usedSize"] / 1e6
    nodes = cdp.send("Memory.getDOMCounters")["nodes"]
    cdp.detach()
    return used, int(nodes)


def _load(
    page: Any,
    server: BenchServer,
    session: dict[str, str],
    chats: int,
    sync: str,
    waterfall: bool = False,
) -> dict[str, float]:
    # Every document of the page runs it; about:blank has no sessionStorage. The later
    # init script wins (a new session's).
    page.add_init_script(
        "try { sessionStorage.setItem("
        f"{json.dumps(SESSION_KEY)}, {json.dumps(json.dumps(session))});"
        f" sessionStorage.setItem({json.dumps(SYNC_KEY)}, {json.dumps(sync)}); }}"
        " catch {}"
    )
    cpu = server_cpu_seconds(server)
    page.goto(server.base_url + WEB)
    # Every chat listed (the long chat too: the list's count; its rows are windowed, so
    # only a screenful is drawn), then one more frame: the page answers.
    listed = page.wait_for_function(
        """(n) => Number(document.querySelector('.chat-list')?.dataset.count) >= n
             && document.querySelector('.chat-row')
             && new Promise((r) => requestAnimationFrame(() => r(performance.now())))""",
        arg=chats + 1,
        timeout=600_000,
        polling=50,
    ).json_value()
    cpu = server_cpu_seconds(server) - cpu
    fcp = page.evaluate(
        "() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? -1"
    )
    # Where the time went: the first /sync (initial: no `since`) as the browser timed
    # it — asked at, answered (the server's work: its first byte), received.
    # Under sliding sync the first request without `pos` (not the client's probe of
    # the endpoint, asked with timeout=0 once per tab).
    sync_times = page.evaluate(
        """(sliding) => {
          const e = performance.getEntriesByType('resource').find((r) => (sliding
            ? r.name.includes('simplified_msc3575/sync') && !r.name.includes('pos=')
              && !r.name.includes('timeout=0')
            : r.name.includes('/_matrix/client/v3/sync') && !r.name.includes('since=')));
          const u = performance.getEntriesByType('resource').find(
            (r) => r.name.includes('/_jwwx/client/v1/messages/unread'));
          return [...(e ? [e.startTime, e.responseStart, e.responseEnd] : [-1, -1, -1]),
                  ...(u ? [u.startTime, u.responseStart, u.responseEnd] : [-1, -1, -1])];
        }""",
        sync == "sliding",
    )
    sync = sync_times[:3]
    unread = sync_times[3:]
    if waterfall:
        # Every request of the load, in the order asked: what comes before the /sync.
        for name, start, end in page.evaluate(
            """() => performance.getEntriesByType('resource').map(
                 (r) => [r.name.replace(location.origin, ''), r.startTime, r.responseEnd])"""
        ):
            print(f"  {start:8.0f} {end:8.0f} ms  {name[:100]}")
    heap, nodes = _heap(page)
    return {
        "fcp": fcp,
        "interactive": float(listed),
        "sync_start": sync[0],
        "sync_server": sync[1] - sync[0],
        "sync_end": sync[2],
        "after_sync": float(listed) - sync[2],
        "unread_end": unread[2],
        "unread_server": unread[1] - unread[0] if unread[0] >= 0 else -1.0,
        "cpu": cpu,
        "heap": heap,
        "nodes": nodes,
    }


def _long_chat(
    page: Any, room_id: str, messages: int, seconds: float
) -> dict[str, float]:
    # The list is windowed: scrolled a screen at a time until its row is drawn.
    row = f".chat-row[data-room-id='{room_id}']"
    for _ in range(1000):
        if page.locator(row).count():
            break
        page.eval_on_selector(
            ".list-pane.chats", "el => { el.scrollTop += el.clientHeight; }"
        )
        page.wait_for_timeout(50)
    page.click(row)
    page.wait_for_selector(".timeline .message")
    t0 = time.perf_counter()
    oldest = ""
    while time.perf_counter() - t0 < seconds:
        # Scrolled to the top: the window slides older, then the server's next page.
        page.evaluate(
            "() => { const t = document.querySelector('.timeline');"
            " t.scrollTop = 5; t.scrollTop = 0; }"
        )
        page.wait_for_timeout(150)
        # Sent four at a time: the first message is among the oldest few, not
        # necessarily the oldest.
        if page.locator(FIRST).count():
            break
        first = page.inner_text(".timeline .message .text >> nth=0")
        if first == oldest:
            page.wait_for_timeout(350)
        oldest = first
    loaded = time.perf_counter() - t0
    heap, nodes = _heap(page)
    return {
        "seconds to the first message": loaded,
        "reached the first (1 = yes)": float(page.locator(FIRST).count() > 0),
        "heap MB": heap,
        "DOM nodes": float(nodes),
        "messages rendered": float(page.locator(".timeline .message").count()),
    }


# The first /sync as the client asks it (clients/web/src/rules.js FIRST_SYNC: 4 events a
# chat, no presence) and as it asked before (10 events, presence): time and size.
FIRST_SYNCS = {
    "4 events, no presence (now)": {
        "room": {"timeline": {"limit": 4}, "state": {"lazy_load_members": True}},
        "presence": {"not_types": ["*"]},
    },
    "10 events, presence (before)": {
        "room": {"timeline": {"limit": 10}, "state": {"lazy_load_members": True}},
    },
}


def _first_sync(base_url: str, token: str, repeat: int) -> dict[str, tuple[float, int]]:
    """{filter: (median ms, bytes)} of an initial /sync (no since), warm database
    caches. Each repeat's filter also leaves out an account data type nobody has, so
    Synapse's /sync response cache (which answers the same filter again for 2 minutes)
    does not answer it."""
    out: dict[str, tuple[float, int]] = {}
    for label, definition in FIRST_SYNCS.items():
        times: list[float] = []
        size = 0
        for n in range(repeat):
            distinct = {**definition, "account_data": {"not_types": [f"cn.jwwx.b{n}"]}}
            query = quote(json.dumps(distinct, separators=(",", ":")))
            request = urllib.request.Request(
                f"{base_url}/_matrix/client/v3/sync?timeout=0&filter={query}",
                headers={"Authorization": f"Bearer {token}"},
            )
            t0 = time.perf_counter()
            with urllib.request.urlopen(request, timeout=600) as response:
                size = len(response.read())
            times.append((time.perf_counter() - t0) * 1000)
        out[label] = (statistics.median(times), size)
    return out


# The client's first sliding sync request (clients/web/src/sliding.js, src/rules.js
# SLIDING): the first screen of chats by recency, the pinned chats, 10 events each,
# the state the client reads; account data and receipts.
REQUIRED_STATE = [
    ["m.room.create", ""],
    ["m.room.name", ""],
    ["m.room.power_levels", ""],
    ["cn.jwwx.group", ""],
    ["cn.jwwx.announcement", ""],
    ["m.room.member", "$ME"],
    ["m.room.member", "$LAZY"],
]
SLIDING_FIRST = {
    "lists": {
        "chats": {
            "ranges": [[0, 19]],
            "timeline_limit": 10,
            "required_state": REQUIRED_STATE,
            "filters": {},
        },
        "pinned": {
            "ranges": [[0, 49]],
            "timeline_limit": 10,
            "required_state": REQUIRED_STATE,
            "filters": {"tags": ["m.favourite"]},
        },
    },
    "extensions": {"account_data": {"enabled": True}, "receipts": {"enabled": True}},
}


def _timed(
    server: BenchServer, method: str, path: str, token: str, body: Any, repeat: int
) -> tuple[float, int, float]:
    """(median ms, bytes, median server CPU ms) of a request asked `repeat` times."""
    times: list[float] = []
    cpus: list[float] = []
    size = 0
    for _ in range(repeat):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            server.base_url + path,
            data=data,
            method=method,
            headers={
                "Authorization": f"Bearer {token}",
                "Content-Type": "application/json",
            },
        )
        cpu = server_cpu_seconds(server)
        t0 = time.perf_counter()
        with urllib.request.urlopen(request, timeout=600) as response:
            size = len(response.read())
        times.append((time.perf_counter() - t0) * 1000)
        cpus.append((server_cpu_seconds(server) - cpu) * 1000)
    return statistics.median(times), size, statistics.median(cpus)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chats", type=int, default=500)
    parser.add_argument("--messages", type=int, default=10000)
    parser.add_argument(
        "--chat-messages", type=int, default=1, help="messages in each of the chats"
    )
    parser.add_argument("--engine", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--scroll-seconds", type=float, default=600)
    parser.add_argument(
        "--unread",
        type=int,
        default=0,
        help="chats where a colleague leaves an unread message (the badges' cost)",
    )
    parser.add_argument(
        "--sync",
        choices=("sliding", "v2"),
        default="sliding",
        help="the client's sync: simplified sliding sync (default) or /sync v2",
    )
    parser.add_argument(
        "--waterfall",
        action="store_true",
        help="print every request of each load with its start and end",
    )
    args = parser.parse_args()
    if chromium_path() is None:
        raise SystemExit("no Chromium (apt-get install chromium, or set JWWX_CHROMIUM)")
    server = BenchServer(engine=args.engine)
    server.start()
    try:
        localpart = f"officer{os.urandom(3).hex()}"
        _user, token = server.register(localpart)
        long_chat, rooms = _populate(
            server, token, args.chats, args.messages, args.chat_messages
        )
        _unread(server, token, rooms[: args.unread])
        session = _login(server, localpart)
        print(f"load: {os.getloadavg()[0]:.1f} (1-minute average) before the browser")
        loads: list[dict[str, float]] = []
        with browser_page() as page:
            page.set_default_timeout(600_000)
            for n in range(args.repeat):
                if n:
                    page.goto("about:blank")
                loads.append(
                    _load(page, server, session, args.chats, args.sync, args.waterfall)
                )
            # A new session (a login): Synapse's /sync response cache (2 minutes, per
            # device and filter) does not answer its first /sync; its database caches
            # are warm.
            page.goto("about:blank")
            fresh = _login(server, localpart)
            loads.append(_load(page, server, fresh, args.chats, args.sync))
            long = _long_chat(page, long_chat, args.messages, args.scroll_seconds)
            if page.errors:
                raise RuntimeError(page.errors)
        syncs = _first_sync(server.base_url, session["token"], args.repeat)
        # Each sliding request without `pos` starts the connection over: no cache.
        sliding = _timed(
            server,
            "POST",
            SLIDING_PATH + "?timeout=0",
            session["token"],
            SLIDING_FIRST,
            args.repeat,
        )
        probe = _timed(
            server,
            "POST",
            SLIDING_PATH + "?timeout=0",
            session["token"],
            {"lists": {}},
            args.repeat,
        )
        unread = _timed(server, "GET", UNREAD_PATH, session["token"], None, args.repeat)
        print(
            f"\nweb client, {args.sync} sync, {args.engine}, {args.chats + 1} chats,"
            f" {args.repeat} loads in one session (from the 2nd, under /sync v2,"
            " Synapse's /sync response cache answers the first /sync), then one load in"
            " a new session (no response cache):"
        )
        for key, label in (
            ("fcp", "first contentful paint, ms"),
            ("interactive", "every chat listed + a frame, ms"),
            ("sync_start", "  first /sync asked at, ms"),
            ("sync_server", "  first /sync answered after, ms"),
            ("sync_end", "  first /sync received at, ms"),
            ("after_sync", "  then listed after, ms"),
            ("unread_server", "unread counts answered after, ms"),
            ("unread_end", "  received at, ms"),
            ("cpu", "server CPU during the load, s"),
            ("heap", "JS heap after GC, MB"),
            ("nodes", "DOM nodes"),
        ):
            values = [load[key] for load in loads]
            print(
                f"  {label:<34} {' '.join(f'{v:9.1f}' for v in values)}"
                f"   median {statistics.median(values):9.1f}"
            )
        print("\nthe first /sync over HTTP (median of the repeats, caches warm):")
        for label, (ms, size) in syncs.items():
            print(f"  {label:<34} {ms:9.1f} ms {size / 1000:9.1f} kB")
        for label, (ms, size, cpu_ms) in (
            ("first sliding sync (the client's)", sliding),
            ("sliding sync probe (once a tab)", probe),
            ("unread counts", unread),
        ):
            print(
                f"  {label:<34} {ms:9.1f} ms {size / 1000:9.1f} kB"
                f" {cpu_ms:9.1f} ms server CPU"
            )
        print(f"\nthe chat of {args.messages} messages, scrolled to its first:")
        for key, value in long.items():
            print(f"  {key:<34} {value:9.1f}")
        print(f"load: {os.getloadavg()[0]:.1f} (1-minute average) after")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
