# SPDX-License-Identifier: AGPL-3.0-or-later
"""The bureau's speech recognition engine, over its own protocol (config.py): an
OpenAI-compatible /v1/audio/transcriptions, or a plain HTTP engine taking the audio as
the body. Every failure (refused connection, timeout, an error status, an answer
without text) becomes one EngineError with a sentence for the officer."""

import io
import json
from typing import Any

from twisted.web.client import RequestTransmissionFailed, ResponseNeverReceived
from twisted.web.http_headers import Headers

import treq

from modules.asr.config import EngineConfig
from modules.common.synapse.runtime import await_foreign


class EngineError(Exception):
    pass


# A kept-alive connection the engine closed while idle fails the next request before
# any answer; Twisted retries only GET and HEAD by itself. A transcription has no side
# effect, so it is sent once more on a fresh connection.
_STALE_CONNECTION = (ResponseNeverReceived, RequestTransmissionFailed)


async def _post(
    engine: EngineConfig,
    audio: bytes,
    content_type: str,
    filename: str,
    headers: dict[bytes, list[bytes]],
) -> Any:
    if engine.protocol == "openai":
        return await treq.post(
            f"{engine.url}/v1/audio/transcriptions",
            data={
                "model": engine.model,
                "language": engine.language,
                "response_format": "json",
            },
            # treq takes a file object here (its stubs say a body producer).
            files={"file": (filename, content_type, io.BytesIO(audio))},  # type: ignore[arg-type]
            headers=Headers(headers),
            timeout=engine.timeout_seconds,
        )
    return await treq.post(
        f"{engine.url}?language={engine.language}",
        data=audio,
        headers=Headers({**headers, b"Content-Type": [content_type.encode("latin-1")]}),
        timeout=engine.timeout_seconds,
    )


async def transcribe(
    engine: EngineConfig, audio: bytes, content_type: str, filename: str
) -> str:
    """The engine's text for the audio; EngineError when it has none.

    treq's Deferreds do not follow Synapse's log-context rules: awaited bare, a failure
    (a refused connection) resumed the caller in the wrong context, and the next
    looping call that found it died ("Looping call died": automatic transcription's
    retry tick stopped for good, so a message that waited for the engine never came)."""
    return await await_foreign(_transcribe(engine, audio, content_type, filename))


async def _transcribe(
    engine: EngineConfig, audio: bytes, content_type: str, filename: str
) -> str:
    headers: dict[bytes, list[bytes]] = {}
    if engine.api_key:
        headers[b"Authorization"] = [f"Bearer {engine.api_key}".encode()]
    try:
        try:
            response = await _post(engine, audio, content_type, filename, headers)
        except _STALE_CONNECTION:
            response = await _post(engine, audio, content_type, filename, headers)
        body = await response.content()
    except Exception as e:  # connection refused, timeout, TLS: the engine is down
        raise EngineError(f"语音识别引擎无法连接（{type(e).__name__}）") from e
    if response.code != 200:
        raise EngineError(f"语音识别引擎返回错误 HTTP {response.code}")
    try:
        answer: Any = json.loads(body)
    except ValueError as e:
        raise EngineError("语音识别引擎的回答不是 JSON") from e
    text = answer.get("text") if isinstance(answer, dict) else None
    if not isinstance(text, str):
        raise EngineError("语音识别引擎的回答中没有 text")
    return text.strip()
