# SPDX-License-Identifier: AGPL-3.0-or-later
"""Config of the ministry IM bridge (a YAML file of its own, `--config`).

Keys:
  server_name (string, required): the homeserver's server name.
  homeserver_url (string, required): the homeserver's client API, e.g.
      http://127.0.0.1:8008; in a worker deployment (`init --workers`) nginx's
      listener, since files are uploaded and downloaded on the media worker only.
  bridge_url (string, required): where the homeserver and the ministry reach the
      bridge (the registration's `url`; the ministry calls {bridge_url}/relay/v1/...);
      `run` listens on its host and port (TLS in front of it is nginx's).
  registration_id (string, default "jwwx_ministry_im"): the application service's id;
      modules.crossdomain's `bridges` must name it (permission and directory).
  as_token_file, hs_token_file (paths, required): the registration's two secrets,
      created (mode 0600) when missing.
  sender_localpart (string, default "jwwx_ministry"): the bridge's bot (officers ask
      it `查找 NAME` for the ministry's contacts).
  user_prefix (string, default "ministry_"): a ministry user is the puppet
      @<prefix><ministry id>:server_name (claimed exclusively).
  system_id (string, required): our system's id in the ministry protocol (X-Relay-Id
      of what we send).
  peer_id (string, required): the ministry's system id (X-Relay-Id of what it sends).
  peer_url (string, required): the ministry's endpoint ({peer_url}/relay/v1/{kind}).
  signing_key_file (path, required): our HMAC-SM3 key (at least 32 bytes).
  peer_signing_key_file (path, required): the ministry's HMAC-SM3 key (≥ 32 bytes).
  sm4_keys (mapping key id → path, required): the shared SM4 keys (32 hex digits in
      each file); both sides accept every listed id.
  sm4_key_id (string, required): the id we encrypt with (one of sm4_keys).
  database (path, default "ministry_im.sqlite3"): the bridge's queues and mappings
      (SQLite, one bridge process owns it).
  spool_dir (path, default "ministry_im_spool"): files in transit (mode 0700).
  clock_skew_seconds (int 30..3600, default 300): a request's timestamp may be this
      far off; its nonce is remembered twice as long.
  max_body_bytes (int 65536..8388608, default 1048576): larger requests get 413.
  chunk_bytes (int 4096..524288, default 262144): our file chunk size.
  max_file_bytes (int, default 104857600): larger files are refused either way.
  retry_min_seconds (number ≥ 0.1, default 1), retry_max_seconds (number ≥ 1,
      default 60): back-off of a failed delivery (doubling, capped).
  crash_points_dir (path, default none; for tests only): fault injection. When the
      bridge reaches a crash point and a file named after it is in this directory, it
      deletes the file and kills itself (SIGKILL), as a crash right there would.
      Points: `after_create_room` (a portal room created, not yet recorded).
Relative paths are relative to the config file's directory.
"""

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bridges.common.config import load_yaml_config, localpart_key, path_key, url_key
from bridges.ministry_im.protocol import Keys
from modules.common.config import ConfigReader
from modules.common.synapse.errors import ConfigError

MODULE = "bridges.ministry_im"
SYSTEM_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
MIN_SIGNING_BYTES = 32


@dataclass(frozen=True)
class MinistryConfig:
    server_name: str
    homeserver_url: str
    bridge_url: str
    as_token_file: Path
    hs_token_file: Path
    system_id: str
    peer_id: str
    peer_url: str
    ours: Keys = field(repr=False)  # what we sign and seal with
    theirs: Keys = field(repr=False)  # what the ministry's requests are checked with
    database: Path
    spool_dir: Path
    registration_id: str = "jwwx_ministry_im"
    sender_localpart: str = "jwwx_ministry"
    user_prefix: str = "ministry_"
    clock_skew_seconds: int = 300
    max_body_bytes: int = 1048576
    chunk_bytes: int = 262144
    max_file_bytes: int = 104857600
    retry_min_seconds: float = 1.0
    retry_max_seconds: float = 60.0
    crash_points_dir: Path | None = None

    @property
    def bot_user_id(self) -> str:
        return f"@{self.sender_localpart}:{self.server_name}"

    def puppet(self, ministry_user: str) -> str:
        return f"@{self.user_prefix}{ministry_user}:{self.server_name}"

    def ministry_user(self, user_id: str) -> str | None:
        """The ministry id of a puppet's user id, None for anyone else."""
        head = f"@{self.user_prefix}"
        tail = f":{self.server_name}"
        if user_id.startswith(head) and user_id.endswith(tail):
            return user_id[len(head) : -len(tail)] or None
        return None


def _path(reader: ConfigReader, key: str, base: Path, default: str) -> Path:
    path = Path(reader.string(key, default))
    return path if path.is_absolute() else base / path


def _optional_path(reader: ConfigReader, key: str, base: Path) -> Path | None:
    value = reader.optional_string(key)
    if value is None:
        return None
    return Path(value) if Path(value).is_absolute() else base / value


