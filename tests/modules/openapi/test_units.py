# SPDX-License-Identifier: AGPL-3.0-or-later
"""Pure functions of the open API: config, message building, callback XML, OAuth URLs."""

import sqlite3
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from twisted.trial import unittest

from modules import openapi
from modules.common.synapse.errors import ConfigError
from modules.openapi import storage
from modules.openapi.callbacks import message_xml, wecom_msgid
from modules.openapi.config import OpenApiConfig
from modules.openapi.crypto import MsgCrypt, parse_xml
from modules.openapi.errors import WeComError
from modules.openapi.media import parse_upload
from modules.openapi.messages import build_content, markdown_html
from modules.openapi.oauth import OAuthError, redirect_target
from modules.openapi.redirect import parse_trusted_domain, with_params
from modules.openapi.replies import (
    ReplyError,
    decrypt_reply,
    is_passive_reply,
    reply_body,
)


class ConfigTest(unittest.TestCase):
    def test_defaults_and_errors(self) -> None:
        config = OpenApiConfig.parse({"corpid": "jwwx-x"})
        self.assertEqual(config.access_token_ttl_seconds, 7200)
        with self.assertRaises(ConfigError):
            OpenApiConfig.parse({})
        with self.assertRaises(ConfigError) as caught:
            OpenApiConfig.parse({"corpid": "x", "corp_id": "y"})
        self.assertIn("corp_id", str(caught.exception))
        with self.assertRaises(ConfigError):
            OpenApiConfig.parse({"corpid": "x", "access_token_ttl_seconds": 10})
        self.assertTrue(config.prepare_conversations)
        self.assertEqual(config.prepare_interval_seconds, 300)
        self.assertTrue(config.broadcast_rooms)
        self.assertEqual(
            (
                config.broadcast_min_range,
                config.broadcast_room_size,
                config.broadcast_join_concurrency,
            ),
            (200, 100, 4),
        )
        self.assertTrue(config.broadcast_pool)
        self.assertEqual(
            (
                config.broadcast_pool_concurrency,
                config.broadcast_pool_refill_delay_seconds,
            ),
            (2, 60),
        )
        self.assertEqual(config.broadcast_pace_lag_ms, 100)
        for bad in (
            {"prepare_conversations": "yes"},
            {"prepare_interval_seconds": -1},
            {"broadcast_rooms": 1},
            {"broadcast_room_size": 1},
            {"broadcast_min_range": 0},
            {"broadcast_join_concurrency": 65},
            {"broadcast_pool": "no"},
            {"broadcast_pool_concurrency": 0},
            {"broadcast_pool_refill_delay_seconds": -1},
            {"broadcast_pace_lag_ms": -1},
            {"broadcast_pace_lag_ms": 10001},
        ):
            with self.assertRaises(ConfigError):
                OpenApiConfig.parse({"corpid": "x", **bad})


class MessageTest(unittest.TestCase):
    def _errcode(self, body: dict[str, Any]) -> int:
        with self.assertRaises(WeComError) as caught:
            build_content(body)
        return caught.exception.errcode

    def test_markdown_subset(self) -> None:
        rendered = markdown_html(
            '# 标题\n**加粗** [链接](https://a.example/x)\n> 引用\n<font color="info">绿</font> `c`<b>'
        )
        self.assertIn("<h1>标题</h1>", rendered)
        self.assertIn("<strong>加粗</strong>", rendered)
        self.assertIn('<a href="https://a.example/x">链接</a>', rendered)
        self.assertIn("<blockquote>引用</blockquote>", rendered)
        self.assertIn("绿 <code>c</code>&lt;b&gt;", rendered)

    def test_contents_and_errors(self) -> None:
        _, text = build_content({"msgtype": "text", "text": {"content": "你好"}})
        self.assertEqual(text, {"msgtype": "m.text", "body": "你好"})
        _, card = build_content(
            {
                "msgtype": "textcard",
                "textcard": {
                    "title": "<警情>",
                    "description": "d",
                    "url": "https://a.example/?a=1&b=2",
                },
            }
        )
        self.assertIn("&lt;警情&gt;", card["formatted_body"])
        self.assertIn('href="https://a.example/?a=1&amp;b=2"', card["formatted_body"])
        self.assertEqual(card["cn.jwwx.wecom"]["msgtype"], "textcard")
        self.assertEqual(self._errcode({"msgtype": "text", "text": {}}), 44004)
        self.assertEqual(self._errcode({"msgtype": "text"}), 40058)
        self.assertEqual(self._errcode({}), 40008)
        self.assertEqual(self._errcode({"msgtype": "mpnews", "mpnews": {}}), 40008)
        self.assertEqual(
            self._errcode({"msgtype": "news", "news": {"articles": []}}), 40058
        )


