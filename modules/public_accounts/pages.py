# SPDX-License-Identifier: AGPL-3.0-or-later
"""Article pages at stable URLs (/_jwwx/client/v1/pubaccounts/articles/{id}), opened
with the officer's own Matrix access token (Authorization header, or ?access_token=
in a web view that cannot set headers), or through the open API's OAuth2
(/connect/oauth2/authorize redirecting here with ?code=: redeemed by the page itself,
then a redirect to the page with the viewer's signed link ?v=): no second login.

Subscribers (and the account's owners, editors and admins) read published articles;
drafts only the latter (a preview); a withdrawn article answers 410 to everyone. The
page carries the viewer's watermark when the watermark policy draws one on
conversations (modules.watermark: enabled and chat_background). Every open of a
published article is counted (jwwx_pubacct_reads) and archived as an app read record,
both written in batches off the page's path (opens.py); what a page reads and the page
itself are kept for a moment per article and viewer (page_cache.py);
the page reports reading time with a signed link, which also serves the article's
media (a browser cannot send the token with <img>)."""

import hashlib
import hmac
import html
import logging
import secrets
import time
from importlib import resources
from typing import Any
from urllib.parse import quote

from twisted.internet import defer

import jinja2
from jinja2.utils import htmlsafe_json_dumps
from markupsafe import Markup, escape
from prometheus_client import Counter
from synapse.module_api import ModuleApi

from modules.common import registry
from modules.common.batched_read import BatchedRead
from modules.common.errors import error, forbidden
from modules.common.http import HtmlPage
from modules.common.mxc import local_media_id
from modules.common.storage import Txn
from modules.common.synapse.errors import Codes
from modules.common.synapse.media import local_media_info, stream_local_media
from modules.common.synapse.runtime import await_background, start_in_background
from modules.openapi import public as openapi
from modules.public_accounts import access
from modules.public_accounts.accounts import Accounts
from modules.public_accounts.config import PublicAccountsConfig
from modules.public_accounts.errors import ARTICLE_NOT_FOUND, ARTICLE_WITHDRAWN
from modules.public_accounts.publishing import Publisher, app_id
from modules.public_accounts.sanitise import media_urls
from modules.public_accounts.storage import Account, get_account_txn
from modules.public_accounts.storage import reads as reads_db
from modules.public_accounts.storage.articles import Article, get_article_txn
from modules.public_accounts.storage.rooms import members_among_txn
from modules.watermark import public as watermark

logger = logging.getLogger(__name__)
PAGE_PATH = "/_jwwx/client/v1/pubaccounts/articles"
MAX_READ_MS = 3600 * 1000
_env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
_PAGE = _env.from_string(
    resources.files("modules.public_accounts")
    .joinpath("templates/article.html")
    .read_text(encoding="utf-8")
)


# Stand for the viewer's parts in an article's page rendered once for all viewers
# (`Pages._rendered`), until they are put in (`_fill`; the nonce when the page is sent,
# each answer its own): random, so no article text can contain them. The view token
# (quoted: it is in URLs) has a mark per place, each put in with the escaping the
# template gives that place: none in the body (its URLs are put in raw), HTML in the
# cover's attribute, tojson in the script.
_MARK = secrets.token_hex(16)
_NONCE_MARK = "nonce" + _MARK
_TILE_MARK = "tile" + _MARK
_TOKEN_IN_BODY = "body" + _MARK
_TOKEN_IN_ATTR = "attr" + _MARK
_TOKEN_IN_JSON = "json" + _MARK
RENDERS = Counter(
    "jwwx_pubacct_page_renders",
    "Article pages rendered from the template (once per article version, not per viewer)",
)


def _fill(text: str, token: str, tile: str | None) -> str:
    """The rendered page with this viewer's link token and watermark tile, escaped as
    the template escapes them (autoescape: markupsafe.escape; tojson: the
    environment's json.dumps made HTML-safe)."""
    quoted = quote(token)
    in_json = htmlsafe_json_dumps(
        quoted,
        _env.policies["json.dumps_function"],
        **_env.policies["json.dumps_kwargs"],
    )[1:-1]
    text = (
        text.replace(_TOKEN_IN_BODY, quoted)
        .replace(_TOKEN_IN_ATTR, str(escape(quoted)))
        .replace(_TOKEN_IN_JSON, in_json)
    )
    return text if tile is None else text.replace(_TILE_MARK, str(escape(tile)))


