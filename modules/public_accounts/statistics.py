# SPDX-License-Identifier: AGPL-3.0-or-later
"""Statistics per article and per account, and their XLSX export.

Per article: delivered (subscribers in the rooms its push reached when it was sent),
opened (unique officers), opens, reading time (total and mean per reader, as the page
reported it), and per unit (the second-level department of each reader's main
department: opened, and subscribers there now). Per account: subscribers, pushes sent,
articles published and withdrawn, and the sums of its articles."""

import io
from collections import defaultdict
from typing import Any

from synapse.module_api import ModuleApi

from modules.common.heavy_imports import import_frozen
from modules.common.storage import Txn
from modules.directory import public as directory
from modules.public_accounts.storage import Account
from modules.public_accounts.storage import articles as articles_db
from modules.public_accounts.storage import reads as reads_db
from modules.public_accounts.storage import rooms as rooms_db


def account_statistics_txn(txn: Txn, account: Account) -> dict[str, Any]:
    articles = articles_db.list_articles_txn(txn, account.id)
    pushes = {p.id: p for p in articles_db.list_pushes_txn(txn, account.id)}
    reads = reads_db.reads_txn(txn, [a.id for a in articles])
    members = rooms_db.members_txn(txn, account.id)
    subscribers = [u for u, (_, joined) in members.items() if joined]
    units = directory.units_of_txn(txn, sorted({*subscribers, *(r[1] for r in reads)}))
    per_article: dict[int, list[tuple[int, str, int, int, int]]] = defaultdict(list)
    for row in reads:
        per_article[row[0]].append(row)
    subscribers_per_unit: dict[int, int] = defaultdict(int)
    for userid in subscribers:
        if userid in units:
            subscribers_per_unit[units[userid][0]] += 1
    rows = []
    for article in articles:
        push = pushes.get(article.push_id) if article.push_id is not None else None
        article_reads = per_article.get(article.id, [])
        read_ms = sum(r[4] for r in article_reads)
        opened_per_unit: dict[int, int] = defaultdict(int)
        for _, userid, *_rest in article_reads:
            if userid in units:
                opened_per_unit[units[userid][0]] += 1
        unit_rows = [
            {
                "unit_id": unit_id,
                "unit_name": next(n for d, n in units.values() if d == unit_id),
                "subscribers": subscribers_per_unit.get(unit_id, 0),
                "opened": opened_per_unit.get(unit_id, 0),
            }
            for unit_id in sorted({*opened_per_unit, *subscribers_per_unit})
        ]
        rows.append(
            {
                "article_id": article.id,
                "title": article.title,
                "state": article.state,
                "push_id": article.push_id,
                "published_ts": article.published_ts,
                "delivered": push.delivered if push is not None else 0,
                "opened": len(article_reads),
                "opens": sum(r[3] for r in article_reads),
                "read_ms": read_ms,
                "mean_read_ms": read_ms // len(article_reads) if article_reads else 0,
                "units": unit_rows,
            }
        )
    sent = [p for p in pushes.values() if p.state in ("sent", "withdrawn")]
    return {
        "account_id": account.id,
        "subscribers": len(subscribers),
        "pushes_sent": len(sent),
        "articles_published": sum(1 for a in articles if a.state == "published"),
        "articles_withdrawn": sum(1 for a in articles if a.state == "withdrawn"),
        "delivered": sum(p.delivered for p in sent),
        "opened": sum(r["opened"] for r in rows),
        "read_ms": sum(r["read_ms"] for r in rows),
        "articles": rows,
    }


async def account_statistics(api: ModuleApi, account: Account) -> dict[str, Any]:
    return dict(
        await api.run_db_interaction(
            "jwwx_pubacct_statistics", account_statistics_txn, account
        )
    )


def xlsx(account: Account, stats: dict[str, Any]) -> bytes:
    """Two sheets: 文章 (one row per article) and 单位 (per article and unit)."""
    out = io.BytesIO()
    book = import_frozen("xlsxwriter").Workbook(out, {"in_memory": True})  # first use
    bold = book.add_format({"bold": True})
    sheet = book.add_worksheet("文章")
    head = [
        "文章编号",
        "标题",
        "状态",
        "送达人数",
        "阅读人数",
        "阅读次数",
        "阅读时长(秒)",
        "人均时长(秒)",
    ]
    sheet.write_row(0, 0, head, bold)
    for i, row in enumerate(stats["articles"], start=1):
        sheet.write_row(
            i,
            0,
            [
                row["article_id"],
                row["title"],
                {"draft": "草稿", "published": "已发布", "withdrawn": "已撤回"}.get(
                    row["state"], row["state"]
                ),
                row["delivered"],
                row["opened"],
                row["opens"],
                round(row["read_ms"] / 1000, 1),
                round(row["mean_read_ms"] / 1000, 1),
            ],
        )
    sheet.set_column(1, 1, 40)
    units = book.add_worksheet("单位")
    units.write_row(
        0, 0, ["文章编号", "标题", "单位编号", "单位", "关注人数", "阅读人数"], bold
    )
    line = 1
    for row in stats["articles"]:
        for unit in row["units"]:
            units.write_row(
                line,
                0,
                [
                    row["article_id"],
                    row["title"],
                    unit["unit_id"],
                    unit["unit_name"],
                    unit["subscribers"],
                    unit["opened"],
                ],
            )
            line += 1
    summary = book.add_worksheet("公众号")
    summary.write_row(
        0, 0, ["公众号", "关注人数", "推送次数", "送达人次", "阅读人次"], bold
    )
    summary.write_row(
        1,
        0,
        [
            account.name,
            stats["subscribers"],
            stats["pushes_sent"],
            stats["delivered"],
            stats["opened"],
        ],
    )
    book.close()
    return out.getvalue()
