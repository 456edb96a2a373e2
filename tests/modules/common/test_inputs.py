# SPDX-License-Identifier: AGPL-3.0-or-later
"""The input boundary's parsers without a server (modules/common/inputs.py)."""

import json

from twisted.trial import unittest

from modules.common.inputs import (
    InputError,
    check_json_value,
    decimal,
    excerpt,
    json_too_deep,
    parse_int,
    parse_json,
    sanitise_message,
)


class InputsTest(unittest.TestCase):
    def test_excerpt_is_short_and_printable(self) -> None:
        self.assertEqual(excerpt("abc"), "abc")
        self.assertEqual(len(excerpt("u" * 1_000_000)), 33)
        self.assertEqual(excerpt("a\x00b\ud800"), "a\\u0000b\\ud800")
        self.assertLessEqual(len(sanitise_message("x" * 5000)), 201)
        # what the writer sends must encode
        sanitise_message("\udfff" * 10).encode("utf-8")

    def test_json_depth_is_decided_before_parsing(self) -> None:
        self.assertFalse(json_too_deep(b'{"a": [1, {"b": "[[[[[[[[["}]}', 3))
        self.assertTrue(json_too_deep(b"[[[[1]]]]", 3))
        self.assertFalse(json_too_deep(b"[[[1]]]", 3))
        self.assertFalse(json_too_deep(b'"\\"[[[[[["', 2))
        self.assertTrue(json_too_deep(b"[" * 100_000 + b"]" * 100_000))
        self.assertFalse(json_too_deep(b"[]" * 100_000))
        # Brackets that pair with nothing (the parser refuses those) stop the count.
        self.assertFalse(json_too_deep(b"[}" * 100, 3))
        self.assertFalse(json_too_deep(b"]]]]" + b"[[]]", 3))
        self.assertTrue(json_too_deep(b"]" + b"[{[[1]]}]", 3))
        with self.assertRaises(InputError) as caught:
            parse_json(b"[" * 100_000 + b"]" * 100_000)
        self.assertEqual((caught.exception.code, caught.exception.wecom), (400, 47001))

    def test_json_values_refused(self) -> None:
        for raw in (
            b'{"a": "\\u0000"}',
            b'{"\\ud800": 1}',
            b'["\\udc00"]',
            b'{"n": 9223372036854775808}',
            b'{"n": -9223372036854775809}',
            b'{"n": NaN}',
            b'{"n": Infinity}',
            b'{"n": 1' + b"0" * 5000 + b"}",
            b"\xff\xfe",
            b"{",
        ):
            with self.assertRaises(InputError, msg=raw[:40]):
                parse_json(raw)
        self.assertEqual(
            parse_json(b'{"ok": "\\ud83d\\ude00", "n": 9223372036854775807}'),
            {"ok": "😀", "n": 2**63 - 1},
        )
        check_json_value(json.loads('{"a": [1.5, true, null, "x"]}'))

    def test_integers(self) -> None:
        self.assertEqual(parse_int("42", "n"), 42)
        self.assertEqual(parse_int(None, "n", default=7), 7)
        for text in ("²", "٣", "9" * 5000, "18446744073709551616", "-1", " 1", "1e3"):
            with self.assertRaises(InputError, msg=text[:20]):
                parse_int(text, "n")
        with self.assertRaises(InputError):
            parse_int(None, "n")
        self.assertIsNone(decimal("²"))
        self.assertIsNone(decimal("9" * 19))
        self.assertEqual(decimal("0012", 12), 12)
