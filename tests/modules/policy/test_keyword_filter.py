# SPDX-License-Identifier: AGPL-3.0-or-later
"""The keyword filter and no-encryption policy, end to end against a real server."""

from typing import Any

from tests.harness.case import PostgresCase, SQLiteCase

KEYWORDS_PATH = "/_jwwx/admin/v1/policy/keywords"
CONFIG_KEYWORD = "配置敏感词"


def _bodies(events: list[dict[str, Any]]) -> list[str]:
    return [
        e["content"].get("body", "") for e in events if e["type"] == "m.room.message"
    ]


class KeywordFilterTests:
    keywords = (CONFIG_KEYWORD,)

    async def _pair(self) -> tuple[Any, Any, str]:
        alice, bob = self.user("alice"), self.user("bob")
        room = await alice.create_room(preset="private_chat", invite=[bob.user_id])
        await bob.join(room)
        await bob.sync()
        return alice, bob, room

    async def _set_keywords(self, admin: Any, keywords: list[str]) -> dict[str, Any]:
        return await admin.ok("PUT", KEYWORDS_PATH, {"keywords": keywords})

    async def test_allowed_message_is_delivered(self) -> None:
        alice, bob, room = await self._pair()
        status, body = await alice.send_text(room, "今天下午三点开会")
        self.assertEqual(status, 200, body)
        events = await bob.sync_timeline_until(
            room, lambda e: e["content"].get("body") == "今天下午三点开会"
        )
        self.assertIn("今天下午三点开会", _bodies(events))

    async def test_blocked_message_is_refused_and_never_stored(self) -> None:
        alice, bob, room = await self._pair()
        answer = await alice.send_text(room, f"这里有{CONFIG_KEYWORD}哦")
        body = self.assertErrcode(answer, 403, "CN_JWWX_KEYWORD_BLOCKED")
        self.assertEqual(body["error"], "消息包含敏感词，无法发送")
        self.assertEqual(body["cn.jwwx.reason"], "keyword")
        # A later harmless message arrives; the refused one never does.
        await alice.send_text(room, "marker")
        events = await bob.sync_timeline_until(
            room, lambda e: e["content"].get("body") == "marker"
        )
        self.assertNotIn(f"这里有{CONFIG_KEYWORD}哦", _bodies(events))
        history = _bodies(await alice.messages(room))
        self.assertFalse([b for b in history if CONFIG_KEYWORD in b], history)

    async def test_evasion_with_spaces_zero_width_and_width_forms_is_blocked(
        self,
    ) -> None:
        admin = self.user("admin", admin=True)
        await self._set_keywords(admin, ["SecretPlan", "涉密文件"])
        alice, _bob, room = await self._pair()
        attempts = [
            "the s e c r e t p l a n is ready",
            "the SECRET\u200bPLAN",
            "ｓｅｃｒｅｔｐｌａｎ full width",
            "涉\u200d密\u2060文\ufeff件",
            "涉 密\t文\n件",
        ]
        for text in attempts:
            self.assertErrcode(
                await alice.send_text(room, text), 403, "CN_JWWX_KEYWORD_BLOCKED"
            )

    async def test_every_text_field_is_checked(self) -> None:
        admin = self.user("admin", admin=True)
        await self._set_keywords(admin, ["绝密"])
        alice, _bob, room = await self._pair()
        contents = [
            {
                "msgtype": "m.text",
                "body": "ok",
                "format": "org.matrix.custom.html",
                "formatted_body": "<b>绝</b>密",
            },
            {
                "msgtype": "m.file",
                "body": "report.pdf",
                "filename": "绝密名单.pdf",
                "url": "mxc://x/y",
            },
            {"msgtype": "m.image", "body": "绝密.png", "url": "mxc://x/z"},
            {"msgtype": "m.location", "body": "绝密地点", "geo_uri": "geo:30.1,120.2"},
            {
                "msgtype": "m.location",
                "body": "here",
                "geo_uri": "geo:30.1,120.2",
                "org.matrix.msc3488.location": {
                    "uri": "geo:30.1,120.2",
                    "description": "绝密",
                },
            },
            {
                "msgtype": "m.text",
                "body": "* fixed",
                "m.new_content": {"msgtype": "m.text", "body": "绝密"},
            },
        ]
        for content in contents:
            self.assertErrcode(
                await alice.send(room, content), 403, "CN_JWWX_KEYWORD_BLOCKED"
            )
        status, _ = await alice.request(
            "PUT",
            f"/_matrix/client/v3/rooms/{room}/state/m.room.name/",
            {"name": "绝密群"},
        )
        self.assertEqual(status, 403)
        self.assertErrcode(
            await alice.request(
                "POST", "/_matrix/client/v3/createRoom", {"name": "绝密行动组"}
            ),
            403,
            "CN_JWWX_KEYWORD_BLOCKED",
        )

    async def test_admin_list_replacement_takes_effect_without_restart(self) -> None:
        admin = self.user("admin", admin=True)
        alice, _bob, room = await self._pair()
        self.assertEqual((await alice.send_text(room, "行动代号甲"))[0], 200)
        result = await self._set_keywords(admin, ["代号甲", "  代号乙  ", "代号乙"])
        self.assertEqual(result["count"], 2)
        self.assertErrcode(
            await alice.send_text(room, "行动代号甲"), 403, "CN_JWWX_KEYWORD_BLOCKED"
        )
        listed = await admin.ok("GET", KEYWORDS_PATH)
        self.assertEqual(listed["keywords"], ["代号乙", "代号甲"])
        self.assertEqual(listed["config_keywords"], [CONFIG_KEYWORD])
        self.assertEqual(listed["updated_by"], admin.user_id)
        # Replacing the list again lifts the block.
        await self._set_keywords(admin, [])
        self.assertEqual((await alice.send_text(room, "行动代号甲"))[0], 200)
        # Config keywords stay, whatever the stored list says.
        self.assertErrcode(
            await alice.send_text(room, CONFIG_KEYWORD), 403, "CN_JWWX_KEYWORD_BLOCKED"
        )

    async def test_test_box_answers_as_the_filter_does(self) -> None:
        admin = self.user("admin", admin=True)
        await self._set_keywords(admin, ["涉密文件", "代号丙"])
        alice, _bob, room = await self._pair()
        test = f"{KEYWORDS_PATH}/test"
        samples = [
            ("今天开会", []),
            ("這是涉密文件", ["涉密文件"]),  # Traditional
            ("涉\u200b密　文件和代号丙", ["涉密文件", "代号丙"]),
            ("<b>代号</b><!-- x -->丙", ["代号丙"]),  # markup in a plain body
            (f"配置{CONFIG_KEYWORD}", [CONFIG_KEYWORD]),
        ]
        for text, expected in samples:
            answer = await admin.ok("POST", test, {"text": text})
            self.assertEqual(answer["keywords"], expected, text)
            self.assertEqual(answer["blocked"], bool(expected))
            # The box says what sending it really does.
            status, _body = await alice.send_text(room, text)
            self.assertEqual(status, 403 if expected else 200, text)
        shown = await admin.ok("POST", test, {"text": "ＡＢＣ涉\u200b密"})
        self.assertEqual(shown["normalised"], "abc涉密")
        self.assertIsNone(shown["message"])
        html = await admin.ok(
            "POST", test, {"text": '<font color="#fff">代号</font>丙', "html": True}
        )
        self.assertEqual(html["keywords"], ["代号丙"])
        self.assertEqual(html["message"], "消息包含敏感词，无法发送")
        for body in ({"text": ""}, {"text": 3}, {"text": "x", "html": "yes"}, {}):
            self.assertErrcode(
                await admin.request("POST", test, body), 400, "M_INVALID_PARAM"
            )
        self.assertErrcode(
            await self.user("officer").request("POST", test, {"text": "涉密文件"}),
            403,
            "M_FORBIDDEN",
        )

    async def test_non_admin_cannot_read_or_change_the_list(self) -> None:
        admin = self.user("admin", admin=True)
        await self._set_keywords(admin, ["不变"])
        officer = self.user("officer")
        self.assertErrcode(
            await officer.request("PUT", KEYWORDS_PATH, {"keywords": []}),
            403,
            "M_FORBIDDEN",
        )
        self.assertErrcode(
            await officer.request("GET", KEYWORDS_PATH), 403, "M_FORBIDDEN"
        )
        self.assertErrcode(
            await self.anonymous().request("GET", KEYWORDS_PATH), 401, "M_MISSING_TOKEN"
        )
        self.assertEqual((await admin.ok("GET", KEYWORDS_PATH))["keywords"], ["不变"])

    async def test_bad_list_is_rejected_and_changes_nothing(self) -> None:
        admin = self.user("admin", admin=True)
        await self._set_keywords(admin, ["保留"])
        bad_bodies: list[Any] = [
            {"keywords": "保留"},
            {"keywords": ["ok", 3]},
            {"keywords": ["ok", " \u200b "]},
            {"keywords": ["x" * 101]},
            {},
            ["not", "an", "object"],
        ]
        for body in bad_bodies:
            status, answer = await admin.request("PUT", KEYWORDS_PATH, body)
            self.assertEqual(status, 400, (body, answer))
            self.assertIn(
                answer["errcode"], ("M_INVALID_PARAM", "M_MISSING_PARAM", "M_BAD_JSON")
            )
        status, answer = await admin.request("PUT", KEYWORDS_PATH, raw=b"{not json")
        self.assertErrcode((status, answer), 400, "M_NOT_JSON")
        self.assertEqual((await admin.ok("GET", KEYWORDS_PATH))["keywords"], ["保留"])

    async def test_encryption_is_refused(self) -> None:
        alice, _bob, room = await self._pair()
        status, body = await alice.request(
            "PUT",
            f"/_matrix/client/v3/rooms/{room}/state/m.room.encryption/",
            {"algorithm": "m.megolm.v1.aes-sha2"},
        )
        self.assertErrcode((status, body), 403, "CN_JWWX_ENCRYPTION_FORBIDDEN")
        encrypted_room = {
            "initial_state": [
                {
                    "type": "m.room.encryption",
                    "state_key": "",
                    "content": {"algorithm": "m.megolm.v1.aes-sha2"},
                }
            ]
        }
        self.assertErrcode(
            await alice.request(
                "POST", "/_matrix/client/v3/createRoom", encrypted_room
            ),
            403,
            "CN_JWWX_ENCRYPTION_FORBIDDEN",
        )
        # Server admins skip Synapse's room-creation spam check; the rules callback holds.
        admin = self.user("admin", admin=True)
        self.assertErrcode(
            await admin.request(
                "POST", "/_matrix/client/v3/createRoom", encrypted_room
            ),
            403,
            "CN_JWWX_ENCRYPTION_FORBIDDEN",
        )


class KeywordFilterSQLiteTest(KeywordFilterTests, SQLiteCase):
    pass


class KeywordFilterPostgresTest(KeywordFilterTests, PostgresCase):
    pass
