# SPDX-License-Identifier: AGPL-3.0-or-later
"""Pure unit tests: which media a message references, and the search helpers favourites
and saved groups share (run against SQLite's real LIKE)."""

import sqlite3

from twisted.trial import unittest

from modules.common.mxc import local_media_id, local_media_ids, mxc_uris
from modules.common.storage import fold, like_contains


class MediaRefsTest(unittest.TestCase):
    def test_every_media_key_nested_once(self) -> None:
        content = {
            "msgtype": "m.video",
            "body": "mxc://not/a-key",
            "url": "mxc://here.jwwx/video1",
            "info": {"thumbnail_url": "mxc://here.jwwx/thumb1", "w": 10},
            "file": {"url": "mxc://other.jwwx/enc1"},
            "m.new_content": [{"url": "mxc://here.jwwx/video1"}],
            "external_url": "https://example.org/x",
        }
        self.assertEqual(
            mxc_uris(content),
            [
                "mxc://here.jwwx/video1",
                "mxc://here.jwwx/thumb1",
                "mxc://other.jwwx/enc1",
            ],
        )
        self.assertEqual(local_media_ids(content, "here.jwwx"), ["video1", "thumb1"])
        self.assertIsNone(local_media_id("mxc://other.jwwx/x", "here.jwwx"))
        self.assertIsNone(local_media_id("mxc://here.jwwx/", "here.jwwx"))
        self.assertEqual(mxc_uris({"msgtype": "m.text", "body": "hi"}), [])

    def test_search_helpers(self) -> None:
        self.assertEqual(fold("ＡＢＣ１２３ Ｐｌａｎ"), "abc123 plan")
        db = sqlite3.connect(":memory:")
        db.execute("CREATE TABLE t (s TEXT)")
        db.executemany(
            "INSERT INTO t VALUES (?)", [("100%完成",), ("100完成",), ("a_b",), ("ab",)]
        )

        def found(term: str) -> list[str]:
            rows = db.execute(
                "SELECT s FROM t WHERE s LIKE ? ESCAPE '\\' ORDER BY s",
                (like_contains(term),),
            )
            return [row[0] for row in rows]

        self.assertEqual(found("0%完"), ["100%完成"])
        self.assertEqual(found("a_"), ["a_b"])
        self.assertEqual(found("完成"), ["100%完成", "100完成"])
