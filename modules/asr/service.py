# SPDX-License-Identifier: AGPL-3.0-or-later
"""Voice messages to text (语音转文字) for officers.

A transcript is made once per message (the first officer who asks waits for the engine)
and kept: anyone who may see the message gets it again without the engine, which is how
the client shows it under the voice message (GET transcripts). Burn-after-read voice
messages are refused: their words must not outlive them. Only what Synapse lets the
officer see is transcribed or shown."""

from collections.abc import Mapping
from typing import Any

from synapse.module_api import ModuleApi

from modules.asr import storage
from modules.asr.config import AsrConfig
from modules.asr.engine import EngineError, transcribe
from modules.burn import public as burn
from modules.common.errors import error
from modules.common.inputs import InputError
from modules.common.synapse.events import event_visible_to, unredacted_event_ids
from modules.common.synapse.media import read_local_media, visible_local_media

UNAVAILABLE = "CN_JWWX_ASR_UNAVAILABLE"
NOT_VOICE = "CN_JWWX_ASR_NOT_VOICE"
TOO_LARGE = "CN_JWWX_ASR_AUDIO_TOO_LARGE"
BURN_REFUSED = "CN_JWWX_ASR_BURN_AFTER_READ"
MAX_EVENT_IDS = 100


def _audio(content: Any) -> tuple[str, str, int | None] | None:
    """(mxc uri, mimetype, size) of an m.audio message."""
    if not isinstance(content, Mapping) or content.get("msgtype") != "m.audio":
        return None
    url = content.get("url")
    info = content.get("info")
    info = info if isinstance(info, Mapping) else {}
    size = info.get("size")
    return (
        (
            url,
            str(info.get("mimetype") or "audio/ogg"),
            size if isinstance(size, int) else None,
        )
        if isinstance(url, str)
        else None
    )


def _audio_uri(content: Any) -> str | None:
    audio = _audio(content)
    return audio[0] if audio else None


class AsrService:
    def __init__(self, api: ModuleApi, config: AsrConfig) -> None:
        self._api = api
        self._config = config

    async def transcribe(
        self, user_id: str, room_id: str, event_id: str
    ) -> dict[str, Any]:
        event, media_id = await visible_local_media(
            self._api, user_id, room_id, event_id, _audio_uri
        )
        audio = _audio(event.content)
        if audio is None or media_id is None:
            raise error(400, NOT_VOICE, "这条消息不是本服务器上的语音")
        if await burn.burns(self._api, event_id):
            raise error(403, BURN_REFUSED, "阅后即焚的语音不能转文字")
        known = await self._api.run_db_interaction(
            "jwwx_asr_get", storage.get_txn, [event_id]
        )
        if event_id in known:
            return {"event_id": event_id, "text": known[event_id][1], "cached": True}
        engine = self._config.engine
        if engine is None:
            raise error(503, UNAVAILABLE, "服务器未配置语音识别引擎")
        if audio[2] is not None and audio[2] > self._config.max_audio_bytes:
            raise error(400, TOO_LARGE, "语音文件过大，无法转文字")
        data = await read_local_media(self._api, media_id)
        if len(data) > self._config.max_audio_bytes:
            raise error(400, TOO_LARGE, "语音文件过大，无法转文字")
        text = await self._engine_text(data, audio[1], f"{media_id}.audio")
        now = int(self._api.get_current_time_msec())
        await self._api.run_db_interaction(
            "jwwx_asr_put", storage.put_txn, event_id, room_id, text, engine.url, now
        )
        return {"event_id": event_id, "text": text, "cached": False}

    @property
    def max_audio_bytes(self) -> int:
        return self._config.max_audio_bytes

    async def dictate(self, data: bytes, content_type: str) -> dict[str, Any]:
        """Voice input: the text of audio the officer just spoke, kept nowhere."""
        # The request is judged first: a bad one is a 400 whether or not an engine
        # is configured (503 only for a good request the server cannot serve).
        if not content_type.startswith("audio/"):
            raise error(400, NOT_VOICE, "只接受语音（Content-Type: audio/…）")
        if not data:
            raise error(400, NOT_VOICE, "没有收到语音")
        if len(data) > self._config.max_audio_bytes:
            raise error(400, TOO_LARGE, "语音文件过大，无法转文字")
        return {"text": await self._engine_text(data, content_type, "dictation.audio")}

    async def _engine_text(self, data: bytes, content_type: str, filename: str) -> str:
        engine = self._config.engine
        if engine is None:
            raise error(503, UNAVAILABLE, "服务器未配置语音识别引擎")
        try:
            return await transcribe(engine, data, content_type, filename)
        except EngineError as e:
            raise error(503, UNAVAILABLE, f"{e}，请稍后再试") from e

    async def transcripts(self, user_id: str, event_ids: list[str]) -> dict[str, str]:
        """The kept transcripts of those events the officer may see now."""
        if len(event_ids) > MAX_EVENT_IDS:
            raise InputError(f"event_ids 最多 {MAX_EVENT_IDS} 个")
        known = await self._api.run_db_interaction(
            "jwwx_asr_get", storage.get_txn, event_ids
        )
        # A redacted voice message (recalled, burned, purged) takes its text with it.
        standing = await unredacted_event_ids(self._api, list(known))
        shown = {}
        for event_id, (room_id, text) in known.items():
            if event_id not in standing:
                continue
            # Synapse's room event rules (membership now and then, history visibility).
            if (
                await event_visible_to(self._api, user_id, room_id, event_id)
                is not None
            ):
                shown[event_id] = text
        return shown
