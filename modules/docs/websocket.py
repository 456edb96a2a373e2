# SPDX-License-Identifier: AGPL-3.0-or-later
"""The module's own listener: the standard Yjs sync and awareness protocol (y-protocols,
as y-websocket and pycrdt's Provider speak it) over WebSocket, on Twisted (autobahn),
with the protocol's messages from pycrdt (Yrs).

    ws(s)://HOST:PORT/_jwwx/docs/v1/ws/{doc_id}?access_token=TOKEN

The token (or an `Authorization: Bearer` header) is the officer's own Matrix access
token (identity.py). The handshake is refused with HTTP 401 (bad token), 403 (no role
on the document) or 404 (no such document). After it, the server sends its sync step 1
and the presence it knows. A reader's or commenter's update (sync step 2 or update with
content) closes the connection with 4403 and nothing of it is applied; an update that
does not decode closes it with 4400, an editor's update that touches what only the
server writes (the comments and the tasks' progress: gate.py) with 4403 (nothing of it
applied), and an editor's update while the document's unit is at or over its bytes
quota with 4413 (checked when the connection opens: units.py); one larger than
max_update_bytes with 1009. A document deleted while open closes its connections with
4410; a change of its sharing closes them with 4401, so that each reconnects and is
judged on the new sharing (a restore is an ordinary update every editor receives)."""

import contextlib
import logging
from typing import Any
from urllib.parse import unquote

from twisted.internet import defer

from autobahn.exception import Disconnected
from autobahn.twisted.websocket import WebSocketServerFactory, WebSocketServerProtocol
from autobahn.websocket.types import ConnectionDeny
from pycrdt import (
    YMessageType,
    YSyncMessageType,
    create_sync_message,
    handle_sync_message,
    read_message,
)

from modules.docs.gate import ServerRootError
from modules.docs.identity import TokenRefusedError
from modules.docs.roles import at_least

logger = logging.getLogger(__name__)

PATH = "/_jwwx/docs/v1/ws/"
EMPTY_UPDATE = b"\x00\x00"
CLOSE_READ_ONLY = 4403
CLOSE_BAD_UPDATE = 4400
CLOSE_OVER_QUOTA = 4413


