# SPDX-License-Identifier: AGPL-3.0-or-later
"""A stand-in for the bureau's large-language model speaking the OpenAI-compatible
chat-completions protocol: POST /v1/chat/completions with `stream: true` answers
server-sent events (`data: {chunk}` … `data: [DONE]`), text in `delta.content` pieces
and tool calls in `delta.tool_calls` pieces (name first, arguments split over chunks),
finish_reason "stop" or "tool_calls". It does not understand language: it follows a
script keyed on words of the last user message, and records every request with the
time it took to answer (benchmarks/assistant_overhead.py measures the bridge against
it: `think_seconds` before the first piece, `piece_seconds` between pieces of text).
Runs in a thread of its own (http.server), outside the test's reactor."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.harness import standin

KEY = "test-model-key"

# Word in the question -> (tool, arguments) the model calls first.
TOOL_SCRIPT = {
    "总结": ("summarise_chat", {"count": 20}),
    "查找": ("lookup_colleague", None),  # name: the text after 查找
    "识别": ("read_image_text", {}),
    "通知": ("draft_notice", {"topic": "值班安排"}),
}


class Model:
    def __init__(self, port: int) -> None:
        self.port = port
        self.requests: list[dict[str, Any]] = []
        self.down = False
        self.slow_seconds = 0.6
        self.think_seconds = 0.0  # before the first chunk: the model reading the prompt
        self.piece_seconds = 0.0  # between pieces of text: the streaming rate
        # (request body, seconds from the request read to the last byte written)
        self.served: list[tuple[dict[str, Any], float]] = []
        self.secret_word = ""  # said when asked for 暗号 (a word the filter refuses)
        self._server: ThreadingHTTPServer | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        model = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                if model.down:
                    self.send_response(503)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if (
                    self.path != "/v1/chat/completions"
                    or self.headers.get("Authorization") != f"Bearer {KEY}"
                ):
                    self.send_response(401)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                started = time.perf_counter()
                body = json.loads(raw)
                with model._lock:
                    model.requests.append(body)
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                if model.think_seconds:
                    time.sleep(model.think_seconds)
                for chunk, pause in model.script(body):
                    data = f"data: {chunk}\n\n".encode()
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                    self.wfile.flush()
                    if pause:
                        time.sleep(pause)
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()
                with model._lock:
                    model.served.append((body, time.perf_counter() - started))

        self._server = standin.serve(self.port, Handler)

    def stop(self) -> None:
        standin.close(self._server)
        self._server = None

    @staticmethod
    def _chunk(delta: dict[str, Any], finish: str | None = None) -> str:
        return json.dumps(
            {
                "id": "chatcmpl-standin",
                "object": "chat.completion.chunk",
                "model": "police-llm",
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            },
            ensure_ascii=False,
        )

    def script(self, body: dict[str, Any]) -> list[tuple[str, float]]:
        messages = body["messages"]
        last = messages[-1]
        offered = {t["function"]["name"] for t in body.get("tools", [])}
        if last["role"] == "tool":
            return self._text(f"根据工具结果：{last['content']}")
        question = str(last["content"])
        for word, (tool, arguments) in TOOL_SCRIPT.items():
            if word in question and tool in offered:
                if arguments is None:
                    arguments = {"name": question.split(word, 1)[1].strip()}
                return self._tool_call(tool, arguments)
        if "暗号" in question:
            return self._text(f"暗号是{self.secret_word}")
        turn = sum(1 for m in messages if m["role"] == "user")
        pause = self.slow_seconds if "慢" in question else self.piece_seconds
        return self._text(f"收到：{question}（第{turn}轮）", pause)

    def _text(self, text: str, pause: float = 0.0) -> list[tuple[str, float]]:
        pieces = [text[i : i + 4] for i in range(0, len(text), 4)]
        out = [(self._chunk({"role": "assistant", "content": ""}), 0.0)]
        out += [(self._chunk({"content": p}), pause) for p in pieces]
        out += [(self._chunk({}, "stop"), 0.0), ("[DONE]", 0.0)]
        return out

    def _tool_call(
        self, name: str, arguments: dict[str, Any]
    ) -> list[tuple[str, float]]:
        text = json.dumps(arguments, ensure_ascii=False)
        half = len(text) // 2
        first = {"index": 0, "id": "call_1", "type": "function",
                 "function": {"name": name, "arguments": ""}}  # fmt: skip
        return [
            (self._chunk({"role": "assistant", "tool_calls": [first]}), 0.0),
            (self._chunk({"tool_calls": [
                {"index": 0, "function": {"arguments": text[:half]}}]}), 0.0),
            (self._chunk({"tool_calls": [
                {"index": 0, "function": {"arguments": text[half:]}}]}), 0.0),
            (self._chunk({}, "tool_calls"), 0.0),
            ("[DONE]", 0.0),
        ]  # fmt: skip

    def tool_results(self) -> list[str]:
        with self._lock:
            return [
                str(m["content"])
                for r in self.requests
                for m in r["messages"][-1:]
                if m["role"] == "tool"
            ]
