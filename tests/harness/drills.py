# SPDX-License-Identifier: AGPL-3.0-or-later
"""What the outage drills share (tests/homeserver: kill -9 of a worker, Redis away, a
PostgreSQL failover): a message sent the way a client retries it — the same
transaction id again until the server acknowledges it, so a retry after an outage is
never a second message."""

import uuid
from urllib.parse import quote

from twisted.internet import reactor, task

from tests.harness.client import MatrixClient


async def send_until_acknowledged(
    client: MatrixClient, room: str, text: str, what: str, seconds: float = 90
) -> tuple[str, int]:
    """Send `text` into `room` under one transaction id, retrying every 0.1 s while
    the server refuses or does not answer; (event id, failed attempts)."""
    txn = f"{what}-{uuid.uuid4().hex}"
    path = f"/_matrix/client/v3/rooms/{quote(room)}/send/m.room.message/{txn}"
    body = {"msgtype": "m.text", "body": text}
    for failures in range(int(seconds * 10)):
        try:
            status, answer = await client.request("PUT", path, body, timeout=10)
        except Exception:  # noqa: BLE001 - refused, reset or timed out while it is down
            status, answer = 0, None
        if status == 200:
            return str(answer["event_id"]), failures
        await task.deferLater(reactor, 0.1, lambda: None)
    raise AssertionError(f"{text!r} never acknowledged")
