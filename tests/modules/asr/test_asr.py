# SPDX-License-Identifier: AGPL-3.0-or-later
"""Voice messages to text over HTTP on both engines, against a stand-in engine that
speaks the OpenAI-compatible transcription protocol: transcribed once and kept, shown to
whoever may see the message, refused for non-voice, unseen and burn-after-read
messages, and a clear 503 when the engine is down. Real speech where espeak-ng is
installed: a voice message and a dictation of synthesised Mandarin reach the engine as
the WAV it decodes (skipped without espeak-ng)."""

import io
import math
import shutil
import struct
import subprocess
import tempfile
import wave
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import quote

from twisted.trial.unittest import SkipTest

from tests.harness.case import PostgresCase, SQLiteCase
from tests.harness.client import MatrixClient
from tests.harness.server import free_port

from . import standin

ASR = "/_jwwx/client/v1/asr"
ENGINE_PORT = free_port()


def voice(seconds: float, pitch: float) -> bytes:
    """A short WAV (the stand-in does not listen; the bytes pick the transcript)."""
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        frames = int(8000 * seconds)
        w.writeframes(
            b"".join(
                struct.pack("<h", int(8000 * math.sin(2 * math.pi * pitch * i / 8000)))
                for i in range(frames)
            )
        )
    return out.getvalue()


MAX_AUDIO = 200_000


async def send_voice(
    client: MatrixClient, room: str, audio: bytes, **extra: Any
) -> str:
    """Upload `audio` and send it as a voice message; its event id."""
    status, uploaded = await client.request(
        "POST", "/_matrix/media/v3/upload?filename=voice.wav", raw=audio
    )
    assert status == 200, uploaded
    content = {
        "msgtype": "m.audio",
        "body": "语音",
        "url": uploaded["content_uri"],
        "info": {"mimetype": "audio/wav", "size": len(audio), "duration": 1000},
        "org.matrix.msc3245.voice": {},
        **extra,
    }
    status, sent = await client.send(room, content)
    assert status == 200, sent
    return str(sent["event_id"])


class AsrTests:
    user: Any
    assertEqual: Any
    assertTrue: Any
    assertErrcode: Any
    asr_engine: ClassVar[standin.Engine]
    module_config: ClassVar[dict[str, dict[str, Any]]] = {
        "modules.asr.AsrModule": {
            "engine": {
                "protocol": "openai",
                "url": f"http://127.0.0.1:{ENGINE_PORT}",
                "model": "police-asr-zh",
            },
            "max_audio_bytes": MAX_AUDIO,
        }
    }

    @classmethod
    def prepare_class(cls) -> None:
        cls.asr_engine = standin.Engine(ENGINE_PORT)
        cls.asr_engine.start()

    @classmethod
    def finish_class(cls) -> None:
        cls.asr_engine.stop()

    async def _voice(
        self, client: MatrixClient, room: str, audio: bytes, **extra: Any
    ) -> str:
        return await send_voice(client, room, audio, **extra)

    async def test_voice_to_text(self) -> None:
        alice, bob, stranger = self.user("asra"), self.user("asrb"), self.user("asrc")
        room = await alice.create_room(preset="private_chat", invite=[bob.user_id])
        await bob.join(room)
        audio = voice(0.6, 440)
        type(self).asr_engine.teach(audio, "今天下午三点在指挥中心开会")
        event_id = await self._voice(alice, room, audio)
        calls = len(type(self).asr_engine.calls)
        first = await bob.ok(
            "POST", f"{ASR}/transcribe", {"room_id": room, "event_id": event_id}
        )
        self.assertEqual(
            (first["text"], first["cached"]), ("今天下午三点在指挥中心开会", False)
        )
        call = type(self).asr_engine.calls[-1]
        self.assertEqual(
            (call["model"], call["language"], call["bytes"]),
            ("police-asr-zh", "zh", len(audio)),
        )
        # Kept: Alice gets it without the engine; the client's batch read shows it.
        again = await alice.ok(
            "POST", f"{ASR}/transcribe", {"room_id": room, "event_id": event_id}
        )
        self.assertTrue(again["cached"])
        self.assertEqual(len(type(self).asr_engine.calls), calls + 1)
        shown = await alice.ok("GET", f"{ASR}/transcripts?event_ids={event_id},$other")
        self.assertEqual(shown["transcripts"], {event_id: "今天下午三点在指挥中心开会"})
        self.assertEqual(
            (await stranger.ok("GET", f"{ASR}/transcripts?event_ids={event_id}"))[
                "transcripts"
            ],
            {},
        )

        status, text = await alice.send_text(room, "文字消息")
        burn = await self._voice(
            alice, room, voice(0.3, 300), **{"org.matrix.self_destruct": 60000}
        )
        for client, body, code, errcode in (
            (stranger, {"room_id": room, "event_id": event_id}, 404, "M_NOT_FOUND"),
            (
                bob,
                {"room_id": room, "event_id": text["event_id"]},
                400,
                "CN_JWWX_ASR_NOT_VOICE",
            ),
            (
                bob,
                {"room_id": room, "event_id": burn},
                403,
                "CN_JWWX_ASR_BURN_AFTER_READ",
            ),
            (bob, {"room_id": room}, 400, "M_INVALID_PARAM"),
        ):
            self.assertErrcode(
                await client.request("POST", f"{ASR}/transcribe", body), code, errcode
            )

        # Recalled (redacted): its transcript is gone with it.
        await alice.ok(
            "PUT",
            f"/_matrix/client/v3/rooms/{quote(room)}/redact/{quote(event_id)}/recall1",
            {"reason": "撤回"},
        )
        shown = await bob.ok("GET", f"{ASR}/transcripts?event_ids={event_id}")
        self.assertEqual(shown["transcripts"], {})

        # Voice input: the audio itself in, its text out, nothing kept.
        spoken = voice(0.5, 610)
        type(self).asr_engine.teach(spoken, "请各单位注意查收")
        status, dictated = await bob.request(
            "POST", f"{ASR}/dictate", raw=spoken, content_type="audio/wav"
        )
        self.assertEqual((status, dictated), (200, {"text": "请各单位注意查收"}))
        for raw, content_type, errcode in (
            (spoken, "image/png", "CN_JWWX_ASR_NOT_VOICE"),
            (b"", "audio/wav", "CN_JWWX_ASR_NOT_VOICE"),
            (b"0" * (MAX_AUDIO + 1), "audio/wav", "CN_JWWX_ASR_AUDIO_TOO_LARGE"),
        ):
            self.assertErrcode(
                await bob.request(
                    "POST", f"{ASR}/dictate", raw=raw, content_type=content_type
                ),
                400,
                errcode,
            )

        # The engine down: a clear 503, nothing kept; back up: it works.
        fresh = await self._voice(alice, room, voice(0.4, 520))
        type(self).asr_engine.stop()
        refused = self.assertErrcode(
            await bob.request(
                "POST", f"{ASR}/transcribe", {"room_id": room, "event_id": fresh}
            ),
            503,
            "CN_JWWX_ASR_UNAVAILABLE",
        )
        self.assertTrue("无法连接" in refused["error"], refused)
        type(self).asr_engine.start()
        back = await bob.ok(
            "POST", f"{ASR}/transcribe", {"room_id": room, "event_id": fresh}
        )
        self.assertEqual(back["cached"], False)


