# SPDX-License-Identifier: AGPL-3.0-or-later
"""The unified search of our clients: GET /_jwwx/client/v1/search (access token).

    ?q=协查            what to find (a substring; whitespace-separated terms are ANDed)
    &kinds=messages,files,images,groups,contacts,departments,favorites,apps
                       default all; each answered and paged alone
    &limit=20          per kind (1..50)
    &from=<next_batch> with exactly one kind: the next page of that kind
    &sender=@a:hs      only from these senders (comma-separated user ids)
    &sender_name=zs    only from senders whose name, pinyin, initials or localpart
                       contains this (张三: zhangsan, zs)
    &room=!r:hs        only in these rooms (comma-separated; still only joined ones)
    &since=, &until=   origin_server_ts range in ms (since ≤ ts < until)

Answer: {"highlights": [...], "<kind>": {"results": [...], "count"?: n,
"next_batch"?: "..."}}. The filters apply to messages, files and images. q may be empty
for files, images and favorites (their newest), and for messages with a sender filter.
groups: the officer's rooms whose name, or a joined member's name, contains q (also as
pinyin or initials). contacts, departments, favorites, apps: other_kinds.py. For every
kind but messages, files and images `from` is an offset.
"""

from typing import Any

from synapse.module_api import ModuleApi

from modules.common.errors import missing_param
from modules.common.http import JsonResource
from modules.common.inputs import InputError, excerpt, parse_int, query_param
from modules.common.runtime import ModuleRuntime
from modules.search.other_kinds import OtherKinds
from modules.search.searcher import Page, Searcher
from modules.search.text import highlights, query_phrases

PREFIX = "/_jwwx/client/v1/search"
# Kinds answered from the message index, with the index's kinds they cover.
MESSAGE_KINDS: dict[str, tuple[str, ...]] = {
    "messages": ("text", "location", "other"),
    "files": ("file", "video", "audio"),
    "images": ("image",),
}
# Kinds answered elsewhere (paged by offset).
OTHER_KINDS = ("groups", "contacts", "departments", "favorites", "apps")
KINDS = (*MESSAGE_KINDS, *OTHER_KINDS)
# Kinds that list their newest without q.
LIST_WITHOUT_QUERY = ("files", "images", "favorites")
PARAMS = {
    "q",
    "kinds",
    "limit",
    "from",
    "sender",
    "sender_name",
    "room",
    "since",
    "until",
}
MAX_LIST = 50
MAX_OFFSET = 10000  # offsets of the kinds paged by offset
TS_MAX = 2**53


