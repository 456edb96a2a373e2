# SPDX-License-Identifier: AGPL-3.0-or-later
"""Live documents: one pycrdt Doc per open document, shared by its connections.

Every update that changes the document (the Doc's observer fires only then, so an
echo of what the server has is neither stored nor sent again) is sent to the other
connections at once and queued for storage; one writer per document drains the queue
in order (a revision per author's run of updates) and, once `snapshot_every` updates
have been written since the last snapshot and the queue is empty, stores the full state
as a snapshot, so opening a document reads one snapshot and a bounded tail. An update
is in memory before it is durable: a crash loses at most the queue, which the editors'
own copies hold and send again when they reconnect (that is how Yjs merges)."""

import logging
from collections.abc import Callable
from typing import Any, Protocol

from twisted.internet import defer

from pycrdt import (
    Awareness,
    Doc,
    create_awareness_message,
    create_update_message,
    merge_updates,
)
from synapse.module_api import ModuleApi

from modules.common.storage import Txn
from modules.common.synapse.runtime import await_background
from modules.docs import chain, storage
from modules.docs.config import DocsConfig
from modules.docs.gate import ServerRootsGate

logger = logging.getLogger(__name__)


class Peer(Protocol):
    user_id: str

    def send_binary(self, message: bytes) -> None: ...


def append_revision_txn(
    txn: Txn,
    doc_id: str,
    kind: str,
    user_id: str,
    now: int,
    key_id: str,
    key: bytes,
    payload: bytes,
) -> int:
    head = storage.head_txn(txn, doc_id)
    if head is None:
        raise LookupError(doc_id)
    rev = chain.seal(
        doc_id, head[0] + 1, kind, user_id, now, key_id, key, payload, head[1]
    )
    storage.append_txn(txn, rev)
    return rev.seq


def load_state_txn(
    txn: Txn, doc_id: str, upto: int | None, keys: Any
) -> tuple[bytes, int, int]:
    """(merged update, the revision it reaches, updates since the snapshot used)."""
    head = storage.head_txn(txn, doc_id)
    last = head[0] if head else 0
    upto = last if upto is None else min(upto, last)
    revs = storage.revisions_for_state_txn(txn, doc_id, upto)
    doc: Doc[Any] = Doc()
    for rev in revs:
        doc.apply_update(chain.open_body(rev, keys))
    since = sum(1 for r in revs if r.kind != "snapshot")
    return doc.get_update(), upto, since


