# SPDX-License-Identifier: AGPL-3.0-or-later
"""Answering searches from the index, exactly as visible as Synapse would show them.

The index only narrows down candidates: in the rooms the officer is joined to now (as
Synapse's own search), newest first. Each candidate then goes through Synapse's own
rules (events.visible_events: not redacted, history visibility, membership at the
time, retention), so what was redacted, recalled, burned or purged is never a hit even
before the indexer or the sweep has forgotten it; a hit Synapse no longer has is
forgotten on the spot.
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from synapse.module_api import ModuleApi

from modules.common.inputs import InputError, excerpt
from modules.common.synapse.events import unredacted_event_ids, visible_events
from modules.common.synapse.patches import MessageHits
from modules.common.synapse.rooms import joined_rooms
from modules.search import storage
from modules.search.config import SearchConfig
from modules.search.request_check import check_search_body
from modules.search.storage import Hit, Query, RoomMatch
from modules.search.text import highlights, like_pattern, query_phrases

logger = logging.getLogger(__name__)

MAX_ROUNDS = 5  # index pages read to fill one page of visible hits
MAX_PEOPLE = 200  # senders a sender_name filter stands for ("zs" matches many)


@dataclass(frozen=True)
class Page:
    items: list[tuple[Hit, Any]]  # (index row, the event as the officer sees it)
    count: int
    next_before: int | None
    edited: dict[str, str]  # event id → the body its newest unredacted edit shows


class Searcher:
    def __init__(self, api: ModuleApi, config: SearchConfig) -> None:
        self._api = api
        self._config = config

    def check_term(self, term: str) -> None:
        if len(term) > self._config.max_query_length:
            raise InputError(
                f"搜索内容过长：最多 {self._config.max_query_length} 个字符"
            )

    async def _run(self, query: Query) -> list[Hit]:
        return list(
            await self._api.run_db_interaction(
                "jwwx_search_find", storage.search_txn, query
            )
        )

    async def _count(self, query: Query) -> int:
        return int(
            await self._api.run_db_interaction(
                "jwwx_search_count", storage.count_txn, query, self._config.count_limit
            )
        )

    async def forget(self, event_ids: list[str]) -> None:
        """Drop events Synapse no longer has (or has redacted) from the index."""
        if event_ids:
            await self._api.run_db_interaction(
                "jwwx_search_forget", storage.forget_txn, event_ids
            )

    # POST /_matrix/client/v3/search (through patches.serve_message_search)

    def check_request(self, content: Any) -> None:
        check_search_body(content)

    async def find(
        self,
        room_ids: list[str],
        term: str,
        keys: list[str],
        limit: int,
        token: str | None,
    ) -> MessageHits | None:
        if "content.body" not in keys:
            return None  # room names and topics only: Synapse's own search
        self.check_term(term)
        before = None
        if token is not None:
            before = _token_position(token)
        phrases = tuple(query_phrases(term))
        if not phrases:
            return MessageHits([], 0, [])
        query = Query(phrases, tuple(room_ids), limit, before)
        hits = await self._run(query)
        count = await self._count(Query(phrases, tuple(room_ids), 1))
        return MessageHits(
            [(hit.event_id, str(hit.stream_ordering)) for hit in hits],
            count,
            highlights(term),
        )

    # GET /_jwwx/client/v1/search

    async def page(
        self,
        user_id: str,
        phrases: Sequence[Any],
        kinds: tuple[str, ...],
        limit: int,
        before: int | None,
        rooms: tuple[str, ...] | None,
        senders: tuple[str, ...],
        since_ts: int | None,
        until_ts: int | None,
    ) -> Page:
        """One page of visible hits of these kinds, newest first."""
        joined = await joined_rooms(self._api, user_id)
        room_ids = tuple(r for r in joined if rooms is None or r in rooms)
        base = Query(
            tuple(phrases),
            room_ids,
            limit * 2,
            before,
            kinds,
            senders,
            since_ts,
            until_ts,
        )
        found: list[tuple[Hit, Any]] = []
        cursor = before
        exhausted = False
        for _ in range(MAX_ROUNDS):
            hits = await self._run(_replace_before(base, cursor))
            await self._forget_gone(hits)
            events = await visible_events(
                self._api, user_id, [hit.event_id for hit in hits]
            )
            by_id = {event.event_id: event for event in events}
            for hit in hits:
                event = by_id.get(hit.event_id)
                if event is not None and _has_content(event):
                    found.append((hit, event))
            if hits:
                cursor = hits[-1].stream_ordering
            if len(hits) < base.limit:
                exhausted = True
            if len(found) >= limit or exhausted:
                break
        if len(found) > limit:
            found = found[:limit]
            next_before: int | None = found[-1][0].stream_ordering
        else:
            next_before = None if exhausted else cursor
        count = await self._count(_replace_before(base, None))
        edited = await self._edited_bodies([hit.event_id for hit, _event in found])
        return Page(found, count, next_before, edited)

    async def _edited_bodies(self, event_ids: list[str]) -> dict[str, str]:
        """What the edited ones among these messages show now: the newest edit that
        Synapse has not redacted (the indexer may not have seen a redaction yet)."""
        edits = await self._api.run_db_interaction(
            "jwwx_search_edits", storage.current_edits_txn, event_ids
        )
        if not edits:
            return {}
        standing = await unredacted_event_ids(
            self._api, [edit_id for found in edits.values() for edit_id, _ in found]
        )
        shown: dict[str, str] = {}
        for original_id, found in edits.items():
            for edit_id, body in found:
                if edit_id in standing:
                    shown[original_id] = body
                    break
        return shown

    async def people(self, term: str) -> tuple[str, ...]:
        """User ids whose name, pinyin, initials or localpart contain `term`."""
        found = await self._api.run_db_interaction(
            "jwwx_search_people",
            storage.people_matching_txn,
            like_pattern(term),
            MAX_PEOPLE,
        )
        return tuple(found)

    async def rooms(
        self,
        user_id: str,
        term: str,
        rooms: tuple[str, ...] | None,
        limit: int,
        offset: int,
    ) -> tuple[list[RoomMatch], int]:
        """The officer's rooms whose name or a member's name (or pinyin) has `term`."""
        joined = await joined_rooms(self._api, user_id)
        room_ids = [r for r in joined if rooms is None or r in rooms]
        found, count = await self._api.run_db_interaction(
            "jwwx_search_rooms",
            storage.rooms_matching_txn,
            room_ids,
            like_pattern(term),
            limit,
            offset,
        )
        return list(found), int(count)

    async def _forget_gone(self, hits: list[Hit]) -> None:
        ids = [hit.event_id for hit in hits]
        present = await unredacted_event_ids(self._api, ids)
        await self.forget([event_id for event_id in ids if event_id not in present])


def _replace_before(query: Query, before: int | None) -> Query:
    return Query(
        query.phrases,
        query.room_ids,
        query.limit,
        before,
        query.kinds,
        query.senders,
        query.since_ts,
        query.until_ts,
    )


def _has_content(event: Any) -> bool:
    """Erased senders' events come back pruned: nothing left to show."""
    return bool(getattr(event, "content", None))


def _token_position(token: str) -> int:
    if token.isascii() and token.isdigit() and len(token) <= 18:
        return int(token)
    raise InputError(f"无效的分页标记“{excerpt(token)}”")
