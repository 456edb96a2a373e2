# SPDX-License-Identifier: AGPL-3.0-or-later
"""Config of modules.docs (homeserver.yaml → modules → modules.docs.DocsModule).

Keys:
  keys (mapping key id → file path, required): SM4 keys of the documents' revisions.
      Each file holds secret material (at least 16 bytes); the 16-byte SM4 key is derived
      from it with SM3. Keep old keys listed: each revision names the key it was sealed
      with.
  current_key_id (string, required): the key new revisions are sealed with.
  websocket (mapping, optional): where the Yjs sync protocol is served; without it
      documents can be managed over HTTP but not edited:
      instance (string, default "main"): the `worker_name` of the one Synapse process
          that serves it (open documents live in its memory); route the document API
          (/_jwwx/client/v1/docs) to the same process (the worker profiles send all of
          /_jwwx/ to main).
      port (int 1..65535, optional): a listener of the module's own on this port
          (bind_address, default "127.0.0.1"). Without it the sockets are served on
          Synapse's own listener at /_jwwx/docs/v1/ws/ (what `init` renders; nginx
          passes the Upgrade header there).
      public_url (string, default "ws://{bind_address}:{port}" with a port, else
          public_baseurl with http(s) → ws(s)): what clients are told to connect to.
  homeserver_url (string, default: public_baseurl): where officers' access tokens are
      checked (GET /_matrix/client/v3/account/whoami).
  token_cache_seconds (int 0..600, default 60): how long a checked token is trusted.
  snapshot_every (int 10..100000, default 200): updates between compacted snapshots.
  max_update_bytes (int 1 KiB..64 MiB, default 8 MiB): a larger update closes the
      connection (nothing applied).
  max_documents_per_user (int, default 10000): documents one officer may own.
  max_import_bytes (int 1 KiB..200 MiB, default 20 MiB): the largest file imported.
  bot_localpart (string, default "jwwx_docs"): the docs bot's account (bot.py), which
      tells officers of their tasks; registered on first use.
  bot_name (string, default "警务文档"): its display name and its chats' name.
  soffice_path (string, default "soffice" on the PATH): LibreOffice's converter for
      legacy .doc, .ppt and .xls imports (office.py; Debian's libreoffice-writer-nogui,
      libreoffice-impress-nogui for .ppt: slide_files.py, libreoffice-calc-nogui for
      .xls: sheet_files.py).
  convert_timeout_seconds (int 10..600, default 120): one conversion's time limit.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from modules.common.config import ConfigReader
from modules.common.keyfiles import derive_sm4_key, read_key_ring
from modules.common.synapse.errors import ConfigError

MODULE = "modules.docs"
_KEY_LABEL = b"jwwx-docs-sm4-key:"


def derive_key(material: bytes) -> bytes:
    """The 16-byte SM4 key of a key file (any length of secret material)."""
    return derive_sm4_key(_KEY_LABEL, material)


@dataclass(frozen=True)
class WebSocketConfig:
    bind_address: str
    port: int | None
    public_url: str | None
    instance: str = "main"

    def resolved(self, public_baseurl: str) -> "WebSocketConfig":
        """With the public URL filled in from Synapse's public_baseurl."""
        if self.public_url is not None:
            return self
        url = re.sub(r"^http", "ws", public_baseurl.rstrip("/"))
        return replace(self, public_url=url)


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
    bot_localpart: str = "jwwx_docs"
    bot_name: str = "警务文档"
    soffice_path: str | None = None
    convert_timeout_seconds: int = 120

    @property
    def current_key(self) -> bytes:
        return self.keys[self.current_key_id]

    @staticmethod
    def parse(raw: Any) -> "DocsConfig":
        reader = ConfigReader(raw, MODULE)
        ring = read_key_ring(reader, MODULE, _KEY_LABEL)
        ws_raw = reader.mapping_or_none("websocket")
        d = DocsConfig(keys={}, current_key_id="")
        url = reader.optional_string("homeserver_url")
        if url is not None and not re.match(r"^https?://[^/\s]+", url):
            raise ConfigError(f"{MODULE}.homeserver_url: must be an http(s) URL")
        config = DocsConfig(
            keys=ring.keys,
            current_key_id=ring.current_key_id,
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
            bot_localpart=reader.string("bot_localpart", d.bot_localpart),
            bot_name=reader.string("bot_name", d.bot_name),
            soffice_path=reader.optional_string("soffice_path"),
            convert_timeout_seconds=reader.integer(
                "convert_timeout_seconds",
                d.convert_timeout_seconds,
                minimum=10,
                maximum=600,
            ),
        )
        if not re.fullmatch(r"[a-z0-9._=\-/]{1,64}", config.bot_localpart):
            raise ConfigError(f"{MODULE}.bot_localpart: not a Matrix localpart")
        reader.finish()
        return config


def _websocket(raw: Any) -> WebSocketConfig:
    where = f"{MODULE}.websocket"
    reader = ConfigReader(raw, where)
    bind = reader.string("bind_address", "127.0.0.1")
    port: int | None = None
    if reader.present("port"):
        port = reader.integer("port", 0, minimum=1, maximum=65535)
    public_url = reader.optional_string("public_url")
    if public_url is None and port is not None:
        public_url = f"ws://{bind}:{port}"
    instance = reader.string("instance", "main")
    reader.finish()
    if public_url is not None and not re.match(r"^wss?://[^/\s]+", public_url):
        raise ConfigError(f"{where}.public_url: must be a ws:// or wss:// URL")
    url = public_url.rstrip("/") if public_url else None
    return WebSocketConfig(bind, port, url, instance)
