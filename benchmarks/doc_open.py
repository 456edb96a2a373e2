# SPDX-License-Identifier: AGPL-3.0-or-later
"""Word documents (modules.docs, issue 25): import a generated .docx of `--pages` pages
and open it in headless Chromium, `--opens` times; the import alone also for
`--import-pages` (the issue's "import a 20-page docx < 5 s").

    .venv/bin/python -m benchmarks.doc_open [--pages 50] [--import-pages 20] [--opens 5]
        [--engine sqlite|postgres]

A page here is what Word lays out on one A4 page at its default style: a heading,
eight paragraphs of about 60 Chinese characters, and every fifth page a 6 × 4 table,
then a page break. An open is from navigating to the editor page until the editor
holds the document's last paragraph with the document synced (the issue's "open a
50-page document < 2 s"). One server of ours (vanilla Synapse has no documents).
Prints one table; nothing asserts a timing. Say `uptime` with the numbers.
"""

import argparse
import io
import json
import os
import statistics

from benchmarks.sheet_open import SYNCED, _import, _timed_opens
from tests.harness.browser import chromium_path
from tests.harness.server import TestServer
from tests.modules.docs import yjs

SENTENCE = "各单位要严格落实值班备勤制度，加强重点部位巡逻防控，确保辖区社会治安稳定。"


def _last_words(pages: int) -> str:
    return f"第{pages}页结束"


def _docx(pages: int) -> bytes:
    from docx import Document
    from docx.enum.text import WD_BREAK

    document = Document()
    for page in range(1, pages + 1):
        document.add_heading(f"第{page}页 工作通报", level=2)
        for line in range(8):
            document.add_paragraph(f"{page}.{line + 1} {SENTENCE}")
        if page % 5 == 0:
            table = document.add_table(rows=6, cols=4)
            for r, row in enumerate(table.rows):
                for c, cell in enumerate(row.cells):
                    cell.text = f"{r}-{c}"
        last = document.add_paragraph(_last_words(page))
        if page < pages:
            last.add_run().add_break(WD_BREAK.PAGE)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.doc_open")
    parser.add_argument("--pages", type=int, default=50)
    parser.add_argument("--import-pages", type=int, default=20)
    parser.add_argument("--opens", type=int, default=5)
    parser.add_argument("--engine", choices=("sqlite", "postgres"), default="sqlite")
    args = parser.parse_args()
    if chromium_path() is None:
        print("no Chromium: apt-get install chromium (or set JWWX_CHROMIUM)")
        return 2
    big, small = _docx(args.pages), _docx(args.import_pages)
    load_before = os.getloadavg()[0]
    server = TestServer(args.engine, configure=lambda s: yjs.configure_docs(s))
    server.start()
    try:
        user_id, token = server.register("docs")
        imports = [_import(server.base_url, token, small, "docx")[1] for _ in range(3)]
        doc, imported_big = _import(server.base_url, token, big, "docx")
        last = json.dumps(_last_words(args.pages))
        samples = _timed_opens(
            f"{server.base_url}/_jwwx/docs/app/#doc={doc['doc_id']}",
            user_id,
            token,
            args.opens,
            SYNCED + " && [...document.querySelectorAll('.ProseMirror p')]"
            f".some(p => p.textContent === {last})",
        )
    finally:
        server.stop()
    load = os.getloadavg()[0]
    print(
        f"doc_open on {args.engine}, load average (1 min) {load_before:.2f} before,"
        f" {load:.2f} after"
    )
    print(f"{'metric':<52}{'n':>4}{'p50 ms':>10}{'max ms':>10}")
    for name, values in (
        (f"import a {args.import_pages}-page .docx ({len(small)} bytes)", imports),
        (f"import a {args.pages}-page .docx ({len(big)} bytes)", [imported_big]),
        (
            f"open the {args.pages}-page document: page to last paragraph, synced",
            [s[0] for s in samples],
        ),
    ):
        print(
            f"{name:<52}{len(values):>4}{statistics.median(values) * 1000:>10.0f}"
            f"{max(values) * 1000:>10.0f}"
        )
    print(
        f"{'first open (room loaded from the database)':<52}{1:>4}"
        f"{samples[0][0] * 1000:>10.0f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
