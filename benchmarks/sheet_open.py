# SPDX-License-Identifier: AGPL-3.0-or-later
"""Spreadsheets (modules.docs, issue 25): import a generated .xlsx of `--rows` × 10
cells (nine numbers and a SUM formula per row, with Excel's cached values) and open
it in headless Chromium, `--opens` times.

    .venv/bin/python -m benchmarks.sheet_open [--rows 1000] [--opens 5]
        [--engine sqlite|postgres]

One server of ours (vanilla Synapse has no documents). Samples: the import request;
an open — from navigating to the editor page to the first screen of cells drawn with
the document synced (the issue's "open a 10,000-cell sheet < 2 s"); then scrolling to
the last row and its formula computed. The first open loads the room from the
database; the others find it in memory. Prints one table; nothing asserts a timing.
Say `uptime` with the numbers.
"""

import argparse
import io
import json
import os
import statistics
import time
import urllib.request
from typing import Any

from tests.harness.browser import browser_page, chromium_path
from tests.harness.server import TestServer
from tests.modules.docs import yjs

COLS = 10
SYNCED = "!!document.querySelector('.status[data-synced=true]')"
# What the page did when (sheet/view.js marks these; the script's own load before).
MARKS = """Object.fromEntries([
  ["script", performance.getEntriesByType("resource")
     .filter(e => e.name.includes("/view-")).map(e => e.responseEnd)[0]],
  ...performance.getEntriesByType("mark").map(m => [m.name, m.startTime]),
].map(([k, v]) => [k, Math.round(v)]))"""


def _xlsx(rows: int) -> bytes:
    import xlsxwriter

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    ws = book.add_worksheet("Sheet1")
    for r in range(rows):
        numbers = [r * COLS + c for c in range(COLS - 1)]
        for c, n in enumerate(numbers):
            ws.write_number(r, c, n)
        ws.write_formula(r, COLS - 1, f"=SUM(A{r + 1}:I{r + 1})", None, sum(numbers))
    book.close()
    return out.getvalue()


def _import(
    base_url: str, token: str, data: bytes, fmt: str = "xlsx"
) -> tuple[dict[str, Any], float]:
    """Import a file as a new document; its answer and the request's seconds."""
    request = urllib.request.Request(
        f"{base_url}/_jwwx/client/v1/docs/import?format={fmt}&title=bench",
        data=data,
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "x/y"},
    )
    start = time.perf_counter()
    with urllib.request.urlopen(request, timeout=300) as answer:
        body = json.loads(answer.read())
    return body, time.perf_counter() - start


def _timed_opens(
    url: str, user_id: str, token: str, count: int, ready: str, then: Any = None
) -> list[tuple[float, float, dict[str, int]]]:
    """Opens `url` `count` times in one headless Chromium page signed in as the user:
    per open, the seconds until `ready` (JavaScript, checked in the page at every
    frame) is true, then until `then(page)` (if given) returned, and the page's own
    marks."""
    session = json.dumps(json.dumps({"token": token, "userId": user_id}))
    samples = []
    with browser_page() as page:
        page.add_init_script(  # about:blank (between opens) has no sessionStorage
            f"try {{ sessionStorage.setItem('jwwx.web.session', {session}) }} catch {{}}"
        )
        for i in range(count):
            page.goto("about:blank")
            start = time.perf_counter()
            page.goto(f"{url}&open={i}", wait_until="commit")
            page.wait_for_function(f"() => ({ready})", polling="raf")
            opened = time.perf_counter() - start
            if then is not None:
                then(page)
            samples.append((opened, time.perf_counter() - start, page.evaluate(MARKS)))
        assert not page.errors, page.errors
    return samples


def _scroll_to_last(rows: int) -> Any:
    last = rows * COLS - COLS
    last_sum = str(sum(last + c for c in range(COLS - 1)))

    def scroll(page: Any) -> None:
        page.evaluate(  # the grid's rows are 24 px high (style.css)
            f"document.querySelector('.grid').scrollTop = {(rows - 10) * 24}"
        )
        page.wait_for_selector(f"td[data-cell=J{rows}]:text-is('{last_sum}')")

    return scroll


def _empty_document(base_url: str, token: str) -> str:
    """A new empty rich document: opening it is the page's own cost."""
    request = urllib.request.Request(
        f"{base_url}/_jwwx/client/v1/docs",
        data=json.dumps({"kind": "rich", "title": "empty"}).encode(),
        method="POST",
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
        },
    )
    with urllib.request.urlopen(request, timeout=300) as answer:
        return str(json.loads(answer.read())["doc_id"])


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.sheet_open")
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--opens", type=int, default=5)
    parser.add_argument("--engine", choices=("sqlite", "postgres"), default="sqlite")
    args = parser.parse_args()
    if chromium_path() is None:
        print("no Chromium: apt-get install chromium (or set JWWX_CHROMIUM)")
        return 2
    data = _xlsx(args.rows)
    load_before = os.getloadavg()[0]
    server = TestServer(args.engine, configure=lambda s: yjs.configure_docs(s))
    server.start()
    try:
        user_id, token = server.register("sheets")
        doc, imported = _import(server.base_url, token, data)
        app = f"{server.base_url}/_jwwx/docs/app/"
        samples = _timed_opens(
            f"{app}#doc={doc['doc_id']}&kind=sheet",
            user_id,
            token,
            args.opens,
            SYNCED + " && (document.querySelector('td[data-cell=J1]') || {})"
            ".textContent === '36'",
            _scroll_to_last(args.rows),
        )
        empty_id = _empty_document(server.base_url, token)
        empty = [
            s[0]
            for s in _timed_opens(
                f"{app}#doc={empty_id}",
                user_id,
                token,
                args.opens,
                SYNCED + " && !!document.querySelector('.ProseMirror')",
            )
        ]
    finally:
        server.stop()
    for _, _, marks in samples:
        print("in the page (ms since navigation):", json.dumps(marks))
    load = os.getloadavg()[0]
    cells = args.rows * COLS
    print(
        f"sheet_open on {args.engine}, {cells} cells, load average (1 min) "
        f"{load_before:.2f} before, {load:.2f} after"
    )
    print(f"{'metric':<52}{'n':>4}{'p50 ms':>10}{'max ms':>10}")
    print(
        f"{f'import of the .xlsx ({len(data)} bytes)':<52}{1:>4}{imported * 1000:>10.0f}"
    )
    for name, values in (
        ("open: page to first screen drawn, synced", [s[0] for s in samples]),
        ("open and scroll to the last row's formula", [s[1] for s in samples]),
    ):
        print(
            f"{name:<52}{len(values):>4}{statistics.median(values) * 1000:>10.0f}"
            f"{max(values) * 1000:>10.0f}"
        )
    print(
        f"{'first open (room loaded from the database)':<52}{1:>4}"
        f"{samples[0][0] * 1000:>10.0f}"
    )
    print(
        f"{'baseline: open an empty text document (the page)':<52}{len(empty):>4}"
        f"{statistics.median(empty) * 1000:>10.0f}{max(empty) * 1000:>10.0f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
