# SPDX-License-Identifier: AGPL-3.0-or-later
"""The body of POST /_matrix/client/v3/search, checked before Synapse's handler reads
it: the handler trusts the types of what it reads (a filter `limit` of "many", an
`event_context.before_limit` of "x" or a list where an object belongs are a 500 in
Synapse 1.163), so a wrong type or value is a 400 M_INVALID_PARAM naming the field
here."""

from typing import Any

from modules.common.inputs import InputError

KEYS = ("content.body", "content.name", "content.topic")
GROUP_KEYS = ("room_id", "sender")
ID_LISTS = ("senders", "not_senders", "rooms", "not_rooms", "types", "not_types")
MAX_LIMIT = 1000  # a page; Synapse fetches twice the limit
MAX_CONTEXT = 100  # events before/after each hit


def _fail(field: str, what: str) -> InputError:
    return InputError(f"search_categories.room_events.{field}: {what}")


def _int(value: Any, field: str, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(field, "应为整数")
    if not low <= value <= high:
        raise _fail(field, f"应在 {low} 到 {high} 之间")


def _strings(value: Any, field: str) -> None:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _fail(field, "应为字符串数组")


def _bool(value: Any, field: str) -> None:
    if not isinstance(value, bool):
        raise _fail(field, "应为 true 或 false")


def check_search_body(content: Any) -> None:
    if not isinstance(content, dict):
        raise InputError("请求体应为 JSON 对象")
    categories = content.get("search_categories")
    if not isinstance(categories, dict):
        raise InputError("search_categories 应为对象", "M_MISSING_PARAM")
    if "room_events" not in categories:
        return  # nothing of ours: Synapse answers
    events = categories["room_events"]
    if not isinstance(events, dict):
        raise InputError("search_categories.room_events 应为对象")
    if not isinstance(events.get("search_term"), str):
        raise _fail("search_term", "缺少或不是字符串")
    if "keys" in events:
        _strings(events["keys"], "keys")
        unknown = [k for k in events["keys"] if k not in KEYS]
        if unknown:
            raise _fail("keys", f"只能是 {', '.join(KEYS)}")
    if events.get("order_by", "rank") not in ("rank", "recent"):
        raise _fail("order_by", "应为 rank 或 recent")
    if "include_state" in events:
        _bool(events["include_state"], "include_state")
    _check_filter(events.get("filter", {}))
    context = events.get("event_context")
    if context is not None:
        if not isinstance(context, dict):
            raise _fail("event_context", "应为对象")
        for name in ("before_limit", "after_limit"):
            if name in context:
                _int(context[name], f"event_context.{name}", 0, MAX_CONTEXT)
        if "include_profile" in context:
            _bool(context["include_profile"], "event_context.include_profile")
    groupings = events.get("groupings", {})
    if not isinstance(groupings, dict):
        raise _fail("groupings", "应为对象")
    group_by = groupings.get("group_by", [])
    if not isinstance(group_by, list) or not all(
        isinstance(g, dict) and g.get("key") in GROUP_KEYS for g in group_by
    ):
        raise _fail("groupings.group_by", '应为 [{"key": "room_id" 或 "sender"}]')


def _check_filter(found: Any) -> None:
    if not isinstance(found, dict):
        raise _fail("filter", "应为对象")
    if "limit" in found:
        _int(found["limit"], "filter.limit", 1, MAX_LIMIT)
    for name in ID_LISTS:
        if name in found:
            _strings(found[name], f"filter.{name}")
    if "contains_url" in found:
        _bool(found["contains_url"], "filter.contains_url")
