# SPDX-License-Identifier: AGPL-3.0-or-later
"""Result rows, the plain-text table and the JSON file every scenario produces."""

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePath
from typing import Any

from benchmarks.stats import Summary

HEADERS = (
    "scenario",
    "metric",
    "n",
    "value",
    "p50 ms",
    "p95 ms",
    "p99 ms",
    "max ms",
    "per s",
    "vs vanilla",
    "note",
)


@dataclass
class Row:
    """One line: a latency distribution (summary) and/or a single value with its unit."""

    scenario: str
    metric: str
    summary: Summary | None = None
    value: float | None = None
    unit: str = ""
    n: int | None = None
    throughput: float | None = None
    ratio: float | None = None
    note: str = ""
    server: str = ""  # "vanilla" / "ours" in `run` tables; empty: no server column
    ratio_text: str = ""  # shown when there is no ratio (e.g. "no vanilla equivalent")

    def cells(self) -> list[str]:
        s = self.summary
        n = self.n if self.n is not None else (s.n if s else None)
        per_s = (
            self.throughput
            if self.throughput is not None
            else (s.throughput if s else None)
        )
        value = "" if self.value is None else f"{_num(self.value)} {self.unit}".strip()
        return [
            self.scenario,
            self.metric,
            "" if n is None else str(n),
            value,
            *(_num(x) for x in ((s.p50, s.p95, s.p99, s.max) if s else (None,) * 4)),
            _num(per_s),
            self.ratio_text or ("" if self.ratio is None else f"{self.ratio:.2f}x"),
            self.note,
        ]

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["summary"] = None if self.summary is None else asdict(self.summary)
        return _finite(data)


def _num(x: float | None) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return ""
    if abs(x) >= 100:
        return f"{x:.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"


def _finite(value: Any) -> Any:
    """NaN is not JSON: write null instead."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    if isinstance(value, PurePath):  # e.g. --profile's output paths
        return str(value)
    return value


def _width(text: str) -> int:
    """Display width: CJK characters take two columns."""
    return sum(2 if ord(c) > 0x2E80 else 1 for c in text)


def format_table(rows: list[Row]) -> str:
    table = [list(HEADERS)] + [r.cells() for r in rows]
    numeric = set(range(2, 10))
    if any(r.server for r in rows):
        # A server column after the metric; the numbers move one to the right.
        table = [
            line[:2] + [r] + line[2:]
            for line, r in zip(
                table, ["server"] + [r.server for r in rows], strict=True
            )
        ]
        numeric = set(range(3, 11))
    widths = [max(_width(line[i]) for line in table) for i in range(len(table[0]))]
    out = []
    for index, line in enumerate(table):
        cells = []
        for i, cell in enumerate(line):
            pad = " " * (widths[i] - _width(cell))
            cells.append(pad + cell if i in numeric else cell + pad)
        out.append("  ".join(cells).rstrip())
        if index == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def markdown_table(rows: list[Row]) -> str:
    """The same table as Markdown (for RESULTS.md)."""
    headers = list(HEADERS)
    lines = [r.cells() for r in rows]
    if any(r.server for r in rows):
        headers.insert(2, "server")
        lines = [c[:2] + [r.server] + c[2:] for c, r in zip(lines, rows, strict=True)]
    out = ["| " + " | ".join(headers) + " |", "|" + " --- |" * len(headers)]
    out += [
        "| " + " | ".join(c.replace("|", "/").replace("\n", " ") for c in line) + " |"
        for line in lines
    ]
    return "\n".join(out)


@dataclass
class Report:
    benchmark: str
    params: dict[str, Any]
    machine: dict[str, Any] = field(default_factory=dict)
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, row: Row) -> Row:
        self.rows.append(row)
        print(
            f"  {row.scenario} / {row.metric}: {' '.join(row.cells()[2:])}", flush=True
        )
        return row

    def text(self) -> str:
        head = [f"benchmark: {self.benchmark}"]
        head += [f"  {k}: {v}" for k, v in {**self.params, **self.machine}.items()]
        notes = [f"note: {n}" for n in self.notes]
        return "\n".join([*head, "", format_table(self.rows), "", *notes])

    def write_json(self, path: Path, extra: dict[str, Any] | None = None) -> None:
        data = {
            **(extra or {}),
            "benchmark": self.benchmark,
            "params": self.params,
            "machine": self.machine,
            "rows": [r.as_json() for r in self.rows],
            "notes": self.notes,
        }
        path.write_text(
            json.dumps(_finite(data), ensure_ascii=False, indent=2) + "\n",
            encoding="utf-8",
        )
