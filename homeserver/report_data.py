# SPDX-License-Identifier: AGPL-3.0-or-later
"""What the inspection report (homeserver/report.py) reads: Prometheus's HTTP API
(range queries over the period) and the server's database and data directory."""

import json
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from homeserver.audit_verify import connect_database, verify
from homeserver.backup import HISTORY_FILE
from homeserver.config_file import ServerConfig
from homeserver.errors import LauncherError

# The series each section plots (the metric names of docker/prometheus.yml's jobs).
_FS = 'fstype!~"tmpfs|squashfs|overlay|iso9660"'
QUERIES = {
    "availability": 'up{job="synapse"}',
    "load": 'node_load5 / on(instance) count by (instance) (node_cpu_seconds_total{mode="idle"})',
    "disk": f"1 - node_filesystem_avail_bytes{{{_FS}}} / node_filesystem_size_bytes{{{_FS}}}",
    "receive": 'sum by (instance) (rate(node_network_receive_bytes_total{device!="lo"}[5m]))',
    "transmit": 'sum by (instance) (rate(node_network_transmit_bytes_total{device!="lo"}[5m]))',
    "module_errors": "sum(rate(jwwx_http_errors_total[5m]))",
    "server_errors": 'sum(rate(synapse_http_server_responses_total{code=~"5.."}[5m]))',
}


@dataclass
class Series:
    labels: dict[str, str]
    points: list[tuple[float, float]]

    def name(self, *keys: str) -> str:
        found = [self.labels[k] for k in keys if k in self.labels]
        return " ".join(found) or "total"


@dataclass
class Period:
    name: str  # weekly, quarterly
    start: float
    end: float
    step: int  # seconds between points


@dataclass
class Facts:
    period: Period
    series: dict[str, list[Series]] = field(default_factory=dict)
    database: dict[str, Any] = field(default_factory=dict)
    audit: dict[str, Any] = field(default_factory=dict)
    backups: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def query_range(base_url: str, expr: str, period: Period) -> list[Series]:
    params = urllib.parse.urlencode(
        {"query": expr, "start": period.start, "end": period.end, "step": period.step}
    )
    url = f"{base_url.rstrip('/')}/api/v1/query_range?{params}"
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            answer = json.loads(response.read())
    except (OSError, ValueError) as e:
        raise LauncherError(f"Prometheus at {base_url}: {e}") from e
    if answer.get("status") != "success":
        raise LauncherError(f"Prometheus refused {expr!r}: {answer.get('error')}")
    return [
        Series(
            dict(item["metric"]),
            [(float(t), float(v)) for t, v in item["values"]],
        )
        for item in answer["data"]["result"]
    ]


def _one(cursor: Any, sql: str, args: tuple[Any, ...] = ()) -> Any:
    cursor.execute(sql, args)
    row = cursor.fetchone()
    return None if row is None else row[0]


def database_facts(config: ServerConfig, period: Period) -> dict[str, Any]:
    """Counts from Synapse's tables and ours for the period."""
    connection, engine = connect_database(config.raw["database"])
    mark = "?" if engine == "sqlite" else "%s"
    since_ms = int(period.start * 1000)
    try:
        cursor = connection.cursor()
        facts = {
            "engine": engine,
            "accounts": _one(
                cursor, "SELECT COUNT(*) FROM users WHERE deactivated = 0"
            ),
            "active_accounts": _one(
                cursor,
                f"SELECT COUNT(DISTINCT user_id) FROM user_ips WHERE last_seen >= {mark}",
                (since_ms,),
            ),
            "rooms": _one(cursor, "SELECT COUNT(*) FROM rooms"),
            "messages": _one(
                cursor,
                "SELECT COUNT(*) FROM events WHERE type = 'm.room.message'"
                f" AND origin_server_ts >= {mark}",
                (since_ms,),
            ),
            "directory_members": _one(cursor, "SELECT COUNT(*) FROM jwwx_dir_members"),
        }
    finally:
        connection.close()
    return facts


def backup_history(data_dir: Path, period: Period) -> list[dict[str, Any]]:
    path = data_dir / HISTORY_FILE
    if not path.exists():
        return []
    entries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        ts = entry.get("ts") or entry.get("backup_created_ts") or 0
        if ts / 1000 >= period.start:
            entries.append(entry)
    return entries


def gather(config: ServerConfig, prometheus: str, period: Period) -> Facts:
    facts = Facts(period)
    for key, expr in QUERIES.items():
        facts.series[key] = query_range(prometheus, expr, period)
    facts.database = database_facts(config, period)
    try:
        report = verify(config.data_dir, 1)
        facts.audit = {
            "ok": report["ok"],
            "checked": report.get("checked"),
            "head_seq": report.get("head_seq"),
        }
    except Exception as e:  # noqa: BLE001 - reported, not fatal to the report
        facts.audit = {"ok": False, "error": str(e)}
    facts.backups = backup_history(config.data_dir, period)
    if not facts.audit.get("ok"):
        facts.problems.append("审计链校验未通过 (audit chain not verified)")
    if not any(b.get("action") == "backup" for b in facts.backups):
        facts.problems.append("本期无备份记录 (no backup in the period)")
    if not facts.series["availability"]:
        facts.problems.append("无进程监控数据 (no up{job=synapse} series)")
    return facts


def period_of(name: str, now: float | None = None) -> Period:
    end = time.time() if now is None else now
    days, step = {"weekly": (7, 600), "quarterly": (91, 3 * 3600)}[name]
    return Period(name, end - days * 86400, end, step)
