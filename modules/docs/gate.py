# SPDX-License-Identifier: AGPL-3.0-or-later
"""Roots of a document only the server writes: the comments (comments.py) and the
tasks' progress (tasks.py). They are written over HTTP, where the server records who
made a comment or completed a step; an editor's socket update that would add, change
or delete anything in them is refused before any of it is applied (websocket.py
closes the connection with 4403), so authorship cannot be forged.

A Yjs update does not name the roots its items belong to (an item placed after
another one names only that one), and Yrs cannot take an applied update back. So each
live document has a second copy, the gate: a peer's update is applied to the copy
first, with observers on the server's roots; if one fires, the update is refused and
the copy is rebuilt from the live document (rare: only a forging or broken client
gets there); otherwise the update is applied to the live document too. The server's
own changes are applied to the copy as they happen (`follow`). The cost is a second
Doc in memory per open document and a second apply per update (cheap: Yrs integrates
an update in time proportional to it, not to the document)."""

from typing import Any

from pycrdt import Doc, Map

SERVER_ROOTS = ("comments", "task_progress")


class ServerRootError(Exception):
    """A peer's update would write a root only the server writes."""

    def __init__(self, root: str) -> None:
        super().__init__(f"the root {root!r} is written by the server only")
        self.root = root


class ServerRootsGate:
    def __init__(self, state: bytes) -> None:
        self._touched: list[str] = []
        self._copy: Doc[Any] = self._new_copy(state)

    def _new_copy(self, state: bytes) -> Doc[Any]:
        copy: Doc[Any] = Doc()
        copy.apply_update(state)
        # The roots and subscriptions are kept: pycrdt drops an observer with them.
        self._watched: list[Any] = []
        for name in SERVER_ROOTS:
            root = copy.get(name, type=Map)
            subscription = root.observe_deep(
                lambda *_, name=name: self._touched.append(name)
            )
            self._watched.append((root, subscription))
        return copy

    def admit(self, update: bytes, live: Doc[Any]) -> None:
        """Apply a peer's update to the copy; ServerRootError (and the copy rebuilt
        from `live`, which has not seen the update) if it touched a server root."""
        self._touched.clear()
        try:
            self._copy.apply_update(update)
        except Exception:
            self._copy = self._new_copy(live.get_update())
            raise
        if self._touched:
            root = self._touched[0]
            self._touched.clear()
            self._copy = self._new_copy(live.get_update())
            raise ServerRootError(root)

    def follow(self, update: bytes) -> None:
        """The server's own change of the live document."""
        self._copy.apply_update(update)
        self._touched.clear()
