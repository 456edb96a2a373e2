# SPDX-License-Identifier: AGPL-3.0-or-later
"""A stand-in for the bureau's speech engine speaking the OpenAI-compatible protocol:
POST /v1/audio/transcriptions, multipart form with `file`, `model`, `language`,
`response_format` → {"text": ...}. It does not recognise speech: it answers the
transcript the test registered for those exact audio bytes, and records each call.
It runs in a thread of its own (http.server), outside the test's reactor."""

import hashlib
import json
import threading
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Engine:
    def __init__(self, port: int) -> None:
        self.port = port
        self.known: dict[str, str] = {}
        self.calls: list[dict[str, Any]] = []
        self._server: ThreadingHTTPServer | None = None

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
                self.wfile.write(body)

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
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
            }
        )
        if not audio or not model:
            return 400, {"error": {"message": "file and model are required"}}
        return 200, {"text": self.known.get(hashlib.sha256(audio).hexdigest(), "")}