class CallbackXmlTest(unittest.TestCase):
    def _event(self, content: dict[str, Any]) -> Any:
        return SimpleNamespace(
            content=content, origin_server_ts=1700000000123, event_id="$abc"
        )

    def test_message_kinds(self) -> None:
        text = parse_xml(
            message_xml(
                "corp",
                1000002,
                "zs",
                self._event({"msgtype": "m.text", "body": "hi ]]> x"}),
                "https://im/",
            )
            or ""
        )
        self.assertEqual(
            (text["MsgType"], text["Content"], text["CreateTime"], text["MsgId"]),
            ("text", "hi ]]> x", "1700000000", wecom_msgid("$abc")),
        )
        image = parse_xml(
            message_xml(
                "corp",
                1,
                "zs",
                self._event(
                    {"msgtype": "m.image", "body": "a.png", "url": "mxc://im/xyz"}
                ),
                "https://im/",
            )
            or ""
        )
        self.assertEqual(image["PicUrl"], "https://im/_matrix/media/v3/download/im/xyz")
        self.assertEqual(image["MediaId"], "xyz")
        link = parse_xml(
            message_xml(
                "corp",
                1,
                "zs",
                self._event(
                    {
                        "msgtype": "m.text",
                        "body": "t",
                        "cn.jwwx.link": {"title": "T", "url": "https://u"},
                    }
                ),
                "https://im/",
            )
            or ""
        )
        self.assertEqual((link["MsgType"], link["Title"]), ("link", "T"))
        self.assertIsNone(
            message_xml(
                "corp",
                1,
                "zs",
                self._event({"msgtype": "m.location", "body": "x", "geo_uri": "bad"}),
                "",
            )
        )
        self.assertIsNone(
            message_xml(
                "corp", 1, "zs", self._event({"msgtype": "org.custom", "body": "x"}), ""
            )
        )


class PassiveReplyTest(unittest.TestCase):
    crypt = MsgCrypt("Tok3n", "a" * 43, "corp")

    def test_reply_kinds(self) -> None:
        head = "<xml><ToUserName>zs</ToUserName><FromUserName>corp</FromUserName>"
        self.assertEqual(
            reply_body(head + "<MsgType>text</MsgType><Content>好</Content></xml>"),
            {"msgtype": "text", "text": {"content": "好"}},
        )
        self.assertEqual(
            reply_body(
                head + "<MsgType>video</MsgType><Video><MediaId>m1</MediaId>"
                "<Title>T</Title><Description>D</Description></Video></xml>"
            ),
            {
                "msgtype": "video",
                "video": {"media_id": "m1", "title": "T", "description": "D"},
            },
        )
        news = reply_body(
            head + "<MsgType>news</MsgType><ArticleCount>2</ArticleCount><Articles>"
            "<item><Title>A</Title><Url>https://a</Url></item>"
            "<item><Title>B</Title><PicUrl>https://p</PicUrl></item></Articles></xml>"
        )
        self.assertEqual([a["title"] for a in news["news"]["articles"]], ["A", "B"])
        for bad in (
            head + "<MsgType>update_button</MsgType></xml>",
            "<xml><MsgType>text</MsgType>",
            '<!DOCTYPE x [<!ENTITY a "b">]><xml><MsgType>text</MsgType></xml>',
        ):
            with self.assertRaises(ReplyError):
                reply_body(bad)

    def test_envelope(self) -> None:
        self.assertFalse(is_passive_reply(b" success "))
        self.assertFalse(is_passive_reply(b""))
        answer = self.crypt.encrypt_msg("<xml><MsgType>text</MsgType></xml>", "n")
        self.assertTrue(is_passive_reply(answer.encode()))
        self.assertEqual(
            decrypt_reply(self.crypt, answer.encode()),
            "<xml><MsgType>text</MsgType></xml>",
        )
        other = MsgCrypt("0ther", "a" * 43, "corp")
        for bad in (other.encrypt_msg("<xml/>", "n").encode(), b"busy", b"<xml/>"):
            with self.assertRaises(ReplyError):
                decrypt_reply(self.crypt, bad)


