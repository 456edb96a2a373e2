# SPDX-License-Identifier: AGPL-3.0-or-later
"""What a round of new-mail checks costs the mail bridge (bridges/mail): N bound
mailboxes on the test stand-in's IMAP server (twisted.mail, its own process, loopback),
one round of `check_all` at each concurrency, timed. Each check is a whole IMAP session
(connect, LOGIN, STATUS, LOGOUT; FETCH when there is new mail), which is what bounds
how many officers one bridge can remind within `poll_interval_seconds`.

    .venv/bin/python -m benchmarks.mail_checks [--mailboxes 200] [--concurrency 1,4,8]

Prints, per concurrency: the round's wall time, mailboxes checked per second and the
mean time per mailbox; and the load (uptime) beside them. Not a test: nothing asserts."""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from twisted.internet import defer, task

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
            raw = {
                "server_name": "bench.local",
                "homeserver_url": "http://127.0.0.1:9",
                "bridge_url": "http://127.0.0.1:9",
                "as_token_file": "as",
                "hs_token_file": "hs",
                "seal_key_file": "seal",
                "state_database": f"state-{concurrency}.db",
                "check_concurrency": concurrency,
                "idle": False,  # a poll round is what is measured
                "imap": {"host": "127.0.0.1", "port": imap_port, "security": "none"},
                "smtp": {"host": "127.0.0.1", "port": smtp_port, "security": "none"},
            }
            config = parse_config(raw, folder)
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
    args = parser.parse_args()
    task.react(lambda reactor: defer.ensureDeferred(_rounds(reactor, args)))


if __name__ == "__main__":
    main()
