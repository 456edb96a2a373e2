# SPDX-License-Identifier: AGPL-3.0-or-later
"""Unit tests of keyword normalisation, matching and text extraction."""

import time

from twisted.trial import unittest

from modules.policy.extract import create_room_texts, event_texts
from modules.policy.matcher import KeywordMatcher, html_to_text, normalise


class NormaliseTest(unittest.TestCase):
    def test_invisible_and_space_characters_vanish(self) -> None:
        self.assertEqual(
            normalise("a\u200bb\u200cc\u200dd\u2060e\ufefff g\u00a0h\u3000i"),
            "abcdefghi",
        )

    def test_case_and_width_fold(self) -> None:
        self.assertEqual(normalise("ＳｅＣｒＥＴ"), "secret")
        self.assertEqual(normalise("Straße"), "strasse")

    def test_html_to_text(self) -> None:
        self.assertEqual(html_to_text("<b>绝</b>&lt;密&gt;"), "绝<密>")


class MatcherTest(unittest.TestCase):
    def test_finds_keyword_anywhere_in_any_text(self) -> None:
        matcher = KeywordMatcher(["敏感", "Plan B"])
        self.assertEqual(matcher.first_match(["nothing", "有敏感内容"]), "敏感")
        self.assertEqual(matcher.first_match(["the p l a n b"]), "Plan B")
        self.assertIsNone(matcher.first_match(["完全正常", ""]))

    def test_empty_matcher_matches_nothing(self) -> None:
        self.assertIsNone(KeywordMatcher([]).first_match(["任何内容"]))
        self.assertIsNone(KeywordMatcher([" ", "\u200b"]).first_match(["任何内容"]))

    def test_thousands_of_keywords_stay_fast(self) -> None:
        # Linear-time scanning: 20,000 keywords must not make a 2,000-char text slow
        # relative to 10 keywords (a loop of `in` would be ~2,000x slower).
        many = KeywordMatcher([f"词{i:05d}号" for i in range(20000)])
        few = KeywordMatcher([f"词{i:05d}号" for i in range(10)])
        text = ["正常内容" * 500]

        def cost(matcher: KeywordMatcher) -> float:
            start = time.perf_counter()
            for _ in range(50):
                self.assertIsNone(matcher.first_match(text))
            return time.perf_counter() - start

        self.assertLess(cost(many), cost(few) * 20 + 0.05)


class ExtractTest(unittest.TestCase):
    def test_message_fields(self) -> None:
        content = {
            "body": "b",
            "formatted_body": "<i>f</i>",
            "filename": "n.pdf",
            "org.matrix.msc3488.location": {"description": "d"},
            "m.new_content": {"body": "e"},
        }
        self.assertEqual(
            list(event_texts("m.room.message", content)), ["b", "f", "n.pdf", "d", "e"]
        )

    def test_other_events(self) -> None:
        self.assertEqual(list(event_texts("m.room.topic", {"topic": "t"})), ["t"])
        self.assertEqual(list(event_texts("m.reaction", {"body": "x"})), [])
        self.assertEqual(list(event_texts("m.room.message", {"body": 3})), [])

    def test_create_room(self) -> None:
        config = {
            "name": "n",
            "topic": "t",
            "initial_state": [{"type": "m.room.name", "content": {"name": "s"}}],
        }
        self.assertEqual(list(create_room_texts(config)), ["n", "t", "s"])
