# SPDX-License-Identifier: AGPL-3.0-or-later
"""Config of the AI assistant bridge (a YAML file of its own, `--config`).

Keys:
  server_name (string, required): the homeserver's server name.
  homeserver_url (string, required): where the bridge reaches the homeserver's client
      API, e.g. http://127.0.0.1:8008.
  bridge_url (string, required): where the homeserver reaches the bridge (the
      registration's `url`), e.g. http://127.0.0.1:9020; `run` listens on its host and
      port.
  registration_id (string, default "jwwx_assistant"): the application service's id; the
      directory lets it search on an officer's behalf only when the directory module's
      `delegated_readers` lists this id.
  as_token_file, hs_token_file (paths, required): the application service's two secrets;
      `python -m bridges.assistant registration` creates them (mode 0600) when missing.
  sender_localpart (string, default "jwwx_assistant"): the bot officers talk to.
  display_name (string, default "警务助手"): its name in chats; in a group, a message
      that mentions the bot (m.mentions, or "@" + this name in the text) is a question.
  engine (mapping, required): the bureau's large-language model, an OpenAI-compatible
      chat-completions endpoint:
      base_url (string, required): e.g. http://llm.bureau.local/v1 (POST
          {base_url}/chat/completions).
      model (string, required): the model name sent with each request.
      api_key_file (path, optional): a bearer key, the file's content.
      connect_timeout_seconds (number, default 5), answer_timeout_seconds (number,
          default 120): past them the officer is told the engine did not answer.
      temperature (number 0..2, default 0.3).
  memory_turns (int 0..50, default 10): questions and answers of a chat kept as context
      for the next question (in memory; a restart forgets them).
  max_question_chars (int 10..8000, default 2000): longer questions are refused.
  summary_max_messages (int 1..200, default 50): the most messages the summary tool
      reads.
  questions_per_minute (int 1..600, default 6): per officer; more are answered with a
      request to wait.
  edit_interval_seconds (number, default 1.0): how often a streamed answer's message is
      edited while the model writes.
  ocr (mapping, optional): reading images through the open API's /cgi-bin/ocr/general
      as an open-API app an admin granted OCR (docs/ocr.md); without it the OCR tool is
      not offered to the model:
      corpid (string, required), corpsecret_file (path, required).
Relative paths are relative to the config file's directory.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bridges.common.config import (
    load_yaml_config,
    localpart_key,
    path_key,
    secret_file,
    url_key,
)
from modules.common.config import ConfigReader
from modules.common.synapse.errors import ConfigError

MODULE = "bridges.assistant"


@dataclass(frozen=True)
class EngineConfig:
    base_url: str
    model: str
    api_key: str | None = None
    connect_timeout_seconds: float = 5.0
    answer_timeout_seconds: float = 120.0
    temperature: float = 0.3


@dataclass(frozen=True)
class OcrAccess:
    corpid: str
    corpsecret: str


@dataclass(frozen=True)
class AssistantConfig:
    server_name: str
    homeserver_url: str
    bridge_url: str
    as_token_file: Path
    hs_token_file: Path
    engine: EngineConfig
    registration_id: str = "jwwx_assistant"
    sender_localpart: str = "jwwx_assistant"
    display_name: str = "警务助手"
    memory_turns: int = 10
    max_question_chars: int = 2000
    summary_max_messages: int = 50
    questions_per_minute: int = 6
    edit_interval_seconds: float = 1.0
    ocr: OcrAccess | None = None

    @property
    def bot_user_id(self) -> str:
        return f"@{self.sender_localpart}:{self.server_name}"


def _engine(raw: Any, base: Path) -> EngineConfig:
    where = f"{MODULE}.engine"
    reader = ConfigReader(raw, where)
    api_key = None
    if reader.optional_string("api_key_file") is not None:
        api_key = secret_file(reader, "api_key_file", base, where)
    engine = EngineConfig(
        base_url=url_key(reader, "base_url", where),
        model=reader.string("model", required=True),
        api_key=api_key,
        connect_timeout_seconds=reader.number(
            "connect_timeout_seconds", 5.0, minimum=0.1
        ),
        answer_timeout_seconds=reader.number(
            "answer_timeout_seconds", 120.0, minimum=1.0
        ),
        temperature=reader.number("temperature", 0.3, minimum=0.0),
    )
    reader.finish()
    if engine.temperature > 2:
        raise ConfigError(f"{where}.temperature: must be between 0 and 2")
    return engine


def _ocr(raw: Any, base: Path) -> OcrAccess:
    where = f"{MODULE}.ocr"
    reader = ConfigReader(raw, where)
    access = OcrAccess(
        corpid=reader.string("corpid", required=True),
        corpsecret=secret_file(reader, "corpsecret_file", base, where),
    )
    reader.finish()
    return access


def parse_config(raw: Any, base: Path) -> AssistantConfig:
    reader = ConfigReader(raw, MODULE)
    engine_raw = reader.mapping_or_none("engine")
    if engine_raw is None:
        raise ConfigError(f"{MODULE}.engine: required (the model's endpoint)")
    ocr_raw = reader.mapping_or_none("ocr")
    config = AssistantConfig(
        server_name=reader.string("server_name", required=True),
        homeserver_url=url_key(reader, "homeserver_url", MODULE),
        bridge_url=url_key(reader, "bridge_url", MODULE),
        as_token_file=path_key(reader, "as_token_file", base),
        hs_token_file=path_key(reader, "hs_token_file", base),
        engine=_engine(engine_raw, base),
        registration_id=localpart_key(
            reader, "registration_id", "jwwx_assistant", MODULE
        ),
        sender_localpart=localpart_key(
            reader, "sender_localpart", "jwwx_assistant", MODULE
        ),
        display_name=reader.string("display_name", "警务助手"),
        memory_turns=reader.integer("memory_turns", 10, minimum=0, maximum=50),
        max_question_chars=reader.integer(
            "max_question_chars", 2000, minimum=10, maximum=8000
        ),
        summary_max_messages=reader.integer(
            "summary_max_messages", 50, minimum=1, maximum=200
        ),
        questions_per_minute=reader.integer(
            "questions_per_minute", 6, minimum=1, maximum=600
        ),
        edit_interval_seconds=reader.number("edit_interval_seconds", 1.0, minimum=0.1),
        ocr=_ocr(ocr_raw, base) if ocr_raw is not None else None,
    )
    reader.finish()
    return config


def load_config(path: Path) -> AssistantConfig:
    return load_yaml_config(path, MODULE, parse_config)
