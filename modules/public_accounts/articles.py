# SPDX-License-Identifier: AGPL-3.0-or-later
"""Articles: what an editor writes (title, cover, digest, author, sanitised body) and
the card a push shows in the officers' conversation."""

from typing import Any

from modules.common.errors import error
from modules.common.inputs import check_text
from modules.common.synapse.errors import Codes
from modules.public_accounts.errors import invalid
from modules.public_accounts.sanitise import MAX_BODY_CHARS, sanitise
from modules.public_accounts.storage import Account
from modules.public_accounts.storage.articles import Article

LIMITS = {"title": 64, "digest": 120, "author": 32}
KNOWN = {"title", "cover", "digest", "author", "body"}
CARD_FIELDS = ("title", "cover", "digest", "author")
CARD_KEY = "cn.jwwx.pubaccount"


def parse_article(body: dict[str, Any], creating: bool) -> dict[str, Any]:
    """The fields a create/edit body sets, checked; the body sanitised."""
    unknown = sorted(set(body) - KNOWN)
    if unknown:
        raise invalid(f"未知字段：{', '.join(unknown)}")
    if creating and not body.get("title"):
        raise error(400, Codes.MISSING_PARAM, "缺少 title")
    changes: dict[str, Any] = {}
    for name, limit in LIMITS.items():
        if name in body:
            value = body[name]
            if not isinstance(value, str) or len(value) > limit:
                raise invalid(f"{name} 必须是不超过 {limit} 个字符的字符串")
            if name == "title" and not value.strip():
                raise invalid("title 不能为空")
            changes[name] = check_text(value.strip(), name)
    if "cover" in body:
        cover = body["cover"]
        if cover is not None and (
            not isinstance(cover, str)
            or not cover.startswith(("mxc://", "https://", "http://"))
            or len(cover) > 1000
        ):
            raise invalid("cover 必须是 mxc:// 或 http(s) 地址，或 null")
        changes["cover"] = cover
    if "body" in body:
        html = body["body"]
        if not isinstance(html, str) or len(html) > MAX_BODY_CHARS:
            raise invalid(f"body 必须是不超过 {MAX_BODY_CHARS} 个字符的 HTML")
        changes["body"] = sanitise(html)
    return changes


def article_json(article: Article, url: str) -> dict[str, Any]:
    return {
        "id": article.id,
        "account_id": article.account_id,
        "title": article.title,
        "cover": article.cover,
        "digest": article.digest,
        "author": article.author,
        "body": article.body,
        "state": article.state,
        "push_id": article.push_id,
        "url": url,
        "created_by": article.created_by,
        "created_ts": article.created_ts,
        "updated_ts": article.updated_ts,
        "published_ts": article.published_ts,
        "withdrawn_ts": article.withdrawn_ts,
    }


def card_content(
    account: Account,
    push_id: int,
    articles: list[Article],
    url_of: Any,
    preview: bool = False,
) -> dict[str, Any]:
    """One m.room.message for one or several articles: text for every client, HTML
    links, and the articles' data under cn.jwwx.pubaccount for clients that draw
    cards."""
    lines: list[str] = []
    html: list[str] = []
    items = []
    for article in articles:
        url = url_of(article.id)
        lines.append(f"【{article.title}】{article.digest}\n{url}".rstrip())
        html.append(
            f'<p><a href="{_attr(url)}"><strong>{_text(article.title)}</strong></a>'
            + (f"<br>{_text(article.digest)}" if article.digest else "")
            + "</p>"
        )
        items.append(
            {
                "id": article.id,
                "title": article.title,
                "digest": article.digest,
                "author": article.author,
                "cover": article.cover,
                "url": url,
            }
        )
    prefix = "【预览】" if preview else ""
    return {
        "msgtype": "m.text",
        "body": prefix + "\n\n".join(lines),
        "format": "org.matrix.custom.html",
        "formatted_body": (f"<p>{prefix}</p>" if prefix else "") + "".join(html),
        CARD_KEY: {
            "account_id": account.id,
            "account_name": account.name,
            "push_id": push_id,
            "preview": preview,
            "articles": items,
        },
    }


def _text(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _attr(value: str) -> str:
    return _text(value).replace('"', "&quot;")
