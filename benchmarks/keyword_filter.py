# SPDX-License-Identifier: AGPL-3.0-or-later
"""Per-message CPU cost of modules.policy's keyword check (a microbenchmark).

    python -m benchmarks.keyword_filter

Prints microseconds per call (best of 5 repeats) for: normalisation of short/long,
Simplified/Traditional text; the bidi and HTML views; a whole check of an m.text event
against 10,001 keywords, without and with formatted_body; and the start-up cost
of the tables (built once per process). Numbers, not a gate (DESIGN.md: benchmarks never gate CI).
"""

import time
import timeit
from collections.abc import Callable
from typing import Any

from modules.policy import normalise as n
from modules.policy.extract import event_texts
from modules.policy.matcher import KeywordMatcher

SHORT = "今天下午三点在三楼会议室开会，请各位准时参加。"
TRADITIONAL = "今天下午三點在三樓會議室開會，請各位準時參加。"
HTML = "<p>" + "<b>今天</b>下午三点在三楼会议室开会，请各位准时参加。" * 8 + "</p>"


def _us(fn: Callable[[], Any], number: int) -> float:
    return min(timeit.repeat(fn, number=number, repeat=5)) / number * 1e6


def main() -> None:
    start = time.perf_counter()
    n.han_table()
    han_ms = (time.perf_counter() - start) * 1000
    start = time.perf_counter()
    n.build_table()
    tables_ms = (time.perf_counter() - start) * 1000
    matcher = KeywordMatcher([f"词{i:05d}号" for i in range(10000)] + ["协查通报"])
    plain = {"msgtype": "m.text", "body": SHORT}
    rich = {**plain, "format": "org.matrix.custom.html", "formatted_body": HTML}
    rows = [
        ("normalise, 24 chars", lambda: n.normalise(SHORT), 5000),
        ("normalise, 960 chars", lambda: n.normalise(SHORT * 40), 500),
        (
            "normalise, 960 chars Traditional",
            lambda: n.normalise(TRADITIONAL * 40),
            500,
        ),
        (
            "views, 25 chars with RLM (bidi)",
            lambda: list(n.views("\u200f" + SHORT)),
            1000,
        ),
        (f"views, {len(HTML)} chars HTML", lambda: list(n.views(HTML, True)), 300),
        (
            "check m.text 24 chars, 10,001 keywords",
            lambda: matcher.first_match(event_texts("m.room.message", None, plain)),
            2000,
        ),
        (
            "check m.text + formatted_body",
            lambda: matcher.first_match(event_texts("m.room.message", None, rich)),
            300,
        ),
    ]
    print(
        f"start-up: Han table {han_ms:.0f} ms, whole translate table {tables_ms:.0f} ms"
    )
    for label, fn, number in rows:
        print(f"{label}: {_us(fn, number):.1f} µs")


if __name__ == "__main__":
    main()
