# SPDX-License-Identifier: AGPL-3.0-or-later
"""An article's page rendered once for every viewer (modules/public_accounts/pages.py):
with one viewer's parts put in, it is the very text the template renders for that
viewer, whatever those parts hold (< & and quotes escaped as the template escapes
them), with the watermark and without; a second viewer costs no render."""

import time
import unittest
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote

from markupsafe import Markup

from modules.public_accounts import pages
from modules.public_accounts.page_cache import PageCache
from modules.public_accounts.storage.articles import Article

SERVER = "example.test"
ODD = "A<b>&\"c'd"


def _article(**changes: Any) -> Article:
    fields: dict[str, Any] = {
        "id": 7,
        "account_id": 3,
        "title": '通报 <1> & "2"',
        "cover": f"mxc://{SERVER}/cover1",
        "digest": "",
        "author": "宣传处 & 'x'",
        "body": f'<p>正文</p><img src="mxc://{SERVER}/img2">',
        "state": "published",
        "push_id": 1,
        "created_by": "ed",
        "created_ts": 1,
        "updated_ts": 2,
        "published_ts": 1_700_000_000_000,
        "withdrawn_ts": None,
    }
    return Article(**{**fields, **changes})


def _direct(article: Article, account: Any, token: str, tile: str | None) -> str:
    """What the template rendered for one viewer before (session 13's pages.py)."""
    base = f"{pages.PAGE_PATH}/{article.id}"

    def url(media_id: str) -> str:
        return f"{base}/media/{media_id}?v={quote(token)}"

    published = article.published_ts or 0
    return pages._PAGE.render(
        title=article.title,
        author=article.author,
        account=account.name,
        date=time.strftime("%Y-%m-%d", time.localtime(published / 1000)),
        cover=url("cover1"),
        body=Markup(f'<p>正文</p><img src="{url("img2")}">'),
        preview=article.state != "published",
        watermark=tile,
        nonce=pages._NONCE_MARK,
        report_url=f"{base}/read_time?v={quote(token)}",
    )


class PageRenderTest(unittest.TestCase):
    def setUp(self) -> None:
        api = SimpleNamespace(server_name=SERVER)
        accounts = SimpleNamespace(page_cache=PageCache(60))
        self.pages = pages.Pages(api, None, accounts, None)  # type: ignore[arg-type]
        self.account: Any = SimpleNamespace(name="市局 <发布> & '号'")

    def _assembled(self, article: Article, token: str, tile: str | None) -> str:
        cache = self.pages._accounts.page_cache
        text = self.pages._rendered(
            article, self.account, tile is not None, cache.generation
        )
        return pages._fill(text, token, tile)

    def test_a_viewer_s_page_is_the_template_s(self) -> None:
        article = _article()
        for token, tile in (
            (f"123.abc.{ODD}", f"data:x,{ODD}"),
            ("123.abc.alice", None),
            (f"9.f/f.{ODD} ü</script>", pages._watermark_svg(ODD, 0.1)),
        ):
            with self.subTest(token=token, tile=tile):
                self.assertEqual(
                    self._assembled(article, token, tile),
                    _direct(article, self.account, token, tile),
                )

    def test_one_render_per_article_version(self) -> None:
        before = pages.RENDERS._value.get()
        for viewer in ("alice", "bob", ODD):
            self._assembled(_article(), f"1.a.{viewer}", "data:tile")
        self.assertEqual(pages.RENDERS._value.get() - before, 1)
        self._assembled(_article(), "1.a.alice", None)  # no watermark: its own render
        self._assembled(_article(updated_ts=3, title="改"), "1.a.alice", "data:t")
        self.assertEqual(pages.RENDERS._value.get() - before, 3)


if __name__ == "__main__":
    unittest.main()
