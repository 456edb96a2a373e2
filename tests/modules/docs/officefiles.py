# SPDX-License-Identifier: AGPL-3.0-or-later
"""What the sheet and slide tests share (test_sheets.py, test_slides.py): importing a
file through the document API, an imported document shared with an editor and a
reader and edited in three Chromium pages, signing a page in, and a LibreOffice
without the component a legacy format needs (501 and nothing created)."""

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from twisted.internet import threads

from tests.harness.browser import require_browser
from tests.harness.client import MatrixClient
from tests.harness.server import TestServer
from tests.modules.docs import yjs

DOCS = "/_jwwx/client/v1/docs"


def q(value: str) -> str:
    return quote(value, safe="")


async def import_file(
    client: MatrixClient, fmt: str, data: bytes, title: str, content_type: str
) -> tuple[int, Any]:
    """POST …/import?format=&title= with the file as the body: (status, answer)."""
    return await client.request(
        "POST",
        f"{DOCS}/import?format={fmt}&title={q(title)}",
        raw=data,
        content_type=content_type,
    )


async def edit_imported_in_pages(
    case: Any,
    fmt: str,
    data: bytes,
    content_type: str,
    title: str,
    kind: str | None,
    pages: Callable[[str, tuple[MatrixClient, ...]], list],
) -> tuple[MatrixClient, str]:
    """Alice imports a file and shares it with Bob (editor) and Dave (reader);
    `pages(url, (alice, bob, dave))` drives their pages (in a thread) and answers the
    pages' JavaScript errors, which must be none. Answers (alice, the doc_id)."""
    require_browser()
    alice, bob, dave = case.user("alice"), case.user("bob"), case.user("dave")
    status, doc = await import_file(alice, fmt, data, title, content_type)
    case.assertEqual(status, 200, doc)
    doc_id = doc["doc_id"]
    grants = [
        {"kind": "user", "id": bob.user_id, "role": "editor"},
        {"kind": "user", "id": dave.user_id, "role": "reader"},
    ]
    await alice.ok("PUT", f"{DOCS}/{doc_id}/sharing", {"grants": grants})
    url = f"{case.server.base_url}/_jwwx/docs/app/#doc={q(doc_id)}"
    if kind is not None:
        url += f"&kind={kind}"
    errors = await threads.deferToThread(pages, url, (alice, bob, dave))
    case.assertEqual(errors, [])
    return alice, doc_id


def sign_in(page: Any, client: MatrixClient, url: str, ready: str) -> None:
    """Open the editor page as `client` and wait until it is synced and `ready` (a
    selector) shows."""
    session = {"token": client.token, "userId": client.user_id}
    page.add_init_script(
        f"sessionStorage.setItem('jwwx.web.session', {json.dumps(json.dumps(session))})"
    )
    page.goto(url)
    page.wait_for_selector(".status[data-status=connected][data-synced=true]")
    page.wait_for_selector(ready)


def without_component(server: TestServer) -> None:
    """A soffice of the server's own whose installation has no component registry
    (share/registry/*.xcd): LibreOffice without Calc or Impress."""
    program = server.data_dir / "libreoffice" / "program"
    program.mkdir(parents=True)
    binary = program / "soffice"
    binary.write_text("#!/bin/sh\nexit 1\n", encoding="utf-8")
    binary.chmod(0o755)
    yjs.configure_docs(server, soffice_path=str(binary))


async def check_no_converter(
    case: Any, fmt: str, raw: bytes, content_type: str, component: str
) -> None:
    """A legacy file's import without the component: 501 with the converter's
    errcode naming the component, and no document created."""
    alice = case.user("alice")
    status, body = await alice.request(
        "POST", f"{DOCS}/import?format={fmt}", raw=raw, content_type=content_type
    )
    case.assertEqual(status, 501, body)
    case.assertEqual(body["errcode"], "CN_JWWX_DOCS_NO_CONVERTER")
    case.assertIn(component, body["error"])
    mine = await alice.ok("GET", DOCS + "?filter=mine")
    case.assertEqual(mine["documents"], [])
