# SPDX-License-Identifier: AGPL-3.0-or-later
"""`python -m homeserver report --weekly|--quarterly`: the inspection report (巡检报告).

From Prometheus (its HTTP API, `--prometheus URL`; the series of docker/prometheus.yml)
and the server's database and data directory (homeserver/report_data.py): availability
of every process and of the whole service against the 99.9 % target, load, disk,
bandwidth and errors over the period (plots, matplotlib), accounts, messages, rooms and
directory members, the audit chain's verification, and the backups made and checked
(DATA/backup-history.jsonl). Writes REPORT.html (plots embedded) and REPORT.pdf into
--out. docs/reports.md.
"""

import base64
import html
import io
import time
from collections.abc import Iterator
from datetime import UTC
from pathlib import Path
from typing import Any

from homeserver.config_file import load_server_config
from homeserver.report_data import Facts, Series, gather, period_of

TARGET = 0.999
TITLES = {"weekly": "周巡检报告", "quarterly": "季度健康报告"}


def availability(series: list[Series]) -> tuple[dict[str, float], float | None]:
    """Per process the share of samples it was up; and the share of sampled instants
    at which every process was up (the service)."""
    per: dict[str, float] = {}
    instants: dict[float, bool] = {}
    for s in series:
        if not s.points:
            continue
        name = s.name("instance")
        per[name] = sum(1 for _, v in s.points if v >= 1) / len(s.points)
        for t, v in s.points:
            instants[t] = instants.get(t, True) and v >= 1
    service = sum(instants.values()) / len(instants) if instants else None
    return per, service


def _peak(series: list[Series]) -> float | None:
    values = [v for s in series for _, v in s.points]
    return max(values) if values else None


def _fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return "无数据"
    if unit == "%":
        return f"{value * 100:.3f} %"
    if unit == "B/s":
        return f"{value / 1e6:.2f} MB/s"
    return f"{value:.2f}"


def summary_rows(facts: Facts) -> list[tuple[str, str]]:
    per, service = availability(facts.series["availability"])
    rows = [
        ("服务可用性 service availability", _fmt(service, "%")),
        ("目标 target", _fmt(TARGET, "%")),
    ]
    rows += [(f"进程 {name} 可用性", _fmt(v, "%")) for name, v in sorted(per.items())]
    rows += [
        ("最高负载/核 peak load per core", _fmt(_peak(facts.series["load"]))),
        ("最高磁盘使用率 peak disk used", _fmt(_peak(facts.series["disk"]), "%")),
        ("最高入站带宽 peak receive", _fmt(_peak(facts.series["receive"]), "B/s")),
        ("最高出站带宽 peak transmit", _fmt(_peak(facts.series["transmit"]), "B/s")),
        ("模块错误峰值 module errors/s", _fmt(_peak(facts.series["module_errors"]))),
        ("服务端5xx峰值 server 5xx/s", _fmt(_peak(facts.series["server_errors"]))),
    ]
    db = facts.database
    rows += [
        ("账号 accounts", str(db.get("accounts"))),
        ("本期活跃账号 active accounts", str(db.get("active_accounts"))),
        ("本期消息 messages", str(db.get("messages"))),
        ("会话 rooms", str(db.get("rooms"))),
        ("通讯录成员 directory members", str(db.get("directory_members"))),
        (
            "审计链 audit chain",
            ("通过" if facts.audit.get("ok") else "未通过")
            + f" ({facts.audit.get('checked')} 条)",
        ),
        (
            "本期备份 backups",
            str(sum(b.get("action") == "backup" for b in facts.backups)),
        ),
        (
            "本期备份校验 backups verified",
            str(sum(b.get("action") == "verify" for b in facts.backups)),
        ),
    ]
    return rows


PLOTS = (
    ("availability", "进程在线 processes up", ("instance",), None),
    ("load", "负载/核 load per core", ("instance",), None),
    ("disk", "磁盘使用率 disk used", ("instance", "mountpoint"), 1.0),
    ("receive", "入站带宽 receive (B/s)", ("instance",), None),
    ("transmit", "出站带宽 transmit (B/s)", ("instance",), None),
    ("module_errors", "模块错误 module errors/s", (), None),
    ("server_errors", "服务端5xx server 5xx/s", (), None),
)


