# SPDX-License-Identifier: AGPL-3.0-or-later
"""Speech to text: ours' overhead on top of the speech engine (issue 24), ours only, a
standalone benchmark like group_receipts.py.

    python -m benchmarks.asr_overhead [--officers 4] [--voices 5] [--dictations 5] \
        [--burst 40] [--auto-concurrency 4] [--think-ms 300] [--audio-seconds 2] \
        [--engine sqlite|postgres] [--json OUT.json]

A real homeserver (the launcher, SQLite or PostgreSQL) with modules.asr on
`auto_transcribe: true` and the engine the tests' stand-in
(tests/modules/asr/standin.py: OpenAI-compatible /v1/audio/transcriptions), which
here also waits `--think-ms` per request and records its own time (request read →
answer ready). The audio is spoken by espeak-ng when it is installed, else a
generated WAV tone of `--audio-seconds`; every message's bytes differ, so the stand-in
answers each with its own text.

- Voice messages: each officer (all at once) uploads a voice message, then sends it
  to the officer he chats with, one after the other. Round trip: from just before
  the send to the first answer of `GET /_jwwx/client/v1/asr/transcripts` (the
  receiving officer's client, polling every `--poll-ms`) that has its transcript. The
  transcript is kept by the server, not posted into the chat, so it does not arrive
  in /sync: polling is how a client sees it (half the poll interval is in the
  round trip on average).
- Burst: `--burst` voice messages sent at once (spread over the officers, nobody
  waiting for a transcript): each one's send → transcript (one poll for all that are
  outstanding), the wall time until the last, messages/s against what
  `--auto-concurrency` requests at a time of `--think-ms` allow, and how many the
  engine had at once (the stand-in counts).
- Dictation (语音输入): `POST /_jwwx/client/v1/asr/dictate` with the audio as the body,
  to its answer.
Ours' overhead: the round trip minus the engine's own time for the same audio."""

import argparse
import asyncio
import io
import math
import shutil
import subprocess
import time
import wave
from array import array
from typing import Any
from urllib.parse import quote

from benchmarks import engine_overhead as shared
from benchmarks.aclient import CLIENT, Http, MatrixUser
from benchmarks.report import Report, Row
from benchmarks.stats import Summary
from tests.harness.server import TestServer, free_port
from tests.modules.asr.standin import Engine

ASR = "/_jwwx/client/v1/asr"
WAIT_S = 120.0


class TimedEngine(Engine):
    """The stand-in, thinking `think_seconds` per request and timing itself."""

    def __init__(self, port: int, think_seconds: float) -> None:
        super().__init__(port)
        self.think_seconds = think_seconds
        self.seconds: dict[str, float] = {}  # transcript -> engine's own time

    def answer(
        self, path: str, content_type: str, raw: bytes, authorization: str | None
    ) -> tuple[int, dict[str, Any]]:
        started = time.perf_counter()
        time.sleep(self.think_seconds)
        status, body = super().answer(path, content_type, raw, authorization)
        text = str(body.get("text", ""))
        self.seconds[text] = time.perf_counter() - started  # one key per thread
        return status, body


def espeak(text: str) -> bytes | None:
    """Mandarin speech as WAV from espeak-ng, or None without it."""
    if shutil.which("espeak-ng") is None:
        return None
    for voice in ("cmn", "zh"):
        done = subprocess.run(
            ["espeak-ng", "-v", voice, "--stdout", text],
            capture_output=True,
            check=False,
            timeout=60,
        )
        if done.returncode == 0 and done.stdout:
            return done.stdout
    return None


def tone(seconds: float, pitch: float) -> bytes:
    """A 16 kHz mono WAV tone (what a voice message's size is like)."""
    rate = 16000
    samples = array(
        "h",
        (
            int(6000 * math.sin(2 * math.pi * pitch * i / rate))
            for i in range(int(rate * seconds))
        ),
    )
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.tobytes())
    return out.getvalue()


def audio(number: int, seconds: float) -> tuple[bytes, str]:
    """(WAV bytes, how it was made) unique to `number`."""
    spoken = espeak(f"第{number}条语音，请到三号岗亭集合")
    if spoken is not None:
        return spoken, "espeak-ng"
    return tone(seconds, 300 + number), "generated tone"


async def _upload(user: MatrixUser, data: bytes) -> str:
    answer = await user.http.request(
        "POST",
        "/_matrix/media/v3/upload?filename=voice.wav",
        token=user.token,
        raw=data,
        content_type="audio/wav",
    )
    if not answer.ok:
        raise RuntimeError(f"upload: {answer.error()}")
    return str(answer.body["content_uri"])


