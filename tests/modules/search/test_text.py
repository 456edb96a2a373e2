# SPDX-License-Identifier: AGPL-3.0-or-later
"""Tokenisation (modules/search/text.py), what the index keeps of an event (extract.py)
and the engines' query syntax (storage.py), checked on SQLite's FTS5 in memory: a
query phrase must match exactly the texts that contain it as a substring."""

import sqlite3

from twisted.trial import unittest

from modules.search.extract import (
    Document,
    Edit,
    Forget,
    Membership,
    RoomName,
    action_of,
)
from modules.search.syntax import (
    fts5_match,
    tsquery_candidates,
    tsquery_literal,
    tsvector_literal,
)
from modules.search.text import highlights, index_tokens, name_text, query_phrases

TEXTS = [
    "关于协查通报的说明",
    "车牌 京A·12345 已布控",
    "身份证号110101199003071234请核实",
    "Police report 第2026-0815号案件",
    "协查，通报",
    "ＡＢＣ全角１２３",
]


def _matches(query: str) -> list[str]:
    db = sqlite3.connect(":memory:")
    db.execute(
        "CREATE VIRTUAL TABLE f USING fts5(terms,"
        " tokenize = 'unicode61 remove_diacritics 0', detail = full, prefix = '1')"
    )
    for i, text in enumerate(TEXTS):
        db.execute(
            "INSERT INTO f (rowid, terms) VALUES (?, ?)",
            (i, " ".join(index_tokens(text))),
        )
    phrases = query_phrases(query)
    if not phrases:
        return []
    rows = db.execute(
        "SELECT rowid FROM f WHERE f MATCH ? ORDER BY rowid", (fts5_match(phrases),)
    ).fetchall()
    return [TEXTS[row[0]] for row in rows]


class TokenTests(unittest.TestCase):
    def test_tokens(self) -> None:
        self.assertEqual(index_tokens("关于协查"), ["关于", "于协", "协查", "查"])
        self.assertEqual(index_tokens("京A12"), ["京", "a", "12", "2"])
        self.assertEqual(index_tokens("Hello, World"), ["hello", "world"])

    def test_substrings_are_found(self) -> None:
        cases = {
            "协查": [TEXTS[0], TEXTS[4]],
            "协查通报": [TEXTS[0]],  # not across the comma
            "协": [TEXTS[0], TEXTS[4]],
            "说明": [TEXTS[0]],
            "明": [TEXTS[0]],
            "12345": [TEXTS[1]],
            "2345": [TEXTS[1]],
            "1234": [TEXTS[1], TEXTS[2]],  # in the plate and in the ID number
            "京A12": [TEXTS[1]],
            "京a·123": [TEXTS[1]],
            "a12345": [TEXTS[1]],
            "19900307": [TEXTS[2]],
            "1234请核": [TEXTS[2]],
            "poli": [TEXTS[3]],
            "POLICE REP": [TEXTS[3]],
            "2026-0815": [TEXTS[3]],
            "0815号案": [TEXTS[3]],
            "abc": [TEXTS[5]],
            "123": [TEXTS[1], TEXTS[2], TEXTS[5]],
            "协查 说明": [TEXTS[0]],
            "查通报的说": [TEXTS[0]],
            "通协": [],
            "olice": [],  # words match from their start
        }
        for query, expected in cases.items():
            self.assertEqual(_matches(query), expected, query)

    def test_metacharacters_are_only_separators(self) -> None:
        for query in [
            '"',
            "*",
            '协查"',
            "(协查",
            "协查 OR",
            "NEAR(a b)",
            "'; --",
            "%_",
        ]:
            _matches(query)  # no FTS5 syntax error
        self.assertEqual(_matches('"协查'), [TEXTS[0], TEXTS[4]])
        self.assertEqual(query_phrases("  !!  "), [])

    def test_postgres_literals(self) -> None:
        self.assertEqual(tsvector_literal(["ab", "b", "ab"]), "'ab':1,3 'b':2")
        phrases = query_phrases("京A1 协查")
        self.assertEqual(
            tsquery_literal(phrases), "('京' <-> 'a' <-> '1':*) & ('协查')"
        )
        self.assertEqual(tsvector_literal(["o'k"]), "'o''k':1")
        # GIN's candidates: every token, no positions, no trailing 1-char prefix
        # (a lone prefix stays: it is all there is to look for).
        self.assertEqual(tsquery_candidates(phrases), "'京' & 'a' & '协查'")
        self.assertEqual(tsquery_candidates(query_phrases("协")), "'协':*")
        self.assertEqual(
            tsquery_candidates(query_phrases("协查通报 协查")),
            "'协查' & '查通' & '通报'",
        )

    def test_name_text(self) -> None:
        self.assertEqual(name_text("城东专班"), "城东专班 chengdongzhuanban cdzb")

    def test_highlights(self) -> None:
        self.assertEqual(highlights('协查 "京A12"'), ["协查", "京A12"])


