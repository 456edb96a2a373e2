# SPDX-License-Identifier: AGPL-3.0-or-later
"""Unit tests of keyword normalisation, matching and text extraction."""

import time

from twisted.trial import unittest

from modules.policy.extract import content_texts, create_room_texts, event_texts
from modules.policy.matcher import KeywordMatcher, normalise
from modules.policy.normalise import display_order, han_table, html_views


class NormaliseTest(unittest.TestCase):
    def test_invisible_and_space_characters_vanish(self) -> None:
        self.assertEqual(
            normalise("a\u200bb\u200cc\u200dd\u2060e\ufefff g\u00a0h\u3000i"),
            "abcdefghi",
        )

    def test_default_ignorables_outside_the_bmp_vanish(self) -> None:
        for invisible in (
            "\U000e0100",
            "\U000e01ef",
            "\U0001d173",
            "\U0001d17a",
            "\U0001bca0",
            "\U0001bca3",
            "\U00013430",
            "\U0001343f",
            "\U000e0001",
            "\U000e0fff",  # unassigned, still default-ignorable
            "\u2065",  # unassigned in the BMP, default-ignorable
            "\u034f",
            "\u3164",
            "\u2800",
        ):
            self.assertEqual(normalise(f"协{invisible}查"), "协查", hex(ord(invisible)))

    def test_case_and_width_fold(self) -> None:
        self.assertEqual(normalise("ＳｅＣｒＥＴ"), "secret")
        self.assertEqual(normalise("Straße"), "strasse")

    def test_traditional_and_variant_forms_fold_to_simplified(self) -> None:
        for text in ("協查通報", "协查通報", "协査通报", "協査通報"):
            self.assertEqual(normalise(text), "协查通报", text)
        for text in ("絕密", "絶密", "绝密"):
            self.assertEqual(normalise(text), "绝密", text)
        # Simplified text is left as it is (a Taiwan variant table maps 么 → 幺).
        for text in ("什么", "干部", "后来", "头发", "一只"):
            self.assertEqual(normalise(text), text)

    def test_han_table_comes_from_opencc_and_is_a_fixed_point(self) -> None:
        table = han_table()
        self.assertGreater(len(table), 4000)
        for source, target in table.items():
            self.assertEqual(table.get(target, target), target, source)

    def test_filler_symbols_vanish_but_sentence_punctuation_stays(self) -> None:
        for text in ("协*查*通*报", "协．查．通．报", "协·查・通•报", "协_查-通~报"):
            self.assertEqual(normalise(text), "协查通报", text)
        self.assertEqual(normalise("协查，通报"), "协查,通报")
        self.assertEqual(normalise("协查。通报"), "协查。通报")

    def test_display_order(self) -> None:
        self.assertEqual(normalise(display_order("\u202e报通查协\u202c")), "协查通报")
        self.assertEqual(normalise(display_order("\u200f通报\u200f协查")), "协查通报")
        self.assertEqual(display_order("普通中文"), "普通中文")

    def test_html_views(self) -> None:
        views = list(html_views('<b>绝</b>&lt;密&gt;<span title="标题">x</span>'))
        self.assertIn("绝<密>x", views)
        self.assertIn("标题", views)
        self.assertIn("协查通报", html_views('协<span title=">">查通报</span>'))
        self.assertIn("协查通报", html_views("协<!-- > -->查通报"))

    def test_html_views_without_hidden_content(self) -> None:
        for markup in (
            "协<script>x</script>查通报",
            "协<mx-reply>x</mx-reply>查通报",
            '协<font data-mx-color="#ffffff">x</font>查通报',
            "协<span data-mx-spoiler>x</span>查通报",
        ):
            self.assertIn("协查通报", list(html_views(markup)), markup)
        # A void element with a hiding attribute hides nothing after it.
        self.assertIn("ab", list(html_views('a<img style="x">b')))


class MatcherTest(unittest.TestCase):
    def test_finds_keyword_anywhere_in_any_text(self) -> None:
        matcher = KeywordMatcher(["敏感", "Plan B"])
        self.assertEqual(matcher.first_match(["nothing", "有敏感内容"]), "敏感")
        self.assertEqual(matcher.first_match(["the p l a n b"]), "Plan B")
        self.assertIsNone(matcher.first_match(["完全正常", ""]))

    def test_keywords_are_normalised_too(self) -> None:
        matcher = KeywordMatcher(["協查通報"])
        self.assertEqual(matcher.first_match(["协查通报"]), "協查通報")

    def test_views_are_matched(self) -> None:
        matcher = KeywordMatcher(["协查通报"])
        self.assertIsNotNone(matcher.first_match(["\u202e报通查协\u202c"]))
        self.assertIsNotNone(matcher.first_match([("协<i>查</i>通报", True)]))
        self.assertIsNotNone(matcher.first_match(["协<!-- > -->查通报"]))
        self.assertIsNone(matcher.first_match(["协查<br>通知"]))

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
    def test_every_string_and_key_except_identifiers(self) -> None:
        content = {
            "body": "b",
            "formatted_body": "<i>f</i>",
            "url": "mxc://x/secret",
            "m.relates_to": {"rel_type": "m.annotation", "event_id": "$e", "key": "k"},
            "org.matrix.msc3381.poll.start": {"answers": [{"m.text": "a1"}]},
            "custom": {"深": ["层"]},
        }
        texts = set(event_texts("m.room.message", None, content))
        for expected in ("b", "k", "a1", "深", "层", "custom", "m.relates_to"):
            self.assertIn((expected, False), texts)
        self.assertIn(("<i>f</i>", True), texts)
        self.assertNotIn(("mxc://x/secret", False), texts)
        self.assertNotIn(("$e", False), texts)
        self.assertIn(("m.room.message", False), texts)

    def test_state_key_and_type(self) -> None:
        texts = list(event_texts("x.自定义", "键", {}))
        self.assertEqual(texts, [("x.自定义", False), ("键", False)])
        self.assertEqual(
            list(content_texts({"n": 3, "b": True})), [("n", False), ("b", False)]
        )

    def test_create_room(self) -> None:
        config = {
            "name": "n",
            "topic": "t",
            "room_alias_name": "a",
            "creation_content": {"x": "c"},
            "initial_state": [{"type": "m.room.name", "content": {"name": "s"}}],
        }
        values = {text for text, _html in create_room_texts(config)}
        self.assertTrue({"n", "t", "a", "c", "s", "m.room.name"} <= values, values)
