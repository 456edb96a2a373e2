# SPDX-License-Identifier: AGPL-3.0-or-later
"""Voice to text for officers under /_jwwx/client/v1/asr (a Matrix access token).

POST transcribe     {room_id, event_id} → {event_id, text, cached}: the transcript of
                    a voice message (m.audio) he may see; made by the engine once, kept.
GET  transcripts?event_ids=$a,$b  → {"transcripts": {event_id: text}}: those already
                    made, of messages he may see (what the client shows under them).
POST dictate        the audio itself as the body (Content-Type: audio/…) → {text}:
                    voice input, what the officer just said, for his composer; the
                    audio and the text are kept nowhere.
Errors: 404 M_NOT_FOUND, 400 CN_JWWX_ASR_NOT_VOICE, 400 CN_JWWX_ASR_AUDIO_TOO_LARGE,
403 CN_JWWX_ASR_BURN_AFTER_READ, 503 CN_JWWX_ASR_UNAVAILABLE (no engine configured, or
the engine is down: the message says which), 400 M_INVALID_PARAM.
"""

from typing import Any

from synapse.module_api import ModuleApi

from modules.asr.service import AsrService
from modules.common.inputs import bounded_str, query_param
from modules.common.resource import read_json_object
from modules.common.router import Router
from modules.common.runtime import ModuleRuntime

CLIENT_PREFIX = "/_jwwx/client/v1/asr"


class AsrClientResource(Router):
    prefix = CLIENT_PREFIX

    def __init__(self, api: ModuleApi, runtime: ModuleRuntime, asr: AsrService) -> None:
        super().__init__(api)
        self._runtime = runtime
        self._asr = asr
        self.route("POST", "transcribe", self.transcribe)
        self.route("GET", "transcripts", self.transcripts)
        self.route("POST", "dictate", self.dictate)

    async def transcribe(self, request: Any) -> tuple[int, Any]:
        user_id = await self.requester_id(request)
        await self._runtime.ready()
        body = read_json_object(request)
        room_id = bounded_str(body.get("room_id"), "room_id", 255)
        event_id = bounded_str(body.get("event_id"), "event_id", 255)
        return 200, await self._asr.transcribe(user_id, room_id, event_id)

    async def transcripts(self, request: Any) -> tuple[int, Any]:
        user_id = await self.requester_id(request)
        await self._runtime.ready()
        raw = query_param(request, "event_ids") or ""
        ids = [bounded_str(i, "event_ids", 255) for i in raw.split(",") if i]
        return 200, {"transcripts": await self._asr.transcripts(user_id, ids)}

    async def dictate(self, request: Any) -> tuple[int, Any]:
        await self.requester_id(request)
        await self._runtime.ready()
        content_type = (request.getHeader(b"Content-Type") or b"").decode("latin-1")
        # One byte past the limit is enough to refuse (CN_JWWX_ASR_AUDIO_TOO_LARGE).
        data = bytes(request.content.read(self._asr.max_audio_bytes + 1))
        return 200, await self._asr.dictate(data, content_type.split(";")[0].strip())