class ConversationClaimTest(unittest.TestCase):
    def test_second_claim_gets_the_first_room(self) -> None:
        conn = sqlite3.connect(":memory:")
        schema = Path(openapi.__file__).parent / "schema" / "0001_openapi.sql"
        conn.executescript(schema.read_text(encoding="utf-8"))
        txn = conn.cursor()
        self.assertEqual(
            storage.claim_conversation_txn(txn, 7, "zs", "!first:x", 1), "!first:x"
        )
        self.assertEqual(
            storage.claim_conversation_txn(txn, 7, "zs", "!spare:x", 2), "!first:x"
        )
        self.assertEqual(
            storage.claim_conversation_txn(txn, 8, "zs", "!other:x", 3), "!other:x"
        )


class MultipartTest(unittest.TestCase):
    def test_media_field(self) -> None:
        boundary = "----b0undary"
        body = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="media";'
                ' filename="现场.png"; filelength=5\r\nContent-Type: image/png\r\n\r\n'
            ).encode()
            + b"12345"
            + f"\r\n--{boundary}--\r\n".encode()
        )
        self.assertEqual(
            parse_upload(f"multipart/form-data; boundary={boundary}", body),
            ("现场.png", "image/png", b"12345"),
        )
        with self.assertRaises(WeComError) as caught:
            parse_upload(
                f"multipart/form-data; boundary={boundary}",
                body.replace(b'name="media"', b'name="file"'),
            )
        self.assertEqual(caught.exception.errcode, 41005)


class OAuthUrlTest(unittest.TestCase):
    def test_targets_domains_and_codes(self) -> None:
        target = redirect_target("https://H5.Example.cn/x")
        self.assertEqual(
            (target.scheme, target.host, target.port), ("https", "h5.example.cn", 443)
        )
        self.assertEqual(redirect_target("http://h5.example.cn:8080/").port, 8080)
        for bad in (
            "javascript:alert(1)",
            "ftp://h5.example.cn/",
            "/relative",
            "https://h5.example.cn@evil.com/",
            "http://evil.example\\@h5.example.cn/",
        ):
            with self.assertRaises(OAuthError):
                redirect_target(bad)
        trusted = parse_trusted_domain("h5.example.cn")
        assert trusted is not None
        self.assertTrue(trusted.admits(redirect_target("https://h5.example.cn:443/")))
        self.assertTrue(trusted.admits(redirect_target("http://h5.example.cn/")))
        self.assertFalse(trusted.admits(redirect_target("https://h5.example.cn:80/")))
        pinned = parse_trusted_domain("https://h5.example.cn:8443")
        assert pinned is not None
        self.assertTrue(pinned.admits(redirect_target("https://h5.example.cn:8443/")))
        self.assertFalse(pinned.admits(redirect_target("http://h5.example.cn:8443/")))
        for bad in ("h5.example.cn/x", "a@b.cn", "b.cn:0", "b..cn", "ftp://b.cn"):
            self.assertIsNone(parse_trusted_domain(bad), bad)
        self.assertEqual(
            with_params(
                redirect_target("https://a.cn/p?x=1&code=old#frag"),
                {"code": "C", "state": "S"},
            ),
            "https://a.cn/p?x=1&code=C&state=S",
        )
