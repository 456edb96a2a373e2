# SPDX-License-Identifier: AGPL-3.0-or-later
"""What the search tests share: the standard /search and our unified search over HTTP,
waiting for the indexer (it runs beside delivery, so a message is findable shortly
after it is sent, not at once), and a look at the index table itself."""

import sqlite3
import uuid
from typing import Any
from urllib.parse import quote, urlencode

from twisted.internet import reactor, task

from tests.harness import postgres
from tests.harness.client import MatrixClient

SEARCH = "/_matrix/client/v3/search"
OURS = "/_jwwx/client/v1/search"


def sleep(seconds: float) -> Any:
    return task.deferLater(reactor, seconds, lambda: None)


def q(value: str) -> str:
    return quote(value, safe="")


def room_events(term: str, **extra: Any) -> dict[str, Any]:
    return {"search_categories": {"room_events": {"search_term": term, **extra}}}


async def matrix_search(
    client: MatrixClient, term: str, batch: str | None = None, **extra: Any
) -> dict[str, Any]:
    path = SEARCH + (f"?next_batch={q(batch)}" if batch else "")
    answer = await client.ok("POST", path, room_events(term, **extra))
    return dict(answer["search_categories"]["room_events"])


async def found_bodies(client: MatrixClient, term: str) -> list[str]:
    """Bodies /search finds, newest first (order_by recent, all pages)."""
    bodies: list[str] = []
    batch = None
    while True:
        cat = await matrix_search(client, term, batch, order_by="recent")
        bodies.extend(r["result"]["content"].get("body", "") for r in cat["results"])
        batch = cat.get("next_batch")
        if not batch:
            return bodies


async def ours(client: MatrixClient, **params: str) -> tuple[int, Any]:
    return await client.request("GET", f"{OURS}?{urlencode(params)}")


class SearchHelpers:
    async def indexed(self, client: MatrixClient, room: str) -> None:
        """Send a unique marker and wait until /search finds it: everything sent into
        the stream before it has then been indexed."""
        marker = "mark" + uuid.uuid4().hex[:12]
        await client.send_text(room, marker)
        for _ in range(1800):
            if await found_bodies(client, marker) == [marker]:
                return
            await sleep(0.05)
        raise AssertionError(f"{marker} was never indexed")

    def index_rows(self, event_id: str) -> int:
        """Rows of the index holding this event (0 once it has been forgotten)."""
        sql = "SELECT COUNT(*) FROM jwwx_search_docs WHERE event_id = ?"
        return int(self.rows(sql, (event_id,))[0][0])

    def rows(self, sql: str, args: tuple[Any, ...]) -> list[Any]:
        """Read the server's database directly."""
        server = self.server  # type: ignore[attr-defined]
        if server.engine == "sqlite":
            conn = sqlite3.connect(server.data_dir / "homeserver.db")
            try:
                return list(conn.execute(sql, args).fetchall())
            finally:
                conn.close()
        pg = postgres.connect(server.pg_database)
        try:
            with pg.cursor() as cur:
                cur.execute(sql.replace("?", "%s"), args)
                return list(cur.fetchall())
        finally:
            pg.close()
