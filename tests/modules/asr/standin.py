# SPDX-License-Identifier: AGPL-3.0-or-later
"""A stand-in for the bureau's speech engine speaking the OpenAI-compatible protocol:
POST /v1/audio/transcriptions, multipart form with `file`, `model`, `language`,
`response_format` → {"text": ...}. It does not recognise speech: it answers the
transcript the test registered for those exact audio bytes, and records each call.
It runs in a thread of its own (http.server, a thread per request), outside the test's
reactor. `hold()` keeps every request waiting until `release()`: how many the server
has with the engine at once is then `in_flight` (and `max_in_flight` over the run)."""

import contextlib
import hashlib
import io
import json
import struct
import threading
import wave
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.harness import standin


def wav_shape(audio: bytes) -> tuple[int, int, int] | None:
    """(channels, frame rate, frames) of a WAV file as a real engine would decode it
    first; None for audio that is not one."""
    try:
        with wave.open(io.BytesIO(audio), "rb") as w:
            w.readframes(w.getnframes())
            return w.getnchannels(), w.getframerate(), w.getnframes()
    except (wave.Error, EOFError, struct.error):
        return None


class Engine:
    def __init__(self, port: int) -> None:
        self.port = port
        self.known: dict[str, str] = {}
        self.calls: list[dict[str, Any]] = []
        self._server: ThreadingHTTPServer | None = None
        self.arrived = 0  # requests received
        self.in_flight = 0  # received, not yet answered
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self._open = threading.Event()
        self._open.set()

    def hold(self) -> None:
        """Requests wait (up to two minutes) until release()."""
        self._open.clear()

    def release(self) -> None:
        self._open.set()

    def arrive(self) -> None:
        """A request came in: counted, then held while hold() is in force."""
        with self._lock:
            self.arrived += 1
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        self._open.wait(120)

    def leave(self) -> None:
        with self._lock:
            self.in_flight -= 1

    def teach(self, audio: bytes, text: str) -> None:
        self.known[hashlib.sha256(audio).hexdigest()] = text

    def start(self) -> None:
        engine = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                engine.arrive()
                try:
                    self._answer(raw)
                finally:
                    engine.leave()

            def _answer(self, raw: bytes) -> None:
                status, answer = engine.answer(
                    self.path, self.headers.get("Content-Type", ""), raw,
                    self.headers.get("Authorization"),
                )  # fmt: skip
                body = json.dumps(answer, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                # Said, not implied by HTTP/1.0: else Twisted's pool keeps the connection
                # this server closes and a later request on it gets ResponseNeverReceived.
                self.send_header("Connection", "close")
                self.end_headers()
                # The server may have gone away meanwhile (a test restarting it).
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(body)

        self._server = standin.serve(self.port, Handler)

    def stop(self) -> None:
        standin.close(self._server)
        self._server = None

    def answer(
        self, path: str, content_type: str, raw: bytes, authorization: str | None
    ) -> tuple[int, dict[str, Any]]:
        if path != "/v1/audio/transcriptions":
            return 404, {"error": {"message": "not found"}}
        message = BytesParser(policy=HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + raw
        )
        fields: dict[str, bytes] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if isinstance(name, str):
                fields[name] = part.get_payload(decode=True) or b""
        audio, model = fields.get("file", b""), fields.get("model", b"").decode()
        self.calls.append(
            {
                "model": model,
                "language": fields.get("language", b"").decode(),
                "bytes": len(audio),
                "authorization": authorization,
                "wav": wav_shape(audio),
            }
        )
        if not audio or not model:
            return 400, {"error": {"message": "file and model are required"}}
        return 200, {"text": self.known.get(hashlib.sha256(audio).hexdigest(), "")}
