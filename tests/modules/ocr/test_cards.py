# SPDX-License-Identifier: AGPL-3.0-or-later
"""Fields from OCR lines (no engine): labels split the text, the ID number's check
character and what it encodes are verified."""

import random
import unittest
from datetime import date

from benchmarks.ocr_cards import id_number, person
from modules.ocr.cards import (
    driving_licence,
    id_card,
    id_card_back,
    id_card_side,
    id_number_valid,
)
from modules.ocr.engine import Line, reading_order


class CardsTest(unittest.TestCase):
    def test_id_numbers(self) -> None:
        self.assertTrue(id_number_valid("11010519491231002X"))
        self.assertFalse(id_number_valid("110105194912310021"))  # wrong check
        self.assertFalse(id_number_valid("110105194902300024"))  # 30 February
        self.assertFalse(id_number_valid("11010519491231002"))
        rng = random.Random(3)
        for _ in range(200):
            self.assertTrue(id_number_valid(person(rng).number))

    def test_id_card_lines_as_the_engine_gives_them(self) -> None:
        number = id_number("330106", date(1985, 3, 7), 1)
        lines = [
            "姓名", "张三丰", "性别", "男民族汉", "出生", "1985年3月7日", "住址",
            "浙江省杭州市西湖区文三", "路100号", f"公民身份号码{number}",
        ]  # fmt: skip
        fields = id_card(lines)
        self.assertEqual(
            {k: fields[k] for k in ("name", "sex", "nation", "birth", "address")},
            {
                "name": "张三丰",
                "sex": "男",
                "nation": "汉",
                "birth": "1985-03-07",
                "address": "浙江省杭州市西湖区文三路100号",
            },
        )
        self.assertEqual(fields["id_number"], number)
        self.assertTrue(fields["id_number_valid"] and fields["consistent"])
        # A printed birth date that the number contradicts.
        other = id_card([*lines[:5], "1985年3月8日", *lines[6:]])
        self.assertTrue(other["id_number_valid"])
        self.assertFalse(other["consistent"])
        self.assertEqual(id_card(["随便", "一段文字"])["id_number"], "")

    def test_driving_licence(self) -> None:
        number = id_number("110105", date(1990, 1, 2), 12)
        lines = [
            "中华人民共和国机动车驾驶证", f"证号{number}", "姓名李四", "性别女",
            "国籍中国", "住址北京市朝阳区人民路8号", "出生日期1990-01-02",
            "初次领证日期2010-05-06", "准驾车型C1", "有效期限2016-05-06至2026-05-06",
        ]  # fmt: skip
        fields = driving_licence(lines)
        self.assertEqual(
            fields,
            {
                "licence_number": number,
                "licence_number_valid": True,
                "name": "李四",
                "sex": "女",
                "nationality": "中国",
                "address": "北京市朝阳区人民路8号",
                "birth": "1990-01-02",
                "first_issue": "2010-05-06",
                "class": "C1",
                "valid_from": "2016-05-06",
                "valid_to": "2026-05-06",
            },
        )

    def test_driving_licence_labels_misread(self) -> None:
        # A label read with one wrong character still cuts its value (a name's own
        # 国 is not taken for 国籍: labels are looked for in the card's order).
        number = id_number("110105", date(1990, 1, 2), 12)
        lines = [
            f"证号{number}", "娃名张国强", "性别男", "国藉中国",
            "住址北京市朝阳区人民路8号", "出生日期1990-01-02", "初次领证日期2010-05-06",
            "准驾车型C1", "有效期限2016-05-06至2026-05-06",
        ]  # fmt: skip
        fields = driving_licence(lines)
        self.assertEqual(
            [fields[k] for k in ("name", "sex", "nationality", "address", "class")],
            ["张国强", "男", "中国", "北京市朝阳区人民路8号", "C1"],
        )
        self.assertEqual(driving_licence(["一段文字"])["name"], "")

    def test_id_card_back(self) -> None:
        lines = [
            "中华人民共和国", "居民身份证", "签发机关", "杭州市公安局西湖分局",
            "有效期限", "2015.03.07-2035.03.07",
        ]  # fmt: skip
        self.assertEqual(id_card_side(lines), "back")
        self.assertEqual(
            id_card_back(lines),
            {
                "authority": "杭州市公安局西湖分局",
                "valid_from": "2015-03-07",
                "valid_to": "2035-03-07",
            },
        )
        # A card without end; a comma read for a dot; a date that is none.
        long_term = id_card_back(["签发机关北京市公安局", "有效期限2001,01.02-长期"])
        self.assertEqual(
            (long_term["authority"], long_term["valid_from"], long_term["valid_to"]),
            ("北京市公安局", "2001-01-02", "长期"),
        )
        self.assertEqual(
            id_card_back(["有效期限2001.02.30-2011.02.30"])["valid_to"], ""
        )
        # The front (and anything else) is not the back.
        number = id_number("330106", date(1985, 3, 7), 1)
        self.assertEqual(
            id_card_side(["姓名", "张三", f"公民身份号码{number}"]), "front"
        )
        self.assertEqual(id_card_side(["一段文字"]), "front")

    def test_reading_order(self) -> None:
        def line(text: str, x: int, y: int) -> Line:
            return Line(text, 1.0, ((x, y), (x + 50, y), (x + 50, y + 30), (x, y + 30)))

        ordered = reading_order(
            [line("民族", 300, 102), line("性别", 10, 100), line("姓名", 10, 40)]
        )
        self.assertEqual([x.text for x in ordered], ["姓名", "性别", "民族"])