class Room:
    def __init__(self, manager: "Rooms", doc_id: str, state: bytes, since: int) -> None:
        self.manager = manager
        self.doc_id = doc_id
        self.doc: Doc[Any] = Doc()
        self.doc.apply_update(state)
        self.gate = ServerRootsGate(state)
        self.awareness = Awareness(self.doc)
        self.peers: set[Peer] = set()
        self.holders = 0  # opens not yet released (Rooms.open / release)
        self.updates_since_snapshot = since
        self._author = ""
        self._origin: Peer | None = None
        self._queue: list[tuple[str, bytes]] = []
        self._writing: defer.Deferred[None] | None = None
        self.doc.observe(lambda event: self._changed(event.update))
        self.awareness.observe(self._presence)

    # Changes

    def apply(self, peer: Peer | None, user_id: str, update: bytes) -> None:
        """Apply an update from `peer` (None: the server itself, e.g. a restore).
        A peer's update that would touch a root only the server writes (gate.py)
        raises ServerRootError and nothing of it is applied."""
        if peer is not None:
            self.gate.admit(update, self.doc)
        self._author, self._origin = user_id, peer
        try:
            self.doc.apply_update(update)
        finally:
            self._author, self._origin = "", None

    def would_change(self, update: bytes) -> bool:
        """Whether applying the update would change the document: a client with
        nothing new still sends its whole delete set (Yjs' sync step 2), which is no
        edit. Tried on a copy (only for those who may not edit: once a connection)."""
        copy: Doc[Any] = Doc()
        copy.apply_update(self.doc.get_update())
        changed: list[bool] = []
        copy.observe(lambda event: changed.append(True))
        copy.apply_update(update)
        return bool(changed)

    def change(self, user_id: str, edit: Callable[[Doc], object]) -> None:
        self._author = user_id
        try:
            edit(self.doc)
        finally:
            self._author = ""

    def _changed(self, update: bytes) -> None:
        if self._origin is None:  # the server's own change: the gate's copy follows
            self.gate.follow(update)
        message = create_update_message(update)
        for peer in list(self.peers):
            if peer is not self._origin:
                peer.send_binary(message)
        self._queue.append((self._author, update))
        if self._writing is None:
            # In a log context of its own: the change may come from a socket (no
            # context) or from a request that ends before the store.
            self._writing = self.manager.api.run_as_background_process(
                "jwwx_docs_store", self._drain
            )

    async def _drain(self) -> None:
        try:
            while self._queue:
                author = self._queue[0][0]
                run = []
                while self._queue and self._queue[0][0] == author:
                    run.append(self._queue.pop(0)[1])
                await self.manager.append(
                    self.doc_id, "update", author, merge_updates(*run)
                )
                self.updates_since_snapshot += len(run)
                if (
                    not self._queue
                    and self.updates_since_snapshot
                    >= self.manager.config.snapshot_every
                ):
                    await self.manager.append(
                        self.doc_id, "snapshot", author, self.doc.get_update()
                    )
                    self.updates_since_snapshot = 0
        except Exception:
            logger.exception("document %s: storing updates failed", self.doc_id)
        finally:
            self._writing = None

    async def flushed(self) -> None:
        while self._writing is not None:
            await await_background(self._writing)

    # Presence

    def awareness_update(self, peer: Peer, message: bytes, update: bytes) -> None:
        self.awareness.apply_awareness_update(update, peer)
        for other in list(self.peers):
            if other is not peer:
                other.send_binary(message)

    def _presence(self, topic: str, change: tuple[dict[str, Any], Any]) -> None:
        changes, origin = change
        ids = getattr(origin, "awareness_ids", None)
        if topic == "update" and ids is not None:
            ids.update(changes["added"] + changes["updated"])

    def presence_gone(self, peer: Peer) -> None:
        """Tell the others that a closed connection's cursors are gone."""
        gone = [
            c for c in getattr(peer, "awareness_ids", ()) if c in self.awareness.states
        ]
        if not gone:
            return
        self.awareness.remove_awareness_states(gone, peer)
        message = create_awareness_message(self.awareness.encode_awareness_update(gone))
        for other in list(self.peers):
            other.send_binary(message)

    def awareness_states(self) -> bytes | None:
        ids = [c for c in self.awareness.states if c != self.awareness.client_id]
        if not ids:
            return None
        return create_awareness_message(self.awareness.encode_awareness_update(ids))


class Rooms:
    """The open documents of this process."""

    def __init__(self, api: ModuleApi, config: DocsConfig) -> None:
        self.api = api
        self.config = config
        self._rooms: dict[str, Room] = {}
        self._lock = defer.DeferredLock()

    async def append(self, doc_id: str, kind: str, user_id: str, payload: bytes) -> int:
        return int(
            await self.api.run_db_interaction(
                "jwwx_docs_append",
                append_revision_txn,
                doc_id,
                kind,
                user_id,
                self.api.get_current_time_msec(),
                self.config.current_key_id,
                self.config.current_key,
                payload,
            )
        )

    async def load(
        self, doc_id: str, upto: int | None = None
    ) -> tuple[bytes, int, int]:
        result: tuple[bytes, int, int] = await self.api.run_db_interaction(
            "jwwx_docs_load", load_state_txn, doc_id, upto, self.config.keys
        )
        return result

    def live(self, doc_id: str) -> Room | None:
        return self._rooms.get(doc_id)

    async def open(self, doc_id: str) -> Room:
        """The document's room, held until `release` (one per open): a room is dropped
        only when nobody holds it, so two rooms of one document never coexist."""
        # One load at a time: two first openers of a document must share one Room.
        await self._lock.acquire()
        try:
            room = self._rooms.get(doc_id)
            if room is None:
                state, _, since = await self.load(doc_id)
                room = self._rooms[doc_id] = Room(self, doc_id, state, since)
            room.holders += 1
            return room
        finally:
            self._lock.release()

    async def release(self, room: Room) -> None:
        """Give back a hold; the last one drops the room once its queue is stored."""
        room.holders -= 1
        await room.flushed()
        if room.holders == 0 and self._rooms.get(room.doc_id) is room:
            del self._rooms[room.doc_id]

    async def close(self, doc_id: str, code: int, reason: str) -> None:
        room = self._rooms.get(doc_id)
        if room is None:
            return
        for peer in list(room.peers):
            closer = getattr(peer, "sendClose", None)
            if closer is not None:
                closer(code, reason)
        await room.flushed()

    async def flush(self, doc_id: str) -> None:
        """Wait until what a live document holds is stored (before reading the rows)."""
        room = self._rooms.get(doc_id)
        if room is not None:
            await room.flushed()
