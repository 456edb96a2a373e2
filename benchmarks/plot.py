# SPDX-License-Identifier: AGPL-3.0-or-later
"""One PNG per scenario: the latency distribution of each metric, ours beside vanilla,
as empirical CDFs on a log time axis (the tail is what matters)."""

import gzip
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import matplotlib

matplotlib.use("Agg")  # files only, no display

import matplotlib.pyplot as plt  # noqa: E402 - after choosing the backend

from benchmarks.scenario import Sample  # noqa: E402


class HasSamples(Protocol):
    """A scenario's result on one server (a Context, or one read back from JSON)."""

    samples: list[Sample]


@dataclass
class Replayed:
    samples: list[Sample]


COLOURS = {"vanilla": "tab:gray", "ours": "tab:blue"}


def _filename(label: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in label) + ".png"


def plot_scenario(
    label: str, sides: Mapping[str, HasSamples], folder: Path
) -> Path | None:
    metrics: list[str] = []
    for ctx in sides.values():
        metrics += [
            s.metric for s in ctx.samples if s.latencies and s.metric not in metrics
        ]
    if not metrics:
        return None
    columns = min(3, len(metrics))
    rows = math.ceil(len(metrics) / columns)
    fig, axes = plt.subplots(
        rows, columns, figsize=(5 * columns, 3.6 * rows), squeeze=False
    )
    for ax, metric in zip(axes.flat, metrics, strict=False):
        for server, ctx in sides.items():
            sample = next((s for s in ctx.samples if s.metric == metric), None)
            if sample is None or not sample.latencies:
                continue
            ms = sorted(x * 1000 for x in sample.latencies)
            fractions = [(i + 1) / len(ms) for i in range(len(ms))]
            ax.step(
                ms,
                fractions,
                where="post",
                color=COLOURS.get(server),
                label=f"{server} (n={len(ms)}, p99 {ms[max(0, math.ceil(0.99 * len(ms)) - 1)]:.0f} ms)",
            )
        ax.set_xscale("log")
        ax.set_title(metric, fontsize=9)
        ax.set_xlabel("ms")
        ax.set_ylabel("fraction ≤ x")
        ax.axhline(0.99, color="tab:red", linewidth=0.5, linestyle=":")
        ax.grid(True, which="both", linewidth=0.3)
        ax.legend(fontsize=7, loc="lower right")
    for ax in list(axes.flat)[len(metrics) :]:
        ax.axis("off")
    fig.suptitle(label)
    fig.tight_layout()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / _filename(label)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def plot_all(
    contexts: Mapping[str, Mapping[str, HasSamples]], folder: Path
) -> list[Path]:
    paths = [plot_scenario(label, sides, folder) for label, sides in contexts.items()]
    return [p for p in paths if p is not None]


def plot_json(path: Path, folder: Path) -> list[Path]:
    """The plots of an earlier run, from its `--json` file (plain or .gz)."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        data = json.load(f)
    contexts = {
        label: {
            server: Replayed(
                [Sample(m, [x / 1000 for x in xs]) for m, xs in metrics.items()]
            )
            for server, metrics in servers.items()
        }
        for label, servers in data.get("latencies_ms", {}).items()
    }
    return plot_all(contexts, folder)
