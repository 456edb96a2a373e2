# SPDX-License-Identifier: AGPL-3.0-or-later
"""The client of the bureau's model: OpenAI-compatible chat completions, streamed.

POST {base_url}/chat/completions with `stream: true`; the answer is server-sent events,
each `data: {json chunk}` until `data: [DONE]`. A chunk's `choices[0].delta` carries a
piece of the text (`content`) or pieces of tool calls (`tool_calls`: by `index`, the
first piece with `id` and `function.name`, later ones appending to
`function.arguments`). The text so far is handed to `on_text` as it grows, so the bot can
edit its message while the model writes."""

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from twisted.internet import defer, reactor
from twisted.web.http_headers import Headers

import treq

from bridges.assistant.config import EngineConfig


class EngineError(Exception):
    """The model did not answer usably; the message is for the log, not the officer."""


@dataclass
class ToolCall:
    id: str
    name: str
    arguments: str = ""

    def as_message(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": "function",
            "function": {"name": self.name, "arguments": self.arguments},
        }


@dataclass
class Completion:
    text: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    finish_reason: str | None = None


class _Stream:
    """Collects the events of one streamed answer."""

    def __init__(self, on_text: Callable[[str], None]) -> None:
        self._buffer = b""
        self._on_text = on_text
        self.result = Completion()
        self._calls: dict[int, ToolCall] = {}
        self.done = False

    def feed(self, data: bytes) -> None:
        self._buffer += data.replace(b"\r\n", b"\n")
        while b"\n\n" in self._buffer:
            event, self._buffer = self._buffer.split(b"\n\n", 1)
            for line in event.split(b"\n"):
                if line.startswith(b"data:"):
                    self._data(line[5:].strip())

    def _data(self, payload: bytes) -> None:
        if payload == b"[DONE]":
            self.done = True
            return
        try:
            chunk = json.loads(payload)
            choice = chunk["choices"][0] if chunk.get("choices") else {}
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            raise EngineError(f"unreadable chunk: {payload[:200]!r}") from e
        delta = choice.get("delta") or {}
        if choice.get("finish_reason"):
            self.result.finish_reason = str(choice["finish_reason"])
        text = delta.get("content")
        if isinstance(text, str) and text:
            self.result.text += text
            self._on_text(self.result.text)
        for piece in delta.get("tool_calls") or []:
            index = int(piece.get("index", 0))
            function = piece.get("function") or {}
            call = self._calls.get(index)
            if call is None:
                call = ToolCall(str(piece.get("id") or f"call_{index}"), "")
                self._calls[index] = call
                self.result.tool_calls.append(call)
            if function.get("name"):
                call.name += str(function["name"])
            if function.get("arguments"):
                call.arguments += str(function["arguments"])


class ChatEngine:
    def __init__(self, config: EngineConfig) -> None:
        self._config = config

    def _headers(self) -> Headers:
        headers = {
            b"Content-Type": [b"application/json"],
            b"Accept": [b"text/event-stream"],
        }
        if self._config.api_key:
            headers[b"Authorization"] = [f"Bearer {self._config.api_key}".encode()]
        return Headers(headers)

    async def complete(
        self,
        messages: list[dict[str, Any]],
        tools: list[dict[str, Any]],
        on_text: Callable[[str], None],
    ) -> Completion:
        body: dict[str, Any] = {
            "model": self._config.model,
            "messages": messages,
            "stream": True,
            "temperature": self._config.temperature,
        }
        if tools:
            body["tools"] = tools
        stream = _Stream(on_text)
        request = self._post(body, stream)
        # One bound on the whole answer, headers and body alike.
        clock: Any = reactor
        timer = clock.callLater(self._config.answer_timeout_seconds, request.cancel)
        try:
            await request
        except defer.CancelledError as e:
            raise EngineError("no complete answer in time") from e
        except EngineError:
            raise
        except Exception as e:  # refused, reset, DNS, TLS
            raise EngineError(f"{type(e).__name__}: {e}") from e
        finally:
            if timer.active():
                timer.cancel()
        if not stream.done and stream.result.finish_reason is None:
            raise EngineError("the answer ended before it was complete")
        return stream.result

    def _post(self, body: dict[str, Any], stream: _Stream) -> "defer.Deferred[None]":
        async def run() -> None:
            response = await treq.post(
                f"{self._config.base_url}/chat/completions",
                json.dumps(body, ensure_ascii=False).encode("utf-8"),
                headers=self._headers(),
                timeout=self._config.connect_timeout_seconds,
            )
            if response.code != 200:
                detail = (await response.content())[:300]
                raise EngineError(f"HTTP {response.code}: {detail!r}")
            await treq.collect(response, stream.feed)

        return defer.ensureDeferred(run())
