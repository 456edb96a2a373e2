# SPDX-License-Identifier: AGPL-3.0-or-later
"""Config of modules.asr (homeserver.yaml → modules → modules.asr.AsrModule).

Keys:
  engine (mapping or null, default null): the bureau's speech recognition engine;
    null answers every request 503 CN_JWWX_ASR_UNAVAILABLE ("not configured").
    protocol ("openai" | "http", required): "openai" is an OpenAI-compatible
      POST {url}/v1/audio/transcriptions (multipart: file, model, language,
      response_format=json → {"text"}); "http" posts the audio as the body to {url}
      with its Content-Type and ?language=, expecting {"text"}.
    url (http(s) URL, required); model (string, default "whisper-1", openai only);
    api_key_file (path, optional: sent as "Authorization: Bearer <key>");
    timeout_seconds (int 1–600, default 60); language (string, default "zh").
  max_audio_bytes (int, default 26214400): larger voice files are refused.
  auto_transcribe (bool, default false): every voice message sent on this server
    (m.audio from a local officer, stored here, not burn-after-read) is transcribed in
    the background as it is sent, so its text is there before anyone asks. Read from
    the event stream after a durable cursor; a message the engine could not do is
    retried with growing delays (never dropped: jwwx_asr_pending_messages counts them).
  auto_retry_seconds (number, default 30): the first retry's delay; it doubles with
    each failure, up to an hour.
  auto_concurrency (int 1–64, default 4): how many voice messages automatic
    transcription has with the engine at once (the rest wait in the queue, in order):
    what the bureau's engine can take beside officers' own requests.
  jobs_instance (string, optional): the worker_name of the process that runs the
    automatic transcription, "main" for the main process (modules/common/jobs.py).
  app_result_ttl_seconds (int 60–86400, default 3600): how long an open-API app's
    result (/cgi-bin/media/voice/addvoicetorecofortext) can be fetched with
    queryrecoresultfortext before it is deleted.
"""

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modules.common.config import ConfigReader
from modules.common.jobs import read_jobs_instance
from modules.common.synapse.errors import ConfigError

MODULE = "modules.asr"
PROTOCOLS = ("openai", "http")


@dataclass(frozen=True)
class EngineConfig:
    protocol: str
    url: str
    model: str = "whisper-1"
    api_key: str | None = None
    timeout_seconds: int = 60
    language: str = "zh"


@dataclass(frozen=True)
class AsrConfig:
    engine: EngineConfig | None = None
    max_audio_bytes: int = 25 * 1024 * 1024
    auto_transcribe: bool = False
    auto_retry_seconds: float = 30.0
    auto_concurrency: int = 4
    jobs_instance: str | None = None
    app_result_ttl_seconds: int = 3600

    @staticmethod
    def parse(raw: Any) -> "AsrConfig":
        reader = ConfigReader(raw, MODULE)
        engine_raw = reader.mapping_or_none("engine")
        max_audio = reader.integer(
            "max_audio_bytes", 25 * 1024 * 1024, minimum=1024, maximum=200 << 20
        )
        auto = reader.boolean("auto_transcribe", False)
        retry = reader.number("auto_retry_seconds", 30.0, minimum=0.1)
        concurrency = reader.integer("auto_concurrency", 4, minimum=1, maximum=64)
        jobs_instance = read_jobs_instance(reader)
        ttl = reader.integer("app_result_ttl_seconds", 3600, minimum=60, maximum=86400)
        reader.finish()
        engine = _engine(engine_raw)
        if auto and engine is None:
            raise ConfigError(f"{MODULE}.auto_transcribe: needs an engine")
        return AsrConfig(
            engine, max_audio, auto, retry, concurrency, jobs_instance, ttl
        )


def _engine(raw: Any) -> EngineConfig | None:
    if raw is None:
        return None
    reader = ConfigReader(raw, f"{MODULE}.engine")
    protocol = reader.choice("protocol", "openai", PROTOCOLS)
    url = reader.string("url", required=True).rstrip("/")
    if not re.match(r"^https?://[^/\s]+", url):
        raise ConfigError(f"{MODULE}.engine.url: must be an http(s) URL, got {url!r}")
    key_file = reader.string("api_key_file", "")
    api_key = None
    if key_file:
        try:
            api_key = Path(key_file).read_text(encoding="utf-8").strip()
        except OSError as e:
            raise ConfigError(f"{MODULE}.engine.api_key_file: {e}") from e
    engine = EngineConfig(
        protocol=protocol,
        url=url,
        model=reader.string("model", "whisper-1"),
        api_key=api_key,
        timeout_seconds=reader.integer("timeout_seconds", 60, minimum=1, maximum=600),
        language=reader.string("language", "zh"),
    )
    reader.finish()
    return engine