def _read(path: Path, key: str) -> bytes:
    try:
        return path.read_bytes().strip()
    except OSError as e:
        raise ConfigError(f"{MODULE}.{key}: cannot read {path}: {e}") from e


def _signing(reader: ConfigReader, key: str, base: Path) -> bytes:
    secret = _read(path_key(reader, key, base), key)
    if len(secret) < MIN_SIGNING_BYTES:
        raise ConfigError(f"{MODULE}.{key}: the key must have at least 32 bytes")
    return secret


def _sm4_keys(reader: ConfigReader, base: Path) -> dict[str, bytes]:
    raw = reader.mapping_or_none("sm4_keys")
    if not raw:
        raise ConfigError(f"{MODULE}.sm4_keys: required, a mapping key id → file")
    keys = {}
    for key_id, file in raw.items():
        where = f"sm4_keys.{key_id}"
        if not isinstance(key_id, str) or not SYSTEM_ID.match(key_id):
            raise ConfigError(f"{MODULE}.sm4_keys: bad key id {key_id!r}")
        if not isinstance(file, str):
            raise ConfigError(f"{MODULE}.{where}: must be a path")
        path = Path(file) if Path(file).is_absolute() else base / file
        text = _read(path, where).decode("ascii", "replace")
        if not re.fullmatch(r"[0-9a-fA-F]{32}", text):
            raise ConfigError(f"{MODULE}.{where}: the file must hold 32 hex digits")
        keys[key_id] = bytes.fromhex(text)
    return keys


def _system(reader: ConfigReader, key: str) -> str:
    value = reader.string(key, required=True)
    if not SYSTEM_ID.match(value):
        raise ConfigError(f"{MODULE}.{key}: must be 1-64 of [A-Za-z0-9_.:-]")
    return value


def parse_config(raw: Any, base: Path) -> MinistryConfig:
    reader = ConfigReader(raw, MODULE)
    system_id, peer_id = _system(reader, "system_id"), _system(reader, "peer_id")
    sm4 = _sm4_keys(reader, base)
    key_id = reader.string("sm4_key_id", required=True)
    if key_id not in sm4:
        raise ConfigError(f"{MODULE}.sm4_key_id: must be one of {', '.join(sm4)}")
    ours = Keys(system_id, _signing(reader, "signing_key_file", base), sm4, key_id)
    theirs = Keys(peer_id, _signing(reader, "peer_signing_key_file", base), sm4, key_id)
    retry_min = reader.number("retry_min_seconds", 1.0, minimum=0.1)
    config = MinistryConfig(
        server_name=reader.string("server_name", required=True),
        homeserver_url=url_key(reader, "homeserver_url", MODULE),
        bridge_url=url_key(reader, "bridge_url", MODULE),
        as_token_file=path_key(reader, "as_token_file", base),
        hs_token_file=path_key(reader, "hs_token_file", base),
        system_id=system_id,
        peer_id=peer_id,
        peer_url=url_key(reader, "peer_url", MODULE),
        ours=ours,
        theirs=theirs,
        database=_path(reader, "database", base, "ministry_im.sqlite3"),
        spool_dir=_path(reader, "spool_dir", base, "ministry_im_spool"),
        registration_id=localpart_key(
            reader, "registration_id", "jwwx_ministry_im", MODULE
        ),
        sender_localpart=localpart_key(
            reader, "sender_localpart", "jwwx_ministry", MODULE
        ),
        user_prefix=localpart_key(reader, "user_prefix", "ministry_", MODULE),
        clock_skew_seconds=reader.integer(
            "clock_skew_seconds", 300, minimum=30, maximum=3600
        ),
        max_body_bytes=reader.integer(
            "max_body_bytes", 1048576, minimum=65536, maximum=8388608
        ),
        chunk_bytes=reader.integer("chunk_bytes", 262144, minimum=4096, maximum=524288),
        max_file_bytes=reader.integer(
            "max_file_bytes", 104857600, minimum=4096, maximum=10**10
        ),
        retry_min_seconds=retry_min,
        retry_max_seconds=reader.number("retry_max_seconds", 60.0, minimum=1.0),
        crash_points_dir=_optional_path(reader, "crash_points_dir", base),
    )
    reader.finish()
    if system_id == peer_id:
        raise ConfigError(f"{MODULE}.peer_id: must differ from system_id")
    if config.sender_localpart.startswith(config.user_prefix):
        raise ConfigError(f"{MODULE}.sender_localpart: must not start with user_prefix")
    # A base64 chunk inside the sealed JSON must fit one request.
    if config.chunk_bytes * 2 + 4096 > config.max_body_bytes:
        raise ConfigError(f"{MODULE}.chunk_bytes: too large for max_body_bytes")
    return config


def load_config(path: Path) -> MinistryConfig:
    return load_yaml_config(path, MODULE, parse_config)
