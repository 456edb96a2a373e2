# SPDX-License-Identifier: AGPL-3.0-or-later
"""Search terms of names: characters, pinyin, initials, surnames and bounds."""

from twisted.trial import unittest

from modules.directory.pinyin import (
    MAX_VARIANTS,
    name_pinyin,
    name_search_terms,
    normalise_query,
    prefix_upper_bound,
)


def _terms(name: str) -> dict[str, int]:
    pairs = name_search_terms(name)
    terms = dict(pairs)
    assert len(terms) == len(pairs), "terms must be distinct"
    return terms


class NameSearchTermsTest(unittest.TestCase):
    def test_simple_name_with_ranks(self) -> None:
        self.assertEqual(
            name_search_terms("张三"),
            [("张三", 0), ("三", 1), ("zhangsan", 2), ("zs", 3), ("san", 4), ("s", 5)],
        )

    def test_three_characters(self) -> None:
        terms = _terms("王小明")
        for term, rank in (
            ("王小明", 0),
            ("小明", 1),
            ("明", 1),
            ("wangxiaoming", 2),
            ("wxm", 3),
            ("xiaoming", 4),
            ("ming", 4),
            ("xm", 5),
            ("m", 5),
        ):
            self.assertEqual(terms[term], rank, term)

    def test_polyphonic_surnames_read_as_surnames(self) -> None:
        for name, reading in (
            ("单雄信", "shanxiongxin"),
            ("曾国藩", "zengguofan"),
            ("解缙", "xiejin"),
            ("仇英", "qiuying"),
            ("区寄", "ouji"),
            ("朴志成", "piaozhicheng"),
            ("翟志刚", "zhaizhigang"),
        ):
            terms = _terms(name)
            self.assertEqual(terms.get(reading), 2, name)
            self.assertEqual(name_pinyin(name), reading)
        self.assertFalse([t for t in _terms("单雄信") if t.startswith("dan")])
        self.assertNotIn("cgf", _terms("曾国藩"))

    def test_compound_surnames_are_one_unit(self) -> None:
        terms = _terms("欧阳修")
        self.assertEqual(terms["ouyangxiu"], 2)
        self.assertEqual(terms["oyx"], 3)
        self.assertEqual(terms["xiu"], 4)
        self.assertEqual(terms["修"], 1)
        self.assertNotIn("yangxiu", terms)
        self.assertNotIn("阳修", terms)
        self.assertEqual(_terms("诸葛亮")["zhugeliang"], 2)
        self.assertEqual(_terms("尉迟恭")["yuchigong"], 2)
        self.assertEqual(_terms("长孙无忌")["zhangsunwuji"], 2)
        self.assertEqual(_terms("万俟卨")["moqixie"], 2)

    def test_non_chinese_parts(self) -> None:
        terms = _terms("买买提·艾力")
        self.assertEqual(terms["买买提艾力"], 0)
        self.assertEqual(terms["艾力"], 1)
        self.assertEqual(terms["maimaitiaili"], 2)
        self.assertEqual(terms["aili"], 4)
        self.assertFalse([t for t in terms if "·" in t])
        latin = _terms("Anna Li 2")
        self.assertEqual(latin["annali2"], 0)
        self.assertEqual(latin["li2"], 1)
        self.assertEqual(latin["al2"], 3)
        self.assertEqual(name_search_terms(" ·  "), [])

    def test_polyphonic_given_name_is_bounded(self) -> None:
        terms = _terms("张长乐")
        self.assertIn("zhangchangle", terms)
        full = [t for t, r in terms.items() if r == 2]
        self.assertGreater(len(full), 1)
        self.assertLessEqual(len(full), MAX_VARIANTS)
        # Every character polyphonic: still at most MAX_VARIANTS readings.
        many = _terms("乐长行重和朝")
        self.assertLessEqual(len([t for t, r in many.items() if r == 2]), MAX_VARIANTS)

    def test_smallest_rank_wins(self) -> None:
        # Latin units read as themselves: "lili" is the name (0) and its pinyin (2),
        # "li" a suffix (1) and a later unit's pinyin (4).
        terms = _terms("Li Li")
        self.assertEqual(terms, {"lili": 0, "li": 1, "ll": 3, "l": 5})
        ranks = [rank for _, rank in name_search_terms("王小明")]
        self.assertEqual(ranks, sorted(ranks))

    def test_fullwidth_and_case(self) -> None:
        self.assertEqual(_terms("ＡＢＣ")["abc"], 0)


class QueryTest(unittest.TestCase):
    def test_normalise_query(self) -> None:
        self.assertEqual(normalise_query(" Zhang San "), "zhangsan")
        self.assertEqual(normalise_query("买买提·艾力"), "买买提艾力")
        self.assertEqual(normalise_query("ＺＳ\u3000三"), "zs三")
        self.assertEqual(normalise_query("zhang.san"), "zhang.san")

    def test_prefix_upper_bound(self) -> None:
        self.assertEqual(prefix_upper_bound("zs"), "zt")
        self.assertEqual(prefix_upper_bound("张"), chr(ord("张") + 1))
        self.assertEqual(prefix_upper_bound("张三"), "张" + chr(ord("三") + 1))
        bound = prefix_upper_bound("zs")
        for term in ("zs", "zsa", "zs" + chr(0x10FFFF), "zs张三"):
            self.assertTrue("zs" <= term < bound, term)
        self.assertEqual(prefix_upper_bound("a" + chr(0x10FFFF)), "b")
        self.assertEqual(prefix_upper_bound("a\ud7ff"), "a\ue000")
        self.assertRaises(ValueError, prefix_upper_bound, "")

    def test_query_finds_name_by_prefix(self) -> None:
        terms = [t for t, _ in name_search_terms("欧阳修")]
        for query in ("欧阳", "ouy", "OY", "Xi", "修"):
            prefix = normalise_query(query)
            bound = prefix_upper_bound(prefix)
            self.assertTrue([t for t in terms if prefix <= t < bound], query)