def _page(text: str, nonce: str) -> HtmlPage:
    return HtmlPage(
        text.replace(_NONCE_MARK, nonce),
        headers=(
            (b"Content-Security-Policy", _csp(nonce)),
            (b"Cache-Control", b"no-store"),
            (b"X-Content-Type-Options", b"nosniff"),
            (b"Referrer-Policy", b"no-referrer"),
        ),
    )


def _csp(nonce: str) -> bytes:
    return (
        "default-src 'none'; img-src 'self' https: http: data:; media-src 'self' https:"
        f" http:; style-src 'nonce-{nonce}'; script-src 'nonce-{nonce}';"
        " connect-src 'self'; frame-src 'none'; form-action 'none'; base-uri 'none'"
    ).encode()


def _watermark_svg(text: str, opacity: float) -> str:
    """A tile with the viewer's text, as a data: URL for the page's background."""
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="260" height="160">'
        f'<text x="10" y="100" transform="rotate(-20 130 80)" fill="#000"'
        f' fill-opacity="{opacity:.2f}" font-size="15">{html.escape(text)}</text></svg>'
    )
    return "data:image/svg+xml;charset=utf-8," + quote(svg, safe="")


class Pages:
    def __init__(
        self,
        api: ModuleApi,
        config: PublicAccountsConfig,
        accounts: Accounts,
        publisher: Publisher,
    ) -> None:
        self._api = api
        self._config = config
        self._accounts = accounts
        self._publisher = publisher
        self._key: bytes | None = None
        # The signing key is read (and stored the first time) once per process: pages
        # opened while that read runs share it instead of each writing.
        self._key_read: BatchedRead[str, str] = BatchedRead(
            api, "jwwx_pubacct_key", _keys_txn
        )
        self._reads: BatchedRead[PageKey, PageRead] = BatchedRead(
            api, "jwwx_pubacct_page", pages_txn
        )

    async def _db(self, desc: str, fn: Any, *args: Any) -> Any:
        return await self._api.run_db_interaction(f"jwwx_pubacct_{desc}", fn, *args)

    # Signed links of one viewer and article.

    async def warm(self) -> None:
        """Read (or store) the signing key at start-up: a process's first pages then
        wait for no write of it (session 14: the first burst's one written statement,
        a transaction between each first page's read and its answer)."""
        try:
            await self._signing_key()
        except Exception:  # the first page reads it again
            logger.warning(
                "the view links' signing key not read at start-up", exc_info=True
            )

    async def _signing_key(self) -> bytes:
        if self._key is None:
            stored = await self._key_read.get(VIEW_LINKS_KEY)
            if stored is None:
                raise RuntimeError("the view links' signing key was not stored")
            self._key = bytes.fromhex(stored)
        return self._key

    async def _sign(self, article_id: int, userid: str, expires: int) -> str:
        message = f"{article_id}.{expires}.{userid}".encode()
        digest = hmac.new(await self._signing_key(), message, hashlib.sha256)
        return f"{expires}.{digest.hexdigest()[:32]}.{userid}"

    async def view_token(self, article_id: int, userid: str) -> str:
        expires = int(time.time()) + self._config.view_token_seconds
        return await self._sign(article_id, userid, expires)

    async def check_token(self, article_id: int, token: str | None) -> str:
        """The userid a link was signed for; 403 when forged or expired."""
        parts = (token or "").split(".", 2)
        if len(parts) == 3 and parts[0].isdigit():
            expires, _sig, userid = int(parts[0]), parts[1], parts[2]
            expected = await self._sign(article_id, userid, expires)
            if expires >= time.time() and hmac.compare_digest(expected, token or ""):
                return userid
        raise forbidden("链接无效或已过期，请重新打开文章")

    async def user_of_code(self, article_id: int, code: str) -> str:
        """The officer (userid) of an OAuth2 code the open API's /connect/oauth2/
        authorize redirected to this article's page with; 403 when it is not good."""
        userid = await openapi.page_user(
            self._api, code, self._publisher.url_of(article_id)
        )
        if userid is None:
            raise forbidden("授权码无效或已过期，请重新打开文章")
        return userid

    # The page.

    async def _article(self, article_id: int) -> Article:
        """The article (kept for a moment like a page's read: a page's images and
        reading-time report follow it); 404 unknown, 410 withdrawn."""
        cache = self._accounts.page_cache
        key = ("article", article_id)
        found, article = cache.get(key)
        if not found:
            generation = cache.generation
            article = await self._db("page_article", get_article_txn, article_id)
            cache.put(key, article, generation)
        if article is None:
            raise error(404, ARTICLE_NOT_FOUND, "文章不存在")
        if article.state == "withdrawn":
            raise error(410, ARTICLE_WITHDRAWN, "该内容已无法查看")
        return article

    async def render(self, user_id: str, article_id: int) -> HtmlPage:
        userid = access.localpart(user_id)
        cache = self._accounts.page_cache
        now = int(self._api.get_current_time_msec())
        # The same subscriber's page of this minute (the watermark's finest time),
        # rendered a moment ago: only the CSP nonce is new.
        html_key = ("html", article_id, userid, now // 60_000)
        found, held = cache.get(html_key)
        if found:
            text, app = held
            self._publisher.opens.record(article_id, userid, now, app, user_id)
            return _page(text, secrets.token_urlsafe(16))
        generation = cache.generation
        # The viewer's watermark (a directory read on a first page) is asked at once,
        # beside the page's own read rather than after it: one wait for the database
        # instead of two in a row.
        marking = start_in_background(self._watermark, user_id)
        try:
            return await self._render(
                user_id, article_id, now, html_key, generation, marking
            )
        finally:
            marking.addErrback(lambda _failure: None)  # not awaited on 403/404/410

    async def _render(
        self,
        user_id: str,
        article_id: int,
        now: int,
        html_key: tuple[str, int, str, int],
        generation: int,
        marking: "defer.Deferred[str | None]",
    ) -> HtmlPage:
        userid = access.localpart(user_id)
        cache = self._accounts.page_cache
        # One read for the common case: the article, its account, the subscription,
        # shared with the viewers who open a page at the same moment (batched_read.py);
        # none while the same viewer's last read of it is fresh (page_cache.py).
        key = ("page", article_id, userid)
        found, read = cache.get(key)
        if not found:
            read = await self._reads.get((article_id, userid))
            if read is None:
                read = (None, None, False)
            elif read[2]:  # a subscriber's (who follows now is let in at once)
                cache.put(key, read, generation)
            if read[0] is not None:  # the page's images and report follow
                cache.put(("article", article_id), read[0], generation)
        article, account, subscriber = read
        if article is None or account is None:
            raise error(404, ARTICLE_NOT_FOUND, "文章不存在")
        if article.state == "withdrawn":
            raise error(410, ARTICLE_WITHDRAWN, "该内容已无法查看")
        # The staff's rights matter only for drafts and for readers who do not follow.
        if article.state != "published" or not subscriber:
            staff = await access.role_of(self._api, account, user_id) is not None
            if article.state != "published" and not staff:
                raise error(404, ARTICLE_NOT_FOUND, "文章不存在")  # drafts: staff only
            if not staff:
                raise forbidden("关注该公众号后才能阅读")
        token = await self.view_token(article.id, userid)
        if article.state == "published":  # counted and archived in a batch (opens.py)
            self._publisher.opens.record(
                article.id, userid, now, app_id(account), user_id
            )
        tile = await await_background(marking)
        rendered = self._rendered(article, account, tile is not None, generation)
        page = _fill(rendered, token, tile)
        if article.state == "published" and subscriber:
            cache.put(html_key, (page, app_id(account)), generation)
        return _page(page, secrets.token_urlsafe(16))

    def _rendered(
        self, article: Article, account: Account, marked: bool, generation: int
    ) -> str:
        """The article's page with marks for the viewer's parts (`_fill`): rendered
        once per article version and kept. No await between the look-up and the put:
        fifty readers whose reads finish together find the first one's render instead
        of each rendering (session 13: a burst's first pages cost 4x a later page)."""
        cache = self._accounts.page_cache
        key = ("rendered", article, account.name, marked)
        found, text = cache.get(key)
        if found:
            return str(text)
        base = f"{PAGE_PATH}/{article.id}"
        media = f"{base}/media/"
        published = article.published_ts
        RENDERS.inc()
        text = _PAGE.render(
            title=article.title,
            author=article.author,
            account=account.name,
            date=time.strftime("%Y-%m-%d", time.localtime(published / 1000))
            if published
            else "",
            cover=self._media_url(article.cover, media, _TOKEN_IN_ATTR),
            body=Markup(
                media_urls(
                    article.body,
                    lambda server, media_id: (
                        self._media_url(
                            f"mxc://{server}/{media_id}", media, _TOKEN_IN_BODY
                        )
                        or ""
                    ),
                )
            ),
            preview=article.state != "published",
            watermark=_TILE_MARK if marked else None,
            nonce=_NONCE_MARK,
            report_url=f"{base}/read_time?v={_TOKEN_IN_JSON}",
        )
        cache.put(key, text, generation)
        return text

    def _media_url(self, uri: str | None, media: str, token: str) -> str | None:
        if not uri:
            return None
        media_id = local_media_id(uri, self._api.server_name)
        if media_id is None:
            return uri if uri.startswith(("https://", "http://")) else None
        return f"{media}{quote(media_id)}?v={quote(token)}"

    async def _watermark(self, user_id: str) -> str | None:
        """The viewer's tile; kept per minute (the finest time a watermark shows)."""
        try:
            service = registry.lookup(self._api, watermark.SERVICE)
        except registry.ServiceMissingError:
            return None
        cache = self._accounts.page_cache
        minute = int(self._api.get_current_time_msec()) // 60_000
        key = ("watermark", user_id, minute)
        found, tile = cache.get(key)
        if found:
            return str(tile) if tile is not None else None
        generation = cache.generation
        mark = await service.page_watermark(user_id)
        tile = None if mark is None else _watermark_svg(*mark)
        cache.put(key, tile, generation)
        return tile

    # Media and reading time through the signed link.

    async def media(
        self, request: Any, article_id: int, media_id: str, token: str | None
    ) -> None:
        await self.check_token(article_id, token)
        article = await self._article(article_id)
        if media_id not in self._referenced(article):
            raise error(404, Codes.NOT_FOUND, "文件不存在")
        cache = self._accounts.page_cache
        key = ("media", media_id)
        found, info = cache.get(key)
        if not found:
            generation = cache.generation
            info = await local_media_info(self._api, media_id)
            cache.put(key, info, generation)
        if info is None:
            raise error(404, Codes.NOT_FOUND, "文件不存在")
        await stream_local_media(self._api, request, media_id, info)

    def _referenced(self, article: Article) -> frozenset[str | None]:
        """The local media ids the article shows (cover and body), per version."""
        cache = self._accounts.page_cache
        key = ("referenced", article.id, article.updated_ts)
        found, referenced = cache.get(key)
        if not found:
            referenced = frozenset(
                local_media_id(uri, self._api.server_name)
                for uri in [article.cover or "", *_mxc_in(article.body)]
            )
            cache.put(key, referenced, cache.generation)
        return frozenset(referenced)

    async def read_time(self, article_id: int, token: str | None, body: Any) -> None:
        userid = await self.check_token(article_id, token)
        await self._article(article_id)
        ms = body.get("ms") if isinstance(body, dict) else None
        if (
            isinstance(ms, bool)
            or not isinstance(ms, int)
            or not 0 <= ms <= MAX_READ_MS
        ):
            raise error(400, Codes.INVALID_PARAM, f"ms 必须是 0–{MAX_READ_MS} 的整数")
        await self._publisher.opens.flush()  # the open's row is there to add to
        await self._db("read_time", reads_db.add_read_time_txn, article_id, userid, ms)


VIEW_LINKS_KEY = "view_links"


def _keys_txn(txn: Txn, names: list[str]) -> dict[str, str]:
    """The stored secrets (each stored the first time: a new random one)."""
    return {name: reads_db.key_txn(txn, name, secrets.token_hex(32)) for name in names}


PageKey = tuple[int, str]  # (article id, viewer's userid)
PageRead = tuple[Article | None, Account | None, bool]


def pages_txn(txn: Txn, keys: list[PageKey]) -> dict[PageKey, PageRead]:
    """Per (article, viewer): the article, its account, and whether the viewer is a
    subscriber; each article and account read once, subscriptions one query each."""
    articles = {a: get_article_txn(txn, a) for a in sorted({a for a, _ in keys})}
    accounts: dict[int, Account | None] = {}
    for article in articles.values():
        if article is not None and article.account_id not in accounts:
            accounts[article.account_id] = get_account_txn(txn, article.account_id)
    viewers: dict[int, set[str]] = {}
    for article_id, userid in keys:
        article = articles[article_id]
        if article is not None and accounts[article.account_id] is not None:
            viewers.setdefault(article.account_id, set()).add(userid)
    subscribers = {
        account_id: members_among_txn(txn, account_id, sorted(userids))
        for account_id, userids in viewers.items()
    }
    found: dict[PageKey, PageRead] = {}
    for article_id, userid in keys:
        article = articles[article_id]
        account = None if article is None else accounts[article.account_id]
        if article is None or account is None:
            found[article_id, userid] = (article, None, False)
        else:
            follows = userid in subscribers[account.id]
            found[article_id, userid] = (article, account, follows)
    return found


def _mxc_in(body: str) -> list[str]:
    """The mxc:// URLs the stored body references."""
    found: list[str] = []

    def note(server: str, media_id: str) -> str:
        found.append(f"mxc://{server}/{media_id}")
        return ""

    media_urls(body, note)
    return found