class ExtractTests(unittest.TestCase):
    def test_actions(self) -> None:
        base = {"type": "m.room.message", "sender": "@a:hs", "origin_server_ts": 5}
        text = action_of(
            "$1",
            "!r:hs",
            {
                **base,
                "content": {
                    "msgtype": "m.text",
                    "body": "> <@b:hs> 旧消息\n\n回复内容",
                    "m.relates_to": {"m.in_reply_to": {"event_id": "$0"}},
                },
            },
        )
        assert isinstance(text, Document)
        self.assertEqual((text.kind, text.text), ("text", "回复内容"))
        html = action_of(
            "$2",
            "!r:hs",
            {
                **base,
                "content": {
                    "msgtype": "m.text",
                    "body": "plain",
                    "format": "org.matrix.custom.html",
                    "formatted_body": "<b>加粗</b>文字<mx-reply>引用</mx-reply>",
                },
            },
        )
        assert isinstance(html, Document)
        self.assertEqual(html.text, "plain\n加粗文字")
        file = action_of(
            "$3",
            "!r:hs",
            {
                **base,
                "content": {
                    "msgtype": "m.file",
                    "body": "协查通报.docx",
                    "url": "mxc://hs/abc",
                    "info": {"mimetype": "application/msword"},
                },
            },
        )
        assert isinstance(file, Document)
        self.assertEqual(
            (file.kind, file.file_name, file.mxc),
            ("file", "协查通报.docx", "mxc://hs/abc"),
        )
        edit = action_of(
            "$4",
            "!r:hs",
            {
                **base,
                "content": {
                    "msgtype": "m.text",
                    "body": "* 新",
                    "m.new_content": {"msgtype": "m.text", "body": "新内容"},
                    "m.relates_to": {"rel_type": "m.replace", "event_id": "$1"},
                },
            },
        )
        self.assertEqual(edit, Edit("$4", "$1", "@a:hs", 5, "新内容", "新内容"))
        redaction = action_of(
            "$5", "!r:hs", {"type": "m.room.redaction", "redacts": "$1", "content": {}}
        )
        self.assertEqual(redaction, Forget("$1"))
        burn = action_of(
            "$6",
            "!r:hs",
            {
                **base,
                "content": {
                    "msgtype": "m.text",
                    "body": "阅后即焚",
                    "org.matrix.self_destruct": 10000,
                },
            },
        )
        self.assertIsNone(burn)
        self.assertEqual(
            action_of(
                "$7",
                "!r:hs",
                {
                    **base,
                    "type": "m.room.name",
                    "state_key": "",
                    "content": {"name": "专班"},
                },
            ),
            RoomName("!r:hs", "专班"),
        )
        self.assertEqual(
            action_of(
                "$8",
                "!r:hs",
                {
                    **base,
                    "type": "m.room.member",
                    "state_key": "@b:hs",
                    "content": {"membership": "leave"},
                },
            ),
            Membership("!r:hs", "@b:hs", False, None),
        )
        self.assertIsNone(
            action_of("$9", "!r:hs", {**base, "type": "m.room.topic", "state_key": ""})
        )
