# SPDX-License-Identifier: AGPL-3.0-or-later
"""What a round of new-mail checks costs the mail bridge (bridges/mail): N bound
mailboxes on the test stand-in's IMAP server (twisted.mail, its own process, loopback),
one round of `check_all` at each concurrency, timed. Each check is a whole IMAP session
(connect, LOGIN, STATUS, LOGOUT; FETCH when there is new mail), which is what bounds
how many officers one bridge can remind within `poll_interval_seconds`.

    .venv/bin/python -m benchmarks.mail_checks [--mailboxes 200] [--concurrency 1,4,8] \
        [--idle-mails 20]

Prints, per concurrency: the round's wall time, mailboxes checked per second and the
mean time per mailbox; and the load (uptime) beside them.

Then IMAP IDLE (`idle: true`, bridges/mail/idle.py; `--idle-mails 0` skips it): an IDLE
session opened on every mailbox (logins `check_concurrency` = the last concurrency at
a time, each followed by the check a session makes when it starts): the time until all
idle, the bridge process's memory per session (VmRSS before and after); then
`--idle-mails` mails delivered over SMTP one at a time to mailboxes picked at random,
each timed from just before the SMTP submission to the bridge's reminder (the bot's
send, recorded here instead of a homeserver): p50/p99. Not a test: nothing asserts."""

import argparse
import os
import random
import smtplib
import subprocess
import sys
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from twisted.internet import defer, task, threads

from benchmarks.stats import percentile
from bridges.mail.config import parse_config
from bridges.mail.service import MailService
from bridges.mail.storage import Account, MailStore
from tests.harness.server import free_port

ROOT = Path(__file__).resolve().parents[1]


def _wait_port(port: int) -> None:
    import socket

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise SystemExit("the IMAP stand-in did not start")


def _config(
    folder: Path, imap_port: int, smtp_port: int, concurrency: int, idle: bool
) -> Any:
    raw = {
        "server_name": "bench.local",
        "homeserver_url": "http://127.0.0.1:9",
        "bridge_url": "http://127.0.0.1:9",
        "as_token_file": "as",
        "hs_token_file": "hs",
        "seal_key_file": "seal",
        "state_database": f"state-{concurrency}-{'idle' if idle else 'poll'}.db",
        "check_concurrency": concurrency,
        "idle": idle,
        "imap": {"host": "127.0.0.1", "port": imap_port, "security": "none"},
        "smtp": {"host": "127.0.0.1", "port": smtp_port, "security": "none"},
    }
    return parse_config(raw, folder)


class Reminders:
    """The bot, as the service sees it: each room's first reminder time."""

    def __init__(self) -> None:
        self.first: dict[str, float] = {}

    async def send(self, room_id: str, content: dict[str, Any]) -> str:
        self.first.setdefault(room_id, time.perf_counter())
        return "$reminder"


def _rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _submit(port: int, to: str, n: int) -> None:
    mail = EmailMessage()
    mail["From"] = "chief@gat.example.cn"
    mail["To"] = to
    mail["Subject"] = f"通报 {n}"
    mail.set_content("请查收")
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        client.send_message(mail)


async def _idle(
    reactor: Any,
    args: argparse.Namespace,
    folder: Path,
    ports: tuple[int, int],
    logins: list[str],
) -> None:
    concurrency = args.concurrency[-1]
    config = _config(folder, *ports, concurrency, idle=True)
    store = MailStore(config.state_database, bytes(16))
    for i, login in enumerate(logins):
        store.put(Account(f"@o{i}:bench.local", login, f"pw-{i}", f"!r{i}", 1, 0))
    bot = Reminders()
    service = MailService(config, bot, store)  # type: ignore[arg-type]
    watcher = service.watcher
    assert watcher is not None
    rss0, start = _rss_kb(), time.perf_counter()
    service.watch_all()
    while watcher.idling_count < len(logins):
        if time.perf_counter() - start > 600:
            raise SystemExit(f"only {watcher.idling_count} sessions idle after 600 s")
        await task.deferLater(reactor, 0.05, lambda: None)
    took = time.perf_counter() - start
    per = (_rss_kb() - rss0) / len(logins)
    print(
        f"IDLE: {len(logins)} sessions idle in {took:.2f} s"
        f" ({len(logins) / took:.0f}/s, logins {concurrency} at a time);"
        f" bridge memory {per:.1f} kB per session"
    )
    rng = random.Random(1)
    latencies = []
    for n in range(args.idle_mails):
        i = rng.randrange(len(logins))
        room = f"!r{i}"
        bot.first.pop(room, None)
        sent = time.perf_counter()
        await threads.deferToThread(_submit, ports[1], logins[i], n)
        while room not in bot.first:
            if time.perf_counter() - sent > 120:
                raise SystemExit(f"no reminder for mail {n} after 120 s")
            await task.deferLater(reactor, 0.005, lambda: None)
        latencies.append((bot.first[room] - sent) * 1000)
    if latencies:
        print(
            f"IDLE: SMTP submission → reminder, {len(latencies)} mails:"
            f" p50 {percentile(latencies, 0.5):.0f} ms,"
            f" p99 {percentile(latencies, 0.99):.0f} ms,"
            f" max {max(latencies):.0f} ms"
        )
    watcher.stop_all()
    store.close()


async def _rounds(reactor: Any, args: argparse.Namespace) -> None:
    imap_port, smtp_port = free_port(), free_port()
    logins = [f"officer{i}@gat.example.cn" for i in range(args.mailboxes)]
    standin = subprocess.Popen(
        [sys.executable, "-m", "tests.bridges.mail.standin", str(imap_port),
         str(smtp_port), *(f"{login}=pw-{i}" for i, login in enumerate(logins))],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    folder = Path(tempfile.mkdtemp())
    try:
        _wait_port(imap_port)
        print(f"mailboxes: {args.mailboxes}; load: {os.getloadavg()[0]:.2f} (1 min)")
        print("concurrency | round (s) | mailboxes/s | ms per mailbox")
        for concurrency in args.concurrency:
            config = _config(folder, imap_port, smtp_port, concurrency, idle=False)
            store = MailStore(config.state_database, bytes(16))
            for i, login in enumerate(logins):
                store.put(Account(f"@o{i}:bench.local", login, f"pw-{i}", "!r", 1, 0))
            # No new mail: the bot (the homeserver side) is never called.
            service = MailService(config, None, store)  # type: ignore[arg-type]
            start = time.perf_counter()
            await service.check_all()
            took = time.perf_counter() - start
            ok = service.metrics.checks.labels("ok")._value.get()
            print(
                f"{concurrency:>11} | {took:9.2f} | {ok / took:11.1f} |"
                f" {1000 * took / max(ok, 1) * concurrency:14.1f}"
            )
            store.close()
        if args.idle_mails:
            await _idle(reactor, args, folder, (imap_port, smtp_port), logins)
        print(f"load after: {os.getloadavg()[0]:.2f} (1 min)")
    finally:
        standin.terminate()
        standin.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.mail_checks")
    parser.add_argument("--mailboxes", type=int, default=200)
    parser.add_argument(
        "--concurrency",
        type=lambda t: [int(x) for x in t.split(",")],
        default=[1, 4, 8],
    )
    parser.add_argument("--idle-mails", type=int, default=20)
    args = parser.parse_args()
    task.react(lambda reactor: defer.ensureDeferred(_rounds(reactor, args)))


if __name__ == "__main__":
    main()
