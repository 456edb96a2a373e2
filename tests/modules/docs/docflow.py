# SPDX-License-Identifier: AGPL-3.0-or-later
"""Document workflow tests, run by test_docs.py's classes on their servers (both
engines): comments cannot be forged over the socket."""

from contextlib import AsyncExitStack
from typing import Any

from twisted.internet import threads

from pycrdt import Map

from tests.modules.docs import yjs

DOCS = "/_jwwx/client/v1/docs"


class DocflowTests:
    """Mixed into test_docs.DocsTests (its helpers and its server)."""

    server: Any

    async def test_comments_cannot_be_written_over_the_socket(self) -> None:
        t: Any = self
        alice, bob = t.user("alice"), t.user("bob")
        doc = await t._document(
            alice, grants=[{"kind": "user", "id": bob.user_id, "role": "editor"}]
        )
        doc_id, url = doc["doc_id"], doc["websocket_url"]
        comments = f"{DOCS}/{doc_id}/comments"

        async def write() -> tuple[str, str]:
            async with AsyncExitStack() as stack:
                a = await yjs.open_editor(stack, url, alice.token)
                a.text += "plate AB123"
                seen = await yjs.open_editor(stack, url, alice.token)
                await yjs.until(lambda: str(seen) == "plate AB123", "stored")
                return yjs.anchor(a, 0), yjs.anchor(a, 5)

        start, end = await threads.deferToThread(yjs.run, write)
        made = await alice.ok(
            "POST", comments, {"body": "核实车牌", "start": start, "end": end}
        )

        def forge(edit: Any) -> Any:
            async def scenario() -> tuple[int | None, dict[str, Any], str]:
                async with AsyncExitStack() as stack:
                    a = await yjs.open_editor(stack, url, alice.token)
                    b = await yjs.open_editor(stack, url, bob.token)
                    edit(b.doc.get("comments", type=Map))
                    await yjs.until(lambda: b.channel.close_code is not None, "closed")
                    a.text += "。"  # the owner goes on; the forgery never reaches her
                    seen = await yjs.open_editor(stack, url, alice.token)
                    await yjs.until(lambda: str(seen).endswith("。"), "owner's edit")
                    return b.channel.close_code, yjs.comments(seen), str(seen)

            return threads.deferToThread(yjs.run, scenario)

        forged = {
            "id": "forged",
            "author": alice.user_id,
            "body": "伪造的评论",
            "start": start,
            "end": end,
            "ts": 1,
            "resolved": False,
        }
        code, seen, _ = await forge(lambda m: m.__setitem__("forged", forged))
        t.assertEqual(code, 4403)
        t.assertEqual(list(seen), [made["id"]])
        code, seen, _ = await forge(lambda m: m.pop(made["id"]))
        t.assertEqual(code, 4403)
        t.assertEqual(list(seen), [made["id"]])
        changed = {**made, "body": "改过的内容"}
        code, seen, text = await forge(lambda m: m.__setitem__(made["id"], changed))
        t.assertEqual((code, seen[made["id"]]["body"]), (4403, "核实车牌"))
        t.assertEqual(text, "plate AB123。。。")
        listed = (await bob.ok("GET", comments))["comments"]
        t.assertEqual(
            [(c["id"], c["author"], c["body"]) for c in listed],
            [(made["id"], alice.user_id, "核实车牌")],
        )

        # An editor that holds the comments (received from the server) still edits.
        async def edit_again() -> str:
            async with AsyncExitStack() as stack:
                b = await yjs.open_editor(stack, url, bob.token)
                await yjs.until(lambda: made["id"] in yjs.comments(b), "has comment")
                b.text += "!"
                seen = await yjs.open_editor(stack, url, alice.token)
                await yjs.until(lambda: str(seen).endswith("!"), "bob's edit")
                return str(b.channel.close_code)

        t.assertEqual(await threads.deferToThread(yjs.run, edit_again), "None")
        refused = await t._audited(doc_id, "edit_refused", bob.user_id)
        t.assertEqual(refused["root"], "comments")
