# SPDX-License-Identifier: AGPL-3.0-or-later
"""The article sanitiser on its own (the HTTP tests check it through the page too)."""

import unittest

from modules.public_accounts.sanitise import media_urls, sanitise


class SanitiseTest(unittest.TestCase):
    def test_keeps_the_editor_markup(self) -> None:
        html = (
            "<h2>标题</h2><p><strong>粗</strong><em>斜</em></p><ul><li>一</li></ul>"
            '<ol start="3"><li>三</li></ol><blockquote>引</blockquote>'
            '<p><a href="https://example.cn/a.pdf">附件</a></p>'
            '<img src="mxc://jwwx/abc" alt="图"><video src="https://v.cn/x.mp4"'
            ' controls></video><table><tr><td colspan="2">格</td></tr></table>'
        )
        clean = sanitise(html)
        for kept in (
            "<h2>标题</h2>",
            "<strong>粗</strong>",
            "<li>一</li>",
            '<ol start="3">',
            "<blockquote>",
            'href="https://example.cn/a.pdf"',
            'rel="noopener noreferrer"',
            'src="mxc://jwwx/abc"',
            "<video",
            'colspan="2"',
        ):
            self.assertIn(kept, clean)

    def test_removes_scripts_frames_handlers_and_javascript_urls(self) -> None:
        html = (
            "<p onclick=\"steal()\">正文<script>alert('x')</script></p>"
            '<iframe src="https://evil.example/"></iframe>'
            '<img src="x.png" onerror="alert(1)">'
            '<a href="javascript:alert(1)">点我</a>'
            '<a href="JaVaScRiPt:alert(1)">再点</a>'
            '<img src="data:image/svg+xml,<svg onload=alert(1)>">'
            '<object data="x.swf"></object><style>p{}</style>'
            '<svg><script>alert(2)</script></svg><form action="/x"><input></form>'
            '<p style="background:url(javascript:alert(1))">样式</p>'
        )
        clean = sanitise(html).lower()
        for gone in (
            "<script",
            "alert",
            "<iframe",
            "onerror",
            "onclick",
            "onload",
            "javascript:",
            "data:",
            "<object",
            "<style",
            "<svg",
            "<form",
            "<input",
            "style=",
        ):
            self.assertNotIn(gone, clean)
        self.assertIn("正文", clean)
        self.assertIn("点我", clean)

    def test_media_urls_are_rewritten(self) -> None:
        body = sanitise('<p><img src="mxc://jwwx/abc_D-1"></p>')
        out = media_urls(body, lambda server, media_id: f"/m/{server}/{media_id}")
        self.assertIn('src="/m/jwwx/abc_D-1"', out)
