# SPDX-License-Identifier: AGPL-3.0-or-later
"""Automatic transcription (auto_transcribe) on both engines: a voice message's text is
there without anyone asking; burn-after-read voice is never sent to the engine; the
engine down keeps the message waiting (retried, not dropped) until it is back; a
message recalled while waiting is dropped untouched; many at once go to the engine
auto_concurrency at a time, and a restart while some are with it loses none."""

import time
from typing import Any, ClassVar
from urllib.parse import quote

from tests.harness.case import PostgresCase, SQLiteCase
from tests.harness.client import MatrixClient
from tests.harness.server import free_port
from tests.modules.asr.test_asr import send_voice, voice
from tests.modules.openapi.helpers import sleep

from . import standin

ASR = "/_jwwx/client/v1/asr"
WAIT_S = 120.0
CONCURRENCY = 3


class AutoTests:
    timeout = 600  # several engine round trips and retries on a loaded machine
    user: Any
    assertEqual: Any
    assertTrue: Any
    fail: Any
    engine_port: ClassVar[int]
    asr_engine: ClassVar[standin.Engine]
    module_config: ClassVar[dict[str, dict[str, Any]]]

    @classmethod
    def prepare_class(cls) -> None:
        cls.asr_engine = standin.Engine(cls.engine_port)
        cls.asr_engine.start()

    @classmethod
    def finish_class(cls) -> None:
        cls.asr_engine.stop()

    async def _voice(
        self, client: MatrixClient, room: str, audio: bytes, **extra: Any
    ) -> str:
        return await send_voice(client, room, audio, **extra)

    async def _transcript(self, client: MatrixClient, event_id: str) -> str:
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            shown = await client.ok("GET", f"{ASR}/transcripts?event_ids={event_id}")
            if event_id in shown["transcripts"]:
                return str(shown["transcripts"][event_id])
            await sleep(0.3)
        self.fail(f"no transcript of {event_id}")

    async def _until(self, check: Any, what: str) -> None:
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            if check():
                return
            await sleep(0.2)
        self.fail(f"not within {WAIT_S} s: {what}")

    async def test_many_at_once_bounded_and_kept_over_restart(self) -> None:
        engine = type(self).asr_engine
        alice, bob = self.user("manya"), self.user("manyb")
        room = await alice.create_room(preset="private_chat", invite=[bob.user_id])
        await bob.join(room)
        clips = [voice(0.2, 300 + 40 * i) for i in range(2 * CONCURRENCY)]
        for i, clip in enumerate(clips):
            engine.teach(clip, f"第{i}条语音")
        before = engine.arrived
        engine.hold()
        try:
            sent = [await self._voice(alice, room, clip) for clip in clips]
            # auto_concurrency of the six reach the engine at once, and no more.
            await self._until(
                lambda: engine.arrived - before >= CONCURRENCY, "engine requests"
            )
            await sleep(1.0)
            self.assertEqual(engine.arrived - before, CONCURRENCY)
            self.assertEqual(engine.in_flight, CONCURRENCY)
            # Stopped while three are with the engine: the restarted server still
            # transcribes all six (none was taken off the queue unfinished).
            self.server.restart()
        finally:
            engine.release()
        for i, event_id in enumerate(sent):
            self.assertEqual(await self._transcript(bob, event_id), f"第{i}条语音")

    async def test_voice_transcribed_as_sent(self) -> None:
        engine = type(self).asr_engine
        alice, bob = self.user("autoa"), self.user("autob")
        room = await alice.create_room(preset="private_chat", invite=[bob.user_id])
        await bob.join(room)
        audio = voice(0.4, 350)
        engine.teach(audio, "收到请回复")
        first = await self._voice(alice, room, audio)
        self.assertEqual(await self._transcript(bob, first), "收到请回复")
        asked = await bob.ok(
            "POST", f"{ASR}/transcribe", {"room_id": room, "event_id": first}
        )
        self.assertTrue(asked["cached"])  # made before anyone asked

        # Burn-after-read voice never reaches the engine.
        calls = len(engine.calls)
        burning = voice(0.3, 900)
        engine.teach(burning, "不该出现")
        await self._voice(alice, room, burning, **{"cn.jwwx.burn_after_read": 60000})
        # The engine down: the message waits and is done once it is back.
        engine.stop()
        late = voice(0.5, 470)
        engine.teach(late, "引擎恢复后的转写")
        waiting = await self._voice(alice, room, late)
        recalled = await self._voice(alice, room, voice(0.2, 800))
        await sleep(2.0)
        await alice.ok(
            "PUT",
            f"/_matrix/client/v3/rooms/{quote(room)}/redact/{quote(recalled)}/r1",
            {},
        )
        engine.start()
        self.assertEqual(await self._transcript(bob, waiting), "引擎恢复后的转写")
        sent_to_engine = {c["bytes"] for c in engine.calls[calls:]}
        self.assertTrue(len(burning) not in sent_to_engine, engine.calls[calls:])
        self.assertEqual(
            (await bob.ok("GET", f"{ASR}/transcripts?event_ids={recalled}"))[
                "transcripts"
            ],
            {},
        )


def _config(port: int) -> dict[str, dict[str, Any]]:
    return {
        "modules.asr.AsrModule": {
            "engine": {
                "protocol": "openai",
                "url": f"http://127.0.0.1:{port}",
                "model": "police-asr-zh",
            },
            "auto_transcribe": True,
            "auto_retry_seconds": 1,
            "auto_concurrency": CONCURRENCY,
        }
    }


class AutoSQLiteTest(AutoTests, SQLiteCase):
    engine_port = free_port()
    module_config = _config(engine_port)


class AutoPostgresTest(AutoTests, PostgresCase):
    engine_port = free_port()
    module_config = _config(engine_port)