async def _voice(
    sender: MatrixUser, reader: MatrixUser, room: str, data: bytes, poll: float
) -> float:
    """Round trip of one voice message: send → transcript seen by the reader."""
    uri = await _upload(sender, data)
    content = {
        "msgtype": "m.audio",
        "body": "语音",
        "url": uri,
        "info": {"mimetype": "audio/wav", "size": len(data), "duration": 2000},
        "org.matrix.msc3245.voice": {},
    }
    path = f"{CLIENT}/rooms/{quote(room)}/send/m.room.message/v{time.time_ns()}"
    started = time.perf_counter()
    sent = await sender.call("PUT", path, content)
    if not sent.ok:
        raise RuntimeError(f"voice send: {sent.error()}")
    event_id = str(sent.body["event_id"])
    deadline = started + WAIT_S
    while time.perf_counter() < deadline:
        shown = await reader.call(
            "GET", f"{ASR}/transcripts?event_ids={quote(event_id)}"
        )
        if shown.ok and event_id in shown.body["transcripts"]:
            return time.perf_counter() - started
        await asyncio.sleep(poll)
    raise RuntimeError(f"no transcript of {event_id}")


async def _burst(
    senders: list[MatrixUser],
    reader_of: dict[str, MatrixUser],
    rooms: list[str],
    clips: list[list[bytes]],
    poll: float,
) -> tuple[list[float], float]:
    """Every officer sends his clips at once, one after the other without waiting for
    transcripts; (each message's send → transcript seen, wall until the last)."""
    sent: dict[str, tuple[MatrixUser, float]] = {}

    async def send_all(i: int) -> None:
        uris = [await _upload(senders[i], data) for data in clips[i]]
        for k, uri in enumerate(uris):
            content = {
                "msgtype": "m.audio",
                "body": "语音",
                "url": uri,
                "info": {"mimetype": "audio/wav", "size": len(clips[i][k])},
                "org.matrix.msc3245.voice": {},
            }
            path = f"{CLIENT}/rooms/{quote(rooms[i])}/send/m.room.message/b{i}-{k}"
            started = time.perf_counter()
            answer = await senders[i].call("PUT", path, content)
            if not answer.ok:
                raise RuntimeError(f"burst send: {answer.error()}")
            sent[str(answer.body["event_id"])] = (
                reader_of[senders[i].user_id],
                started,
            )

    first = time.perf_counter()
    await asyncio.gather(*(send_all(i) for i in range(len(senders))))
    done: dict[str, float] = {}
    deadline = time.perf_counter() + WAIT_S
    while len(done) < len(sent):
        if time.perf_counter() > deadline:
            raise RuntimeError(f"burst: {len(sent) - len(done)} never transcribed")
        waiting: dict[str, tuple[MatrixUser, list[str]]] = {}
        for event_id, (reader, _started) in sent.items():
            if event_id not in done:
                waiting.setdefault(reader.user_id, (reader, []))[1].append(event_id)
        for reader, ids in waiting.values():
            for start in range(0, len(ids), 100):
                chunk = ids[start : start + 100]
                shown = await reader.call(
                    "GET", f"{ASR}/transcripts?event_ids={quote(','.join(chunk))}"
                )
                now = time.perf_counter()
                if shown.ok:
                    for event_id in shown.body["transcripts"]:
                        done.setdefault(event_id, now - sent[event_id][1])
        await asyncio.sleep(poll)
    return list(done.values()), time.perf_counter() - first


async def _dictate(user: MatrixUser, data: bytes) -> tuple[float, str]:
    answer = await user.http.request(
        "POST",
        f"{ASR}/dictate",
        token=user.token,
        raw=data,
        content_type="audio/wav",
        timeout=WAIT_S,
    )
    if not answer.ok:
        raise RuntimeError(f"dictate: {answer.error()}")
    return answer.seconds, str(answer.body["text"])


