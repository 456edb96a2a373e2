# SPDX-License-Identifier: AGPL-3.0-or-later
"""The /search body check (modules/search/request_check.py): what Element and the spec
send passes; every wrong type the handler would answer 500 to is a 400 naming the
field (over HTTP: test_search.test_bad_input)."""

from typing import Any

from twisted.trial import unittest

from modules.common.inputs import InputError
from modules.search.request_check import check_search_body


def body(**events: Any) -> dict[str, Any]:
    return {"search_categories": {"room_events": {"search_term": "协查", **events}}}


class RequestCheckTest(unittest.TestCase):
    def test_what_clients_send_passes(self) -> None:
        check_search_body(body())
        check_search_body({"search_categories": {}})  # nothing of ours
        check_search_body(
            body(
                keys=["content.body"],
                order_by="recent",
                filter={"limit": 10, "rooms": ["!a:x"], "lazy_load_members": True},
                event_context={
                    "before_limit": 1,
                    "after_limit": 1,
                    "include_profile": True,
                },
                groupings={"group_by": [{"key": "room_id"}, {"key": "sender"}]},
                include_state=False,
            )
        )

    def test_wrong_types_name_the_field(self) -> None:
        for bad, field in [
            (body(filter={"limit": "many"}), "filter.limit"),
            (body(filter={"limit": True}), "filter.limit"),
            (body(filter={"limit": 0}), "filter.limit"),
            (body(filter={"rooms": "!a:x"}), "filter.rooms"),
            (body(filter=[]), "filter"),
            (body(event_context={"before_limit": "x"}), "before_limit"),
            (body(event_context=[]), "event_context"),
            (body(groupings={"group_by": [{"key": "colour"}]}), "group_by"),
            (body(keys="content.body"), "keys"),
            (body(keys=["content.secret"]), "keys"),
            (body(include_state="yes"), "include_state"),
            (body(order_by="sideways"), "order_by"),
            (body(search_term=12), "search_term"),
            ({"search_categories": {"room_events": []}}, "room_events"),
            ({"search_categories": []}, "search_categories"),
            ([], "JSON"),
        ]:
            with self.assertRaises(InputError, msg=str(bad)) as caught:
                check_search_body(bad)
            self.assertEqual(caught.exception.code, 400)
            self.assertIn(field, caught.exception.msg)
