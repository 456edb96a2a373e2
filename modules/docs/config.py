# SPDX-License-Identifier: AGPL-3.0-or-later
"""Config of modules.docs (homeserver.yaml → modules → modules.docs.DocsModule).

Keys:
  keys (mapping key id → file path, required): SM4 keys of the documents' revisions.
      Each file holds secret material (at least 16 bytes); the 16-byte SM4 key is derived
      from it with SM3. Keep old keys listed: each revision names the key it was sealed
      with.
  current_key_id (string, required): the key new revisions are sealed with.
  websocket (mapping, optional): the module's own listener for the Yjs sync protocol;
      without it documents can be managed over HTTP but not edited:
      bind_address (string, default "127.0.0.1"), port (int 1..65535, required),
      instance (string, default "main"): the `worker_name` of the one Synapse process
          that listens (open documents live in its memory); route the document API
          (/_jwwx/client/v1/docs) to the same process.
      public_url (string, default "ws://{bind_address}:{port}"): what clients are told
          to connect to (nginx's wss:// address in production).
  homeserver_url (string, default: public_baseurl): where officers' access tokens are
      checked (GET /_matrix/client/v3/account/whoami).
  token_cache_seconds (int 0..600, default 60): how long a checked token is trusted.
  snapshot_every (int 10..100000, default 200): updates between compacted snapshots.
  max_update_bytes (int 1 KiB..64 MiB, default 8 MiB): a larger update closes the
      connection (nothing applied).
  max_documents_per_user (int, default 10000): documents one officer may own.
  max_import_bytes (int 1 KiB..200 MiB, default 20 MiB): the largest file imported.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modules.common.config import ConfigReader
from modules.common.gm import sm3
from modules.common.synapse.errors import ConfigError

MODULE = "modules.docs"
_KEY_ID = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")
_KEY_LABEL = b"jwwx-docs-sm4-key:"


def derive_key(material: bytes) -> bytes:
    """The 16-byte SM4 key of a key file (any length of secret material)."""
    return sm3(_KEY_LABEL + material.strip())[:16]


@dataclass(frozen=True)
class WebSocketConfig:
    bind_address: str
    port: int
    public_url: str
    instance: str = "main"


@dataclass(frozen=True)
class DocsConfig:
    keys: Mapping[str, bytes]
    current_key_id: str
    websocket: WebSocketConfig | None = None
    homeserver_url: str | None = None
    token_cache_seconds: int = 60
    snapshot_every: int = 200
    max_update_bytes: int = 8 * 1024 * 1024
    max_documents_per_user: int = 10000
    max_import_bytes: int = 20 * 1024 * 1024

    @property
    def current_key(self) -> bytes:
        return self.keys[self.current_key_id]

    @staticmethod
    def parse(raw: Any) -> "DocsConfig":
        reader = ConfigReader(raw, MODULE)
        keys = parse_keys(reader.mapping_or_none("keys"))
        current = reader.string("current_key_id", required=True)
        if current not in keys:
            raise ConfigError(
                f"{MODULE}.current_key_id: {current!r} is not one of keys: "
                + ", ".join(sorted(keys))
            )
        ws_raw = reader.mapping_or_none("websocket")
        d = DocsConfig(keys={}, current_key_id="")
        url = reader.optional_string("homeserver_url")
        if url is not None and not re.match(r"^https?://[^/\s]+", url):
            raise ConfigError(f"{MODULE}.homeserver_url: must be an http(s) URL")
        config = DocsConfig(
            keys=keys,
            current_key_id=current,
            websocket=_websocket(ws_raw) if ws_raw is not None else None,
            homeserver_url=url.rstrip("/") if url else None,
            token_cache_seconds=reader.integer(
                "token_cache_seconds", d.token_cache_seconds, minimum=0, maximum=600
            ),
            snapshot_every=reader.integer(
                "snapshot_every", d.snapshot_every, minimum=10, maximum=100000
            ),
            max_update_bytes=reader.integer(
                "max_update_bytes",
                d.max_update_bytes,
                minimum=1024,
                maximum=64 * 1024 * 1024,
            ),
            max_documents_per_user=reader.integer(
                "max_documents_per_user", d.max_documents_per_user, minimum=1
            ),
            max_import_bytes=reader.integer(
                "max_import_bytes",
                d.max_import_bytes,
                minimum=1024,
                maximum=200 * 1024 * 1024,
            ),
        )
        reader.finish()
        return config


def _websocket(raw: Any) -> WebSocketConfig:
    where = f"{MODULE}.websocket"
    reader = ConfigReader(raw, where)
    bind = reader.string("bind_address", "127.0.0.1")
    port = reader.integer("port", 0, minimum=1, maximum=65535)
    public_url = reader.string("public_url", f"ws://{bind}:{port}")
    instance = reader.string("instance", "main")
    reader.finish()
    if not re.match(r"^wss?://[^/\s]+", public_url):
        raise ConfigError(f"{where}.public_url: must be a ws:// or wss:// URL")
    return WebSocketConfig(bind, port, public_url.rstrip("/"), instance)


def parse_keys(raw: Mapping[str, Any] | None) -> dict[str, bytes]:
    if not raw:
        raise ConfigError(f"{MODULE}.keys: is required (key id → key file path)")
    keys = {}
    for key_id, path in raw.items():
        where = f"{MODULE}.keys.{key_id}"
        if not isinstance(key_id, str) or not _KEY_ID.match(key_id):
            raise ConfigError(f"{where}: key ids are 1-32 of A-Z a-z 0-9 _ . -")
        if not isinstance(path, str) or not path.strip():
            raise ConfigError(f"{where}: must be a file path")
        try:
            material = Path(path).read_bytes()
        except OSError as e:
            raise ConfigError(f"{where}: cannot read {path}: {e.strerror}") from e
        if len(material.strip()) < 16:
            raise ConfigError(f"{where}: {path} holds fewer than 16 bytes of secret")
        keys[key_id] = derive_key(material)
    return keys