class SearchResource(JsonResource):
    prefix = PREFIX

    def __init__(
        self, api: ModuleApi, runtime: ModuleRuntime, searcher: Searcher
    ) -> None:
        super().__init__(api)
        self._runtime = runtime
        self._searcher = searcher
        self._others = OtherKinds(api)

    async def on_GET(self, request: Any) -> tuple[int, Any]:  # noqa: N802
        user_id = await self.requester_id(request)
        await self._runtime.ready()
        unknown = sorted(
            name.decode("utf-8", "replace")
            for name in request.args
            if name.decode("utf-8", "replace") not in PARAMS | {"access_token"}
        )
        if unknown:
            raise InputError(f"未知的搜索参数“{excerpt(unknown[0])}”")
        term = query_param(request, "q") or ""
        self._searcher.check_term(term)
        kinds = _kinds(query_param(request, "kinds"))
        limit = parse_int(query_param(request, "limit"), "limit", 1, 50, 20)
        start = query_param(request, "from")
        if start is not None and len(kinds) != 1:
            raise InputError("from 只能与一个 kinds 一起使用")
        before = parse_int(start, "from", 0, 2**62) if start else None
        rooms = _ids(query_param(request, "room"), "room", "!")
        senders = _ids(query_param(request, "sender"), "sender", "@")
        sender_name = query_param(request, "sender_name") or ""
        self._searcher.check_term(sender_name)
        since = query_param(request, "since")
        until = query_param(request, "until")
        since_ts = parse_int(since, "since", 0, TS_MAX) if since else None
        until_ts = parse_int(until, "until", 0, TS_MAX) if until else None
        by_sender = bool(senders or sender_name.strip())
        if not term.strip() and any(
            kind not in LIST_WITHOUT_QUERY and not (kind == "messages" and by_sender)
            for kind in kinds
        ):
            raise missing_param("请输入搜索内容 q")
        nobody = False  # the sender filters leave nobody: no message matches
        if sender_name.strip():
            named = await self._searcher.people(sender_name)
            senders = tuple(s for s in named if not senders or s in senders)
            nobody = not senders
        phrases = query_phrases(term)
        answer: dict[str, Any] = {"highlights": highlights(term)}
        for kind in kinds:
            if kind in OTHER_KINDS:
                answer[kind] = await self._other(
                    kind, user_id, term, rooms, limit, before
                )
                continue
            if nobody or (term.strip() and not phrases):  # or only separators typed
                answer[kind] = {"results": [], "count": 0}
                continue
            page = await self._searcher.page(
                user_id,
                phrases,
                MESSAGE_KINDS[kind],
                limit,
                before,
                rooms or None,
                senders,
                since_ts,
                until_ts,
            )
            answer[kind] = _page_json(page)
        return 200, answer

    async def _other(
        self,
        kind: str,
        user_id: str,
        term: str,
        rooms: tuple[str, ...],
        limit: int,
        start: int | None,
    ) -> dict[str, Any]:
        offset = min(start or 0, MAX_OFFSET)
        if kind == "groups":
            return await self._groups(user_id, term, rooms or None, limit, offset)
        read = getattr(self._others, kind)
        return dict(await read(user_id, term, limit, offset))

    async def _groups(
        self,
        user_id: str,
        term: str,
        rooms: tuple[str, ...] | None,
        limit: int,
        offset: int,
    ) -> dict[str, Any]:
        if not term.strip():
            return {"results": [], "count": 0}
        found, count = await self._searcher.rooms(user_id, term, rooms, limit, offset)
        answer: dict[str, Any] = {
            "results": [
                {
                    "room_id": match.room_id,
                    "name": match.name,
                    "members": [
                        {"user_id": user, "displayname": shown}
                        for user, shown in match.members
                    ],
                }
                for match in found
            ],
            "count": count,
        }
        if offset + len(found) < count:
            answer["next_batch"] = str(offset + len(found))
        return answer


def _kinds(text: str | None) -> list[str]:
    if not text:
        return list(KINDS)
    kinds: list[str] = []
    for kind in text.split(","):
        if kind not in KINDS:
            raise InputError(
                f"未知的搜索类别“{excerpt(kind)}”，可选：{', '.join(KINDS)}"
            )
        if kind not in kinds:
            kinds.append(kind)
    return kinds


def _ids(text: str | None, name: str, sigil: str) -> tuple[str, ...]:
    if not text:
        return ()
    ids = tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    if len(ids) > MAX_LIST:
        raise InputError(f"{name} 最多 {MAX_LIST} 个")
    for each in ids:
        if not each.startswith(sigil) or ":" not in each or len(each) > 255:
            raise InputError(f"{name} 不是合法的标识“{excerpt(each)}”")
    return ids


def _page_json(page: Page) -> dict[str, Any]:
    results = []
    for hit, event in page.items:
        content = event.content
        item: dict[str, Any] = {
            "event_id": hit.event_id,
            "room_id": hit.room_id,
            "sender": hit.sender,
            "origin_server_ts": hit.origin_ts,
            "msgtype": hit.msgtype,
            "body": page.edited.get(hit.event_id)
            or (content.get("body") if isinstance(content.get("body"), str) else ""),
        }
        if hit.mxc is not None or hit.file_name is not None:
            info = content.get("info")
            size = info.get("size") if hasattr(info, "get") else None
            item["file"] = {
                "name": hit.file_name,
                "mimetype": hit.mimetype,
                "url": hit.mxc,
                "size": size if isinstance(size, int) else None,
            }
        results.append(item)
    answer: dict[str, Any] = {"results": results, "count": page.count}
    if page.next_before is not None:
        answer["next_batch"] = str(page.next_before)
    return answer
