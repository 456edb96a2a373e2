# SPDX-License-Identifier: AGPL-3.0-or-later
"""A local SMTP server that accepts and counts every mail (aiosmtpd, in a thread): our
directory's mailer then runs as in a deployment with a mail relay, on the scenarios that
want every background loop of ours enabled."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from aiosmtpd.controller import Controller

from tests.harness.server import free_port


class SmtpSink:
    """The handler: `port` to configure, `accepted` mails so far."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.accepted = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.accepted += 1
        return "250 OK"


@contextmanager
def smtp_sink() -> Iterator[SmtpSink]:
    """A running sink."""
    sink = SmtpSink(free_port())
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port)
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()
