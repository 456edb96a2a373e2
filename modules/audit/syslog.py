# SPDX-License-Identifier: AGPL-3.0-or-later
"""RFC 5424 syslog messages with RFC 6587 octet-counting framing, and a TCP sender
that knows when the collector has read everything.

A record travels as one message: facility 13 (log audit), severity 6 (info), APP-NAME
"jwwx-audit", MSGID the record kind, MSG the record's JSON (MSG-ANY, no BOM):

    123 <110>1 2026-11-29T15:00:00.123Z im.example jwwx-audit - message - {"seq":1,...}

TCP gives no application acknowledgement, so a batch counts as delivered only when the
collector, after our half-close (FIN), closes its side too: it has then read the whole
stream. A reset, a refused connection or a timeout means "not delivered", and the
batch is sent again (at-least-once).
"""

import json
from datetime import UTC, datetime
from typing import Any

from twisted.internet import defer, error, protocol
from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol
from twisted.python.failure import Failure

PRI = 13 * 8 + 6
APP_NAME = "jwwx-audit"


def timestamp(ts_ms: int) -> str:
    moment = datetime.fromtimestamp(ts_ms / 1000, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts_ms % 1000:03d}Z"


def frame(hostname: str, record: dict[str, Any]) -> bytes:
    """One octet-counted RFC 5424 message for an exported record."""
    msg = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
    line = (
        f"<{PRI}>1 {timestamp(int(record['ts']))} {hostname or '-'} {APP_NAME} - "
        f"{record['kind']} - {msg}"
    ).encode()
    return str(len(line)).encode("ascii") + b" " + line


def parse_frames(buffer: bytes) -> tuple[list[bytes], bytes]:
    """Split octet-counted frames off a stream buffer; returns (frames, rest)."""
    frames: list[bytes] = []
    while True:
        space = buffer.find(b" ")
        if space <= 0 or not buffer[:space].isdigit():
            return frames, buffer
        length = int(buffer[:space])
        end = space + 1 + length
        if len(buffer) < end:
            return frames, buffer
        frames.append(buffer[space + 1 : end])
        buffer = buffer[end:]


class _SendAll(protocol.Protocol):
    def __init__(self, payload: bytes) -> None:
        self._payload = payload
        self.done: defer.Deferred[None] = defer.Deferred()

    def connectionMade(self) -> None:
        transport: Any = self.transport
        transport.write(self._payload)
        transport.loseWriteConnection()

    def dataReceived(self, data: bytes) -> None:
        return None

    def connectionLost(self, reason: Failure = protocol.connectionDone) -> None:
        if self.done.called:
            return
        if reason.check(error.ConnectionDone):
            self.done.callback(None)
        else:
            self.done.errback(reason)


async def send_tcp(
    reactor: Any, host: str, port: int, payload: bytes, timeout: float
) -> None:
    """Deliver payload and wait for the collector's close; raises on any failure."""
    endpoint = TCP4ClientEndpoint(reactor, host, port, timeout=timeout)
    proto = _SendAll(payload)
    await connectProtocol(endpoint, proto)
    timer = reactor.callLater(timeout, _abort, proto)
    try:
        await proto.done
    finally:
        if timer.active():
            timer.cancel()


def _abort(proto: _SendAll) -> None:
    if not proto.done.called:
        proto.done.errback(TimeoutError("collector did not confirm the batch"))
        transport: Any = proto.transport
        if transport is not None:
            transport.abortConnection()
