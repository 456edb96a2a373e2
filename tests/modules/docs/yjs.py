# SPDX-License-Identifier: AGPL-3.0-or-later
"""pycrdt clients of the document listener: pycrdt's own Provider (the Yjs sync
protocol's reference client in Python) over a `websockets` connection, run in an
asyncio loop of their own (a thread) beside the tests' Twisted reactor."""

import asyncio
import base64
import secrets
import time
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack, suppress
from typing import Any
from urllib.parse import quote

import websockets
import yaml
from pycrdt import Assoc, Doc, Map, Provider, StickyIndex, Text
from websockets.exceptions import ConnectionClosed, InvalidStatus

DOCS_MODULE = "modules.docs.DocsModule"
WAIT_SECONDS = 120.0  # generous: CI runs on a loaded machine
# websockets' defaults (10 s to open, pings every 20 s) are too short for a loaded CI.
CONNECT: dict[str, Any] = {
    "max_size": None,
    "open_timeout": WAIT_SECONDS,
    "ping_interval": None,
    "close_timeout": 30,
}


class Channel:
    """pycrdt's Channel over a websockets client connection; a closed connection ends
    the iteration and drops later sends (the close code stays readable)."""

    def __init__(self, connection: Any, path: str) -> None:
        self.connection = connection
        self._path = path

    @property
    def path(self) -> str:
        return self._path

    def __aiter__(self) -> "Channel":
        return self

    async def __anext__(self) -> bytes:
        try:
            return await self.recv()
        except ConnectionClosed:
            raise StopAsyncIteration from None

    async def send(self, message: bytes) -> None:
        with suppress(ConnectionClosed):
            await self.connection.send(message)

    async def recv(self) -> bytes:
        message = await self.connection.recv()
        return message if isinstance(message, bytes) else message.encode()

    @property
    def close_code(self) -> int | None:
        code: int | None = self.connection.close_code
        return code


class Editor:
    """One officer's open document: a Doc with its Text "content", synced."""

    def __init__(self, doc: Doc[Any], channel: Channel) -> None:
        self.doc = doc
        self.channel = channel
        self.text = doc.get("content", type=Text)

    def __str__(self) -> str:
        return str(self.text)


async def open_editor(
    stack: AsyncExitStack, url: str, token: str, doc: Doc[Any] | None = None
) -> Editor:
    """Connect (an offline editor passes its own Doc back in to reconnect)."""
    connection = await stack.enter_async_context(
        websockets.connect(f"{url}?access_token={quote(token)}", **CONNECT)
    )
    channel = Channel(connection, url)
    doc = doc if doc is not None else Doc()
    provider = await stack.enter_async_context(Provider(doc, channel))
    await asyncio.wait_for(provider.synced.wait(), WAIT_SECONDS)
    return Editor(doc, channel)


def anchor(editor: Editor, index: int) -> str:
    """A relative position in the editor's text (what Y.encodeRelativePosition gives
    a browser), base64."""
    sticky = StickyIndex.new(editor.text, index, Assoc.AFTER)
    return base64.b64encode(sticky.encode()).decode()


def covered(editor: Editor, start: str, end: str) -> str:
    """The text between two relative positions, as this editor's document has it."""
    at = [
        StickyIndex.decode(base64.b64decode(p), editor.text).get_index()
        for p in (start, end)
    ]
    return str(editor.text)[at[0] : at[1]]


def comments(editor: Editor) -> dict[str, Any]:
    return {k: dict(v) for k, v in editor.doc.get("comments", type=Map).items()}


async def until(check: Callable[[], bool], what: str, interval: float = 0.05) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {WAIT_SECONDS}s: {what}")
        await asyncio.sleep(interval)


async def refused_status(url: str, token: str) -> int:
    """The HTTP status of a refused handshake."""
    try:
        async with websockets.connect(f"{url}?access_token={quote(token)}", **CONNECT):
            return 101
    except InvalidStatus as e:
        return int(e.response.status_code)


def run(scenario: Callable[[], Awaitable[Any]]) -> Any:
    """Run an asyncio scenario to its end (called through deferToThread)."""
    try:
        return asyncio.run(scenario())  # type: ignore[arg-type]
    except BaseExceptionGroup as group:  # anyio's: show what failed inside
        raise group.exceptions[0] from group


def configure_docs(server: Any, **settings: Any) -> None:
    """Add modules.docs (a fresh key, the WebSocket listener on a free port) to a test
    server's modules through conf.d, before its first start; the audit archive polls
    often so that its records are there soon."""
    key = server.data_dir / "keys" / "docs_key"
    key.write_text(secrets.token_hex(32), encoding="utf-8")
    rendered = yaml.safe_load(
        (server.data_dir / "homeserver.yaml").read_text(encoding="utf-8")
    )
    modules = [m for m in rendered["modules"] if m["module"] != DOCS_MODULE]
    for entry in modules:
        if entry["module"] == "modules.audit.AuditModule":
            entry.setdefault("config", {})["poll_interval_seconds"] = 0.2
    config = {
        "keys": {"k1": str(key)},
        "current_key_id": "k1",
        "websocket": {},
    }
    config.update(settings)
    modules.append({"module": DOCS_MODULE, "config": config})
    (server.data_dir / "conf.d" / "zz-docs.yaml").write_text(
        yaml.safe_dump({"modules": modules}, allow_unicode=True), encoding="utf-8"
    )