async def _measure(server: TestServer, engine: TimedEngine, args: Any) -> Report:
    report = Report(
        "asr_overhead",
        {
            "engine": args.engine,
            "officers": args.officers,
            "voice messages per officer": args.voices,
            "dictations per officer": args.dictations,
            "burst voice messages": args.burst,
            "auto_concurrency": args.auto_concurrency,
            "engine think ms": args.think_ms,
            "transcript poll ms": args.poll_ms,
        },
        shared.machine(),
    )
    n = args.officers
    clips: list[list[tuple[bytes, str]]] = []
    burst: list[list[bytes]] = [[] for _ in range(n)]
    made = ""
    for i in range(n):
        mine = []
        for k in range(args.voices + args.dictations + 1):
            data, made = audio(i * 1000 + k, args.audio_seconds)
            text = f"第{i}-{k}条语音的转写"
            engine.teach(data, text)
            mine.append((data, text))
        clips.append(mine)
    for k in range(args.burst):
        data, made = audio(100_000 + k, args.audio_seconds)
        engine.teach(data, f"第{k}条连发语音")
        burst[k % n].append(data)
    report.params["audio"] = f"{made}, {len(clips[0][0][0])} bytes"
    senders = [server.register(f"voicea{i}") for i in range(n)]
    readers = [server.register(f"voiceb{i}") for i in range(n)]
    poll = args.poll_ms / 1000
    cpu = shared.Cpu(server)
    async with Http(server.base_url) as http:
        a = [MatrixUser(http, u, t) for u, t in senders]
        b = [MatrixUser(http, u, t) for u, t in readers]
        rooms = []
        for sender, reader in zip(a, b, strict=True):
            room = await sender.create_room(
                preset="trusted_private_chat", is_direct=True, invite=[reader.user_id]
            )
            await reader.join(room)
            rooms.append(room)
        # Warm-up: one voice message and one dictation each.
        await asyncio.gather(
            *(_voice(a[i], b[i], rooms[i], clips[i][0][0], poll) for i in range(n))
        )

        async def voices(i: int) -> list[tuple[float, str]]:
            return [
                (await _voice(a[i], b[i], rooms[i], data, poll), text)
                for data, text in clips[i][1 : 1 + args.voices]
            ]

        cpu0, started = cpu.now(), time.perf_counter()
        sent = [x for xs in await asyncio.gather(*map(voices, range(n))) for x in xs]
        voice_wall = time.perf_counter() - started
        cpu1 = cpu.now()

        engine.max_in_flight = 0
        burst_seconds: list[float] = []
        burst_wall = 0.0
        if args.burst:
            reader_of = {x.user_id: y for x, y in zip(a, b, strict=True)}
            burst_seconds, burst_wall = await _burst(a, reader_of, rooms, burst, poll)
        burst_engine = engine.max_in_flight
        cpu_burst = cpu.now()

        async def dictations(i: int) -> list[tuple[float, str]]:
            out = []
            for data, text in clips[i][1 + args.voices :]:
                seconds, got = await _dictate(a[i], data)
                if got != text:
                    raise RuntimeError(f"dictation answered {got!r}, not {text!r}")
                out.append((seconds, text))
            return out

        started = time.perf_counter()
        dictated = [
            x for xs in await asyncio.gather(*map(dictations, range(n))) for x in xs
        ]
        dictation_wall = time.perf_counter() - started
        cpu2 = cpu.now()
    for scenario, done, wall in (
        ("voice message, auto", sent, voice_wall),
        ("dictation", dictated, dictation_wall),
    ):
        if done:
            shared.overhead_rows(
                report,
                scenario,
                [seconds for seconds, _text in done],
                [engine.seconds[text] for _seconds, text in done],
                wall,
                "send → transcript"
                if scenario.startswith("voice")
                else "request → answer",
            )
    shared.cpu_rows(
        report, "voice message, auto", cpu1[0] - cpu0[0], None, len(sent), "message"
    )
    if burst_seconds:
        scenario = "voice burst, auto"
        report.add(
            Row(scenario, "send → transcript", Summary.of(burst_seconds, burst_wall))
        )
        bound = args.auto_concurrency / (args.think_ms / 1000) if args.think_ms else 0
        report.add(
            Row(
                scenario,
                "messages transcribed per second",
                value=len(burst_seconds) / burst_wall,
                unit="/s",
                n=len(burst_seconds),
                note=(
                    f"all in {burst_wall:.2f} s; the engine had at most"
                    f" {burst_engine} at once; auto_concurrency"
                    f" {args.auto_concurrency} × {args.think_ms:.0f} ms allows"
                    f" {bound:.1f}/s"
                ),
            )
        )
        shared.cpu_rows(
            report,
            scenario,
            cpu_burst[0] - cpu1[0],
            None,
            len(burst_seconds),
            "message",
        )
    shared.cpu_rows(
        report, "dictation", cpu2[0] - cpu_burst[0], None, len(dictated), "request"
    )
    report.add(
        Row(
            "all",
            "requests completed",
            n=len(sent) + len(burst_seconds) + len(dictated),
            note=(
                f"voice {len(sent)}, burst {len(burst_seconds)},"
                f" dictation {len(dictated)}"
            ),
        )
    )
    shared.end(report)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--officers", type=int, default=4)
    parser.add_argument("--voices", type=int, default=5)
    parser.add_argument("--dictations", type=int, default=5)
    parser.add_argument("--burst", type=int, default=40)
    parser.add_argument("--auto-concurrency", type=int, default=4)
    parser.add_argument("--audio-seconds", type=float, default=2.0)
    parser.add_argument("--poll-ms", type=float, default=50)
    shared.engine_arguments(parser, think_ms=300)
    args = parser.parse_args()
    engine = TimedEngine(free_port(), args.think_ms / 1000)
    engine.start()
    server = TestServer(
        args.engine,
        module_config={
            "modules.asr.AsrModule": {
                "engine": {
                    "protocol": "openai",
                    "url": f"http://127.0.0.1:{engine.port}",
                    "model": "police-asr-zh",
                },
                "auto_transcribe": True,
                "auto_concurrency": args.auto_concurrency,
            }
        },
    )
    shared.run_against_engine(
        server,
        lambda: asyncio.run(_measure(server, engine, args)),
        args.json,
        engine.stop,
    )


if __name__ == "__main__":
    main()
