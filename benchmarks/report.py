"""Result rows, the plain-text table and the JSON file every scenario produces."""

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
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
            "" if self.ratio is None else f"{self.ratio:.2f}x",
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
    return value


def _width(text: str) -> int:
    """Display width: CJK characters take two columns."""
    return sum(2 if ord(c) > 0x2E80 else 1 for c in text)


def format_table(rows: list[Row]) -> str:
    table = [list(HEADERS)] + [r.cells() for r in rows]
    widths = [max(_width(line[i]) for line in table) for i in range(len(HEADERS))]
    numeric = set(range(2, 10))
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

    def write_json(self, path: Path) -> None:
        data = {
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