def _figures(facts: Facts, font: Any) -> Iterator[Any]:
    import matplotlib

    matplotlib.use("Agg")
    from datetime import datetime

    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    for key, title, label_keys, top in PLOTS:
        figure, axes = plt.subplots(figsize=(8, 3.2))
        for s in facts.series[key]:
            times = [
                mdates.date2num(datetime.fromtimestamp(t, UTC)) for t, _ in s.points
            ]
            axes.plot(times, [v for _, v in s.points], label=s.name(*label_keys))
        axes.set_title(title, fontproperties=font)
        axes.xaxis.set_major_formatter(mdates.DateFormatter("%m-%d"))
        axes.set_ylim(bottom=0, top=top)
        if facts.series[key]:
            axes.legend(fontsize=7, loc="upper left", prop=font)
        else:
            axes.text(0.5, 0.5, "无数据 no data", ha="center", fontproperties=font)
        figure.tight_layout()
        yield key, figure
        plt.close(figure)


def _font() -> Any:
    from matplotlib.font_manager import FontProperties

    from modules.watermark.public import find_cjk_font

    return FontProperties(fname=find_cjk_font(None))


def render(facts: Facts, out_dir: Path, server_name: str) -> tuple[Path, Path]:
    from matplotlib.backends.backend_pdf import PdfPages

    font = _font()
    period = facts.period
    title = f"警务微信 {TITLES[period.name]} — {server_name}"
    span = (
        time.strftime("%Y-%m-%d %H:%M", time.gmtime(period.start))
        + " — "
        + time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(period.end))
    )
    rows = summary_rows(facts)
    stem = (
        f"jwwx-report-{period.name}-{time.strftime('%Y%m%d', time.gmtime(period.end))}"
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    html_path, pdf_path = out_dir / f"{stem}.html", out_dir / f"{stem}.pdf"
    images = []
    with PdfPages(pdf_path) as pdf:
        import matplotlib.pyplot as plt

        cover = plt.figure(figsize=(8.27, 11.69))
        cover.text(0.06, 0.95, title, fontproperties=font, fontsize=15)
        cover.text(0.06, 0.92, span, fontproperties=font, fontsize=9)
        y = 0.88
        for problem in facts.problems:
            cover.text(0.06, y, "【注意】" + problem, fontproperties=font, color="red")
            y -= 0.025
        for label, value in rows:
            cover.text(0.06, y, label, fontproperties=font, fontsize=9)
            cover.text(0.62, y, value, fontproperties=font, fontsize=9)
            y -= 0.022
        pdf.savefig(cover)
        plt.close(cover)
        for key, figure in _figures(facts, font):
            pdf.savefig(figure)
            png = io.BytesIO()
            figure.savefig(png, format="png", dpi=90)
            images.append((key, base64.b64encode(png.getvalue()).decode("ascii")))
    e = html.escape
    parts = [
        "<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'>",
        f"<title>{e(title)}</title></head><body>",
        f"<h1>{e(title)}</h1><p>{e(span)}</p>",
    ]
    parts += [f"<p class='problem'>⚠ {e(p)}</p>" for p in facts.problems]
    parts.append("<table>")
    parts += [f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in rows]
    parts.append("</table><h2>备份 backups</h2><ul>")
    for b in facts.backups:
        when = time.strftime("%Y-%m-%d %H:%M", time.gmtime((b.get("ts") or 0) / 1000))
        parts.append(
            f"<li>{e(when)} {e(str(b.get('action')))} {e(str(b.get('file', '')))}</li>"
        )
    parts.append("</ul>")
    parts += [
        f"<figure id='{key}'><img alt='{key}' src='data:image/png;base64,{data}'></figure>"
        for key, data in images
    ]
    parts.append("</body></html>\n")
    html_path.write_text("".join(parts), encoding="utf-8")
    return html_path, pdf_path


def make_report(
    data_dir: Path, kind: str, prometheus: str, out_dir: Path
) -> dict[str, Any]:
    config = load_server_config(data_dir)
    facts = gather(config, prometheus, period_of(kind))
    html_path, pdf_path = render(facts, out_dir, config.server_name)
    per, service = availability(facts.series["availability"])
    return {
        "html": str(html_path.resolve()),
        "pdf": str(pdf_path.resolve()),
        "service_availability": service,
        "process_availability": per,
        "problems": facts.problems,
        "database": facts.database,
        "audit": facts.audit,
        "backups": len(facts.backups),
    }
