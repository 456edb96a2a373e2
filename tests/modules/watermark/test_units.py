# SPDX-License-Identifier: AGPL-3.0-or-later
"""The watermark module's pure parts: settings validation, template rendering, file
sniffing, font discovery and config parsing."""

from twisted.trial import unittest

from modules.common.synapse.errors import ConfigError, SynapseError
from modules.watermark.config import WatermarkConfig
from modules.watermark.fonts import FontError, find_cjk_font
from modules.watermark.media import sniff
from modules.watermark.settings import Settings, apply_stored, validate_update
from modules.watermark.sharing import media_uris
from modules.watermark.viewer import Viewer, render_text

DEJAVU = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


class SettingsTest(unittest.TestCase):
    def test_partial_update_becomes_flat_rows(self) -> None:
        values = validate_update(
            {
                "watermark": {"opacity": 0.3, "profile": False},
                "sharing": {"allow_email": False},
            }
        )
        self.assertEqual(
            values,
            {
                "watermark.opacity": 0.3,
                "watermark.profile": False,
                "sharing.allow_email": False,
            },
        )
        settings = apply_stored(values)
        self.assertEqual(settings.watermark.opacity, 0.3)
        self.assertFalse(settings.watermark.profile)
        self.assertTrue(settings.watermark.chat_background)
        self.assertFalse(settings.sharing.allow_email)

    def test_bad_values_name_the_field(self) -> None:
        for body, field in (
            ({"watermark": {"opacity": 0.01}}, "watermark.opacity"),
            ({"watermark": {"opacity": True}}, "watermark.opacity"),
            ({"watermark": {"template": "{name} {secret}"}}, "{secret}"),
            ({"watermark": {"template": "x" * 81}}, "80"),
            ({"sharing": {"allow_email": "false"}}, "sharing.allow_email"),
            ({"sharing": {"allow_print": True}}, "sharing.allow_print"),
            ({"other": {}}, "other"),
        ):
            with self.assertRaises(SynapseError) as caught:
                validate_update(body)
            self.assertEqual(caught.exception.code, 400)
            self.assertIn(field, caught.exception.msg, body)

    def test_stored_rows_that_no_longer_validate_keep_defaults(self) -> None:
        settings = apply_stored({"watermark.opacity": 5, "watermark.template": 3})
        self.assertEqual(settings, Settings())

    def test_as_json_has_every_field(self) -> None:
        body = Settings().as_json()
        self.assertEqual(set(body), {"watermark", "sharing"})
        self.assertIn("allow_forward_files", body["sharing"])
        self.assertEqual(body["watermark"]["template"], "{name} {userid} {time}")


class TemplateTest(unittest.TestCase):
    def test_placeholders_and_time_zone(self) -> None:
        viewer = Viewer("@zhangsan:police.example", "zhangsan", "张三{date}")
        # 2026-11-29 02:30 UTC is 10:30 in Beijing.
        text = render_text(
            "{name}|{userid}|{user_id}|{date}|{time}", viewer, 1795919400000, 8
        )
        self.assertEqual(
            text,
            "张三{date}|zhangsan|@zhangsan:police.example|2026-11-29|2026-11-29 10:30",
        )


class SniffTest(unittest.TestCase):
    def test_kinds(self) -> None:
        self.assertEqual(sniff(b"\x89PNG\r\n\x1a\n...."), "image")
        self.assertEqual(sniff(b"\xff\xd8\xff\xe0...."), "image")
        self.assertEqual(sniff(b"GIF89a..."), "image")
        self.assertEqual(sniff(b"RIFF\x00\x00\x00\x00WEBPVP8 "), "image")
        self.assertEqual(sniff(b"%PDF-1.7\n"), "pdf")
        self.assertIsNone(sniff(b"hello"))
        self.assertIsNone(sniff(b"RIFF\x00\x00\x00\x00WAVEfmt "))

    def test_media_uris(self) -> None:
        self.assertEqual(media_uris({"url": "mxc://a/b"}), ["mxc://a/b"])
        self.assertEqual(media_uris({"file": {"url": "mxc://a/c"}}), ["mxc://a/c"])
        self.assertEqual(media_uris({"url": "https://x"}), [])
        self.assertEqual(media_uris("text"), [])


class FontAndConfigTest(unittest.TestCase):
    def test_default_font_draws_chinese(self) -> None:
        self.assertTrue(find_cjk_font(None).endswith((".ttc", ".otf", ".ttf")))

    def test_latin_only_or_missing_font_is_refused(self) -> None:
        with self.assertRaises(FontError):
            find_cjk_font(DEJAVU)
        with self.assertRaises(FontError):
            find_cjk_font("/no/such/font.ttc")
        with self.assertRaises(ConfigError) as caught:
            WatermarkConfig.parse({"font_path": DEJAVU})
        self.assertIn("modules.watermark.font_path", str(caught.exception))

    def test_config_keys(self) -> None:
        config = WatermarkConfig.parse({"utc_offset_hours": 0})
        self.assertEqual(config.utc_offset_hours, 0)
        for raw in ({"utc_offset_hours": 20}, {"max_media_bytes": 1}, {"fonts": "x"}):
            with self.assertRaises(ConfigError):
                WatermarkConfig.parse(raw)
