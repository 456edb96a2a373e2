# SPDX-License-Identifier: AGPL-3.0-or-later
"""The bridges' shared application-service handler over HTTP (bridges/common/
appservice.py, served as the bridges serve it): a transaction is answered at once and
handled in the background by default; with await_events it is answered only once every
event is handled, a failure is a 500 that Synapse resends (handled again, then
remembered), and a resend arriving while the first is still being taken waits for it
instead of handling the events twice. Wrong tokens are refused before anything runs."""

from typing import Any

from twisted.internet import defer, reactor
from twisted.trial import unittest
from twisted.web import server

from bridges.common.appservice import TransactionHandler
from modules.common.http import StandaloneResource
from tests.harness.client import MatrixClient
from tests.modules.openapi.helpers import sleep

TOKEN = "hs-token-for-the-test"
WAIT_S = 90.0


def _event(n: int) -> dict[str, Any]:
    return {"type": "m.room.message", "event_id": f"$e{n}", "room_id": "!r:test"}


class Recorder:
    """on_event: records each event id; waits on `gate` when one is set; fails the
    events named in `failing` once each."""

    def __init__(self) -> None:
        self.handled: list[str] = []
        self.arrived = 0
        self.gate: defer.Deferred[None] | None = None
        self.failing: set[str] = set()

    async def on_event(self, event: dict[str, Any]) -> None:
        self.arrived += 1
        if self.gate is not None:
            await self.gate
        event_id = str(event["event_id"])
        if event_id in self.failing:
            self.failing.discard(event_id)
            raise RuntimeError("the store is not writable")
        self.handled.append(event_id)


class AppserviceTest(unittest.TestCase):
    timeout = 240

    def _serve(self, await_events: bool) -> tuple[Recorder, MatrixClient]:
        recorder = Recorder()
        handler = TransactionHandler(TOKEN, recorder.on_event, await_events)
        site = server.Site(StandaloneResource(handler.handle))
        port: Any = reactor.listenTCP(0, site, interface="127.0.0.1")  # type: ignore[attr-defined]
        self.addCleanup(port.stopListening)
        url = f"http://127.0.0.1:{port.getHost().port}"
        return recorder, MatrixClient(url, "@synapse:test", TOKEN)

    @staticmethod
    def _put(client: MatrixClient, txn: str, *events: int) -> Any:
        return defer.ensureDeferred(
            client.request(
                "PUT",
                f"/_matrix/app/v1/transactions/{txn}",
                {"events": [_event(n) for n in events]},
            )
        )

    async def _until(self, check: Any, what: str) -> None:
        for _ in range(int(WAIT_S / 0.1)):
            if check():
                return
            await sleep(0.1)
        self.fail(f"not within {WAIT_S} s: {what}")

    async def test_default_answers_first(self) -> None:
        recorder, client = self._serve(await_events=False)
        recorder.gate = defer.Deferred()
        self.assertEqual(await self._put(client, "t1", 1, 2), (200, {}))
        self.assertEqual(recorder.handled, [])  # still waiting on the gate
        recorder.gate.callback(None)
        await self._until(lambda: recorder.handled == ["$e1", "$e2"], "handled")
        wrong = MatrixClient(client.base_url, "@x:test", "wrong")
        answer = await wrong.request(
            "PUT", "/_matrix/app/v1/transactions/t2", {"events": [_event(3)]}
        )
        self.assertEqual(answer[0], 403)
        self.assertEqual(recorder.handled, ["$e1", "$e2"])

    async def test_await_events_answers_after_handling(self) -> None:
        recorder, client = self._serve(await_events=True)
        recorder.gate = defer.Deferred()
        first = self._put(client, "t1", 1, 2)
        await self._until(lambda: recorder.arrived >= 1, "the first event handed over")
        await sleep(0.5)
        self.assertFalse(first.called)  # not answered while the events wait
        # Synapse's resend of the same transaction meanwhile waits for the first.
        again = self._put(client, "t1", 1, 2)
        await sleep(0.5)
        self.assertFalse(again.called)
        recorder.gate.callback(None)
        recorder.gate = None
        self.assertEqual(await first, (200, {}))
        self.assertEqual(await again, (200, {}))
        self.assertEqual(recorder.handled, ["$e1", "$e2"])  # once each

        # An event that fails: 500, nothing remembered; the resend is taken.
        recorder.failing = {"$e4"}
        status, body = await self._put(client, "t2", 3, 4)
        self.assertEqual((status, body["errcode"]), (500, "M_UNKNOWN"))
        self.assertEqual(await self._put(client, "t2", 3, 4), (200, {}))
        self.assertEqual(recorder.handled, ["$e1", "$e2", "$e3", "$e3", "$e4"])
        # Taken: a later resend is answered without handling anything again.
        self.assertEqual(await self._put(client, "t2", 3, 4), (200, {}))
        self.assertEqual(len(recorder.handled), 5)
