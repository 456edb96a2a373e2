"""Pure functions of the open API: config, message building, callback XML, OAuth URLs."""

from types import SimpleNamespace
from typing import Any

from twisted.trial import unittest

from modules.common.synapse_compat import ConfigError
from modules.openapi.callbacks import message_xml, wecom_msgid
from modules.openapi.config import OpenApiConfig
from modules.openapi.crypto import parse_xml
from modules.openapi.errors import WeComError
from modules.openapi.messages import build_content, markdown_html
from modules.openapi.oauth import OAuthError, redirect_host, with_code


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


class OAuthUrlTest(unittest.TestCase):
    def test_hosts_and_codes(self) -> None:
        self.assertEqual(redirect_host("https://H5.Example.cn/x"), "h5.example.cn")
        self.assertEqual(
            redirect_host("http://h5.example.cn:8080/"), "h5.example.cn:8080"
        )
        self.assertEqual(redirect_host("https://h5.example.cn@evil.com/"), "evil.com")
        for bad in ("javascript:alert(1)", "ftp://h5.example.cn/", "/relative"):
            with self.assertRaises(OAuthError):
                redirect_host(bad)
        self.assertEqual(
            with_code("https://a.cn/p?x=1&code=old#frag", "C", "S"),
            "https://a.cn/p?x=1&code=C&state=S",
        )