def spoken(text: str) -> bytes | None:
    """Real speech: `text` said by espeak-ng (Mandarin voice) as a WAV; None where
    espeak-ng is not installed (`make tools` installs it as root)."""
    program = shutil.which("espeak-ng")
    if program is None:
        return None
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "speech.wav"
        subprocess.run(
            [program, "-v", "cmn", "-s", "150", "-w", str(path), text],
            check=True,
            capture_output=True,
            timeout=60,
        )
        return path.read_bytes()


class AsrSQLiteTest(AsrTests, SQLiteCase):
    async def test_real_speech(self) -> None:
        # Speech synthesised by espeak-ng, sent as a voice message and dictated: the
        # engine gets a WAV it decodes whole, of the length said (the stand-in still
        # answers what it was taught for those bytes).
        said = "请各单位注意查收"
        audio = spoken(said)
        if audio is None:
            raise SkipTest("espeak-ng is not installed (make tools installs it)")
        self.assertLess(len(audio), MAX_AUDIO)
        with wave.open(io.BytesIO(audio), "rb") as w:
            shape = (w.getnchannels(), w.getframerate(), w.getnframes())
        self.assertGreater(shape[2] / shape[1], 1.0)  # seconds of speech (3.5 s here)
        type(self).asr_engine.teach(audio, said)
        alice, bob = self.user("asrspeak"), self.user("asrhear")
        room = await alice.create_room(preset="private_chat", invite=[bob.user_id])
        await bob.join(room)
        event_id = await self._voice(alice, room, audio)
        heard = await bob.ok(
            "POST", f"{ASR}/transcribe", {"room_id": room, "event_id": event_id}
        )
        self.assertEqual(heard["text"], said)
        self.assertEqual(type(self).asr_engine.calls[-1]["wav"], shape)
        status, dictated = await bob.request(
            "POST", f"{ASR}/dictate", raw=audio, content_type="audio/wav"
        )
        self.assertEqual((status, dictated), (200, {"text": said}))
        self.assertEqual(type(self).asr_engine.calls[-1]["wav"], shape)


class AsrPostgresTest(AsrTests, PostgresCase):
    pass