class DocProtocol(WebSocketServerProtocol):
    factory: "DocFactory"

    def __init__(self) -> None:
        super().__init__()
        self.user_id = ""
        self.role = ""
        self.doc_id = ""
        self.room: Any = None
        self.edits = 0
        self.awareness_ids: set[int] = set()
        self.gone = False
        self.over_quota = False  # the unit's bytes quota is used (units.py)

    def onConnect(self, request: Any) -> Any:
        # Autobahn calls this from Synapse's request (the upgrade) and waits for the
        # Deferred: the checks run in a log context of their own (Synapse's rules),
        # their outcome handed to autobahn through a plain Deferred.
        outcome: defer.Deferred[None] = defer.Deferred()

        async def admit() -> None:
            try:
                await self._admit(request)
            except Exception as e:
                outcome.errback(e)
            else:
                outcome.callback(None)

        self._background("jwwx_docs_admit", admit)
        return outcome

    def _background(self, desc: Any, fn: Any, *args: Any) -> None:
        self.factory.service.api.run_as_background_process(desc, fn, *args)

    async def _admit(self, request: Any) -> None:
        if not request.path.startswith(PATH):
            raise ConnectionDeny(404, "unknown path")
        self.doc_id = unquote(request.path[len(PATH) :])
        token = (request.params.get("access_token") or [None])[0]
        header = request.headers.get("authorization", "")
        if token is None and header.startswith("Bearer "):
            token = header[7:]
        if not token:
            raise ConnectionDeny(401, "M_MISSING_TOKEN")
        service = self.factory.service
        try:
            self.user_id = await service.identities.user_id(token)
        except TokenRefusedError as e:
            raise ConnectionDeny(401, e.errcode) from e
        role = await service.role_of(self.doc_id, self.user_id)
        if role is None:
            raise ConnectionDeny(404, "M_NOT_FOUND")  # no role: not even its existence
        self.role = role
        if at_least(role, "editor"):
            self.over_quota = await service.over_quota(self.doc_id)
        room = await service.rooms.open(self.doc_id)
        if at_least(role, "editor"):
            await service.upgrade_content(room, self.user_id)
        if self.gone:  # the connection dropped while we looked: give the hold back
            await service.rooms.release(room)
            raise ConnectionDeny(400, "gone")
        self.room = room

    def onOpen(self) -> None:
        room = self.room
        room.peers.add(self)
        self.sendMessage(create_sync_message(room.doc), isBinary=True)
        states = room.awareness_states()
        if states is not None:
            self.sendMessage(states, isBinary=True)
        self._background(
            "jwwx_docs_opened",
            self.factory.service.opened,
            self.doc_id,
            self.user_id,
            self.role,
        )

    def send_binary(self, message: bytes) -> None:
        """Send to this peer; one that is closing (its onClose not yet run) is
        skipped, so that relaying to the others and storing go on."""
        with contextlib.suppress(Disconnected):
            self.sendMessage(message, isBinary=True)

    def onMessage(self, payload: bytes, isBinary: bool) -> None:  # noqa: N803
        if self.room is None or not payload:
            return
        try:
            self._handle(bytes(payload))
        except Exception as e:
            logger.info(
                "document %s: bad message from %s: %s", self.doc_id, self.user_id, e
            )
            self.sendClose(CLOSE_BAD_UPDATE, "bad message")

    def _handle(self, message: bytes) -> None:
        if message[0] == YMessageType.AWARENESS:
            self.room.awareness_update(self, message, read_message(message[1:]))
            return
        if message[0] != YMessageType.SYNC:
            return
        sync_type = message[1]
        if sync_type == YSyncMessageType.SYNC_STEP1:
            reply = handle_sync_message(message[1:], self.room.doc)
            if reply is not None:
                self.sendMessage(reply, isBinary=True)  # SYNC, STEP2, update
            return
        update = read_message(message[2:])
        if update == EMPTY_UPDATE:
            return
        if not at_least(self.role, "editor") or self.over_quota:
            if not self.room.would_change(update):
                return  # e.g. a reader's sync step 2: only deletions the server has
            # Refused here, not only hidden in the editor: nothing of it is applied.
            if self.over_quota:
                self.sendClose(CLOSE_OVER_QUOTA, "the unit's storage quota is used")
                return
            self.sendClose(CLOSE_READ_ONLY, "read-only")
            self._background(
                "jwwx_docs_refused",
                self.factory.service.refused,
                self.doc_id,
                self.user_id,
                self.role,
            )
            return
        if len(update) > self.factory.service.config.max_update_bytes:
            self.sendClose(1009, "update too large")
            return
        try:
            self.room.apply(self, self.user_id, update)
        except ServerRootError as e:
            # Comments and task progress go through the HTTP API, which records
            # who wrote them: a socket update touching them is refused whole.
            self.sendClose(CLOSE_READ_ONLY, f"{e.root} is written over HTTP only")
            self._background(
                "jwwx_docs_refused",
                self.factory.service.refused,
                self.doc_id,
                self.user_id,
                self.role,
                e.root,
            )
            return
        self.edits += 1

    def onClose(  # noqa: N802
        self,
        wasClean: bool,  # noqa: N803 (autobahn's names)
        code: int | None,
        reason: str | None,
    ) -> None:
        self.gone = True
        room, self.room = self.room, None
        if room is None:
            return
        room.peers.discard(self)
        room.presence_gone(self)
        self._background(
            "jwwx_docs_closed",
            self.factory.service.closed,
            room,
            self.user_id,
            self.role,
            self.edits,
        )


class DocFactory(WebSocketServerFactory):
    protocol = DocProtocol  # type: ignore[assignment]

    def __init__(self, service: Any, url: str) -> None:
        super().__init__(url)
        self.service = service
        self.setProtocolOptions(
            maxMessagePayloadSize=service.config.max_update_bytes + 1024,
            autoPingInterval=30,
            autoPingTimeout=60,
            # The handshake checks the token (whoami) and the role and may load the
            # document: autobahn's 5 s default is too short on a busy server.
            openHandshakeTimeout=60,
            # After our close (4403, 4401, ...) autobahn aborts the TCP connection if
            # the client has not answered within 1 s by default: the reset can reach a
            # busy client before it read our close frame, which it then never sees
            # (1006 instead of the code that says why). Give a slow client its time.
            closeHandshakeTimeout=30,
        )
